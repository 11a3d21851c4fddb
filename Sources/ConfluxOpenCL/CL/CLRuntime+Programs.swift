import COpenCL
import Conflux
import Foundation
import Kernels

/// Sizes fixed when a program is compiled (`-DNAME=value`), so that loops over them unroll and index arithmetic
/// folds: one program per family and specialization.
typealias Specialization = [String: Int]

/// A program: a kernel family's source and the sizes it was specialized for.
struct ProgramKey: Hashable {
    let source: KernelSource
    let specialization: Specialization
}

/// A kernel of one program.
struct KernelKey: Hashable {
    let program: ProgramKey
    let name: String
}

/// Programs built once per runtime (from the disk cache when it holds them) and the kernels launched from them.
extension CLRuntime {
    /// Enqueues kernel `name` of `source` over `global` work-items (rounded up to a multiple of `local` if given).
    func launch(_ source: KernelSource, _ name: String, global: Int, local: Int? = nil, _ arguments: [KernelArgument])
        throws
    {
        try launch(source, name, global: [global], local: local.map { [$0] }, arguments)
    }

    /// Enqueues kernel `name` of `source`, built with `specialization`'s sizes as compile-time constants, over a
    /// range of up to three dimensions: `global` rounded up to multiples of `local` when it is given (the kernel
    /// checks its bounds), the work-group size left to the driver when not.
    func launch(
        _ source: KernelSource, _ name: String, specialization: Specialization = [:], global: [Int], local: [Int]?,
        _ arguments: [KernelArgument]
    ) throws {
        guard global.allSatisfy({ $0 > 0 }) else { return }
        let kernel = try self.kernel(source, name, specialization)
        for (index, argument) in arguments.enumerated() {
            let status: cl_int
            switch argument {
            case .buffer(let mem):
                var value: cl_mem? = mem
                status = clSetKernelArg(kernel, cl_uint(index), MemoryLayout<cl_mem?>.size, &value)
            case .int(let int):
                var value = Int32(int)
                status = clSetKernelArg(kernel, cl_uint(index), 4, &value)
            case .float(let float):
                var value = float
                status = clSetKernelArg(kernel, cl_uint(index), 4, &value)
            case .ints8(let ints):
                precondition(ints.count <= 8, "more than eight integers for \(name)")
                var value = ints.map(Int32.init) + [Int32](repeating: 0, count: 8 - ints.count)
                status = clSetKernelArg(kernel, cl_uint(index), 32, &value)
            }
            try check(status, "clSetKernelArg(\(name), \(index))")
        }
        var globalSize = local.map { local in zip(global, local).map { ($0 + $1 - 1) / $1 * $1 } } ?? global
        var localSize = local ?? []
        let dimensions = cl_uint(global.count)
        let status =
            local == nil
            ? clEnqueueNDRangeKernel(queue, kernel, dimensions, nil, &globalSize, nil, 0, nil, nil)
            : clEnqueueNDRangeKernel(queue, kernel, dimensions, nil, &globalSize, &localSize, 0, nil, nil)
        try check(status, "clEnqueueNDRangeKernel(\(name), \(globalSize) work-items)")
        if synchronous { try finish() }
    }

    /// Waits after a library call (CLBlast) when the debug switch asks for it.
    func afterLibraryCall() throws {
        if synchronous { try finish() }
    }

    private func kernel(_ source: KernelSource, _ name: String, _ specialization: Specialization) throws -> cl_kernel {
        let key = ProgramKey(source: source, specialization: specialization)
        if let kernel = kernels[KernelKey(program: key, name: name)] { return kernel }
        let program = try self.program(key)
        var status: cl_int = 0
        let kernel = clCreateKernel(program, name, &status)
        try check(status, "clCreateKernel(\(name))")
        kernels[KernelKey(program: key, name: name)] = kernel!
        return kernel!
    }

    private func program(_ key: ProgramKey) throws -> cl_program {
        if let program = programs[key] { return program }
        let defines = key.specialization.sorted { $0.key < $1.key }.map { " -D\($0.key)=\($0.value)" }.joined()
        let name = key.specialization.isEmpty ? key.source.rawValue : "\(key.source.rawValue) (\(defines.dropFirst()))"
        let program = try build(name: name, source: key.source.text, defines: defines)
        programs[key] = program
        return program
    }

    /// Builds `source` for the device with `defines` (` -DNAME=value` each) added to its options, from the disk
    /// cache when a binary for the same source, options, device, driver and platform is there; a build failure
    /// throws the compiler's log.
    func build(name: String, source: String, defines: String = "") throws -> cl_program {
        let start = Date()
        defer {
            buildStatistics.programs += 1
            buildStatistics.seconds += Date().timeIntervalSince(start)
        }
        let options = "-cl-std=CL1.2 -DGROUP=\(groupSize)" + defines
        let entry = cache.entry(program: name, key: [source, options] + cacheKey)
        if let entry, let binary = cache.load(entry), let program = try? buildFromBinary(binary, options: options) {
            buildStatistics.fromCache += 1
            return program
        }
        var status: cl_int = 0
        let program = source.withCString { text -> cl_program? in
            var pointer: UnsafePointer<CChar>? = text
            return clCreateProgramWithSource(context, 1, &pointer, nil, &status)
        }
        try check(status, "clCreateProgramWithSource(\(name))")
        var id: cl_device_id? = device
        guard clBuildProgram(program, 1, &id, options, nil, nil) == CL_SUCCESS else {
            let log = buildLog(program!)
            clReleaseProgram(program)
            throw ConfluxError.kernelBuild(program: name, device: deviceLabel, log: log)
        }
        if let entry, let binary = binary(of: program!) { cache.store(binary, as: entry) }
        return program!
    }

    private func buildFromBinary(_ binary: Data, options: String) throws -> cl_program {
        var status: cl_int = 0
        var binaryStatus: cl_int = 0
        var id: cl_device_id? = device
        var length = binary.count
        let program = binary.withUnsafeBytes { bytes -> cl_program? in
            var pointer: UnsafePointer<UInt8>? = bytes.bindMemory(to: UInt8.self).baseAddress
            return clCreateProgramWithBinary(context, 1, &id, &length, &pointer, &binaryStatus, &status)
        }
        try check(status, "clCreateProgramWithBinary")
        try check(binaryStatus, "clCreateProgramWithBinary")
        guard clBuildProgram(program, 1, &id, options, nil, nil) == CL_SUCCESS else {
            clReleaseProgram(program)
            throw ConfluxError.openCL(call: "clBuildProgram from a cached binary", status: "CL_BUILD_PROGRAM_FAILURE")
        }
        return program!
    }

    private func binary(of program: cl_program) -> Data? {
        var size = 0
        guard
            clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil)
                == CL_SUCCESS, size > 0
        else { return nil }
        var data = Data(count: size)
        let status = data.withUnsafeMutableBytes { bytes -> cl_int in
            var pointer: UnsafeMutableRawPointer? = bytes.baseAddress
            return clGetProgramInfo(
                program, cl_program_info(CL_PROGRAM_BINARIES), MemoryLayout<UnsafeMutableRawPointer?>.size, &pointer,
                nil)
        }
        return status == CL_SUCCESS ? data : nil
    }

    private func buildLog(_ program: cl_program) -> String {
        var size = 0
        let name = cl_program_build_info(CL_PROGRAM_BUILD_LOG)
        guard clGetProgramBuildInfo(program, device, name, 0, nil, &size) == CL_SUCCESS, size > 0 else {
            return "(no build log)"
        }
        var bytes = [CChar](repeating: 0, count: size)
        _ = clGetProgramBuildInfo(program, device, name, size, &bytes, nil)
        return String(cString: bytes)
    }
}
