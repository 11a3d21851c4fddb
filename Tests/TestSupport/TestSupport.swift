import Conflux
import ConfluxCPU
import ConfluxOpenCL
import XCTest

/// The CPU backend alone.
public func cpuDevices() throws -> DeviceSet { try DeviceSet(backends: [CPUBackend.self]) }

/// Every backend, discovered once per test process so that each OpenCL device builds its programs once.
public let allDevices = Result { try DeviceSet(backends: [CPUBackend.self, OpenCLBackend.self]) }

/// The OpenCL devices found, at least one. Without any the calling test is skipped, saying so: the suite runs on a
/// machine with no OpenCL device. `scripts/test.sh` installs PoCL and sets `CONFLUX_TEST_REQUIRE_OPENCL=1`, which
/// turns a missing device into a failure, so a broken OpenCL install never passes as a skip.
public func openCLDevices(file: StaticString = #filePath, line: UInt = #line) throws -> [any Device] {
    let devices = try allDevices.get().devices.filter { $0.kind == .opencl }
    if devices.isEmpty {
        let message = "no OpenCL device found (install pocl-opencl-icd, as scripts/install-deps.sh does)"
        guard ProcessInfo.processInfo.environment["CONFLUX_TEST_REQUIRE_OPENCL"] != "1" else {
            XCTFail(message + "; CONFLUX_TEST_REQUIRE_OPENCL=1 says there must be one", file: file, line: line)
            return devices
        }
        throw XCTSkip(message + ": this test needs one", file: file, line: line)
    }
    return devices
}

/// Every device found other than `cpu:0`, the reference the parity tests compare them with; skips the calling
/// test when there is none, as `openCLDevices` does.
public func devicesBesideTheCPU(file: StaticString = #filePath, line: UInt = #line) throws -> [any Device] {
    let others = try allDevices.get().devices.filter { $0.id != "cpu:0" }
    if others.isEmpty { _ = try openCLDevices(file: file, line: line) }
    return others
}

/// A Float32 tensor of reproducible random values in [low, high).
public func randomTensor(_ shape: Shape, seed: UInt64, in range: ClosedRange<Float> = -1...1) -> HostTensor {
    ParityInputs.uniform(shape, seed: seed, range)
}

/// Asserts |actual - expected| ≤ absolute + relative·|expected| element-wise, reporting the worst element.
public func assertClose(
    _ actual: [Float], _ expected: [Float], relative: Float, absolute: Float, _ message: @autoclosure () -> String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    guard actual.count == expected.count else {
        return XCTFail("\(message()): \(actual.count) values, expected \(expected.count)", file: file, line: line)
    }
    var worst: (index: Int, excess: Float)? = nil
    for i in actual.indices {
        let excess = abs(actual[i] - expected[i]) - (absolute + relative * abs(expected[i]))
        if !(excess <= 0), worst.map({ excess > $0.excess }) ?? true { worst = (i, excess.isNaN ? .infinity : excess) }
    }
    if let (i, _) = worst {
        XCTFail(
            "\(message()): element \(i) is \(actual[i]), expected \(expected[i]) "
                + "(tolerance \(absolute) + \(relative)·|expected|)", file: file, line: line)
    }
}

/// A graph with one session on the CPU device, for running small graphs in tests.
public final class CPUHarness {
    public let graph: Graph
    public let devices: DeviceSet
    public let device: CPUDevice
    public private(set) lazy var session = Session(graph: graph, device: device, kernels: devices.kernels)

    /// A harness whose CPU device runs the vector kernels of `instructionSet` (the widest the processor has
    /// when nil).
    public init(seed: UInt64 = 0, instructionSet: String? = nil) throws {
        graph = Graph(seed: seed)
        devices = try cpuDevices()
        device = try instructionSet.map { try CPUDevice(instructionSet: $0) } ?? CPUDevice()
    }

    /// Runs `fetches` with `feeds` and returns their values as Float arrays.
    public func values(_ fetches: [Tensor], _ feeds: [Tensor: HostTensor] = [:]) throws -> [[Float]] {
        try session.run(fetches, feeds: feeds).map(\.floats)
    }
}

/// A session over `devices` that runs each node where the graph's device scopes asked; nodes without a request
/// go where a uniform synthetic profile puts them.
public func requestedPlacementSession(_ graph: Graph, devices: [any Device], kernels: KernelRegistry) throws -> Session
{
    let profiles = devices.map {
        PlacementDevice(
            id: $0.id, kind: $0.kind,
            profile: DeviceProfile(gflops: 1, memoryGBps: 1, transferGBps: 1, launchMicroseconds: 1))
    }
    let placement = try Placer(devices: profiles, kernels: kernels).place(graph)
    return Session(graph: graph, placement: placement, devices: devices, kernels: kernels)
}

/// The process's resident memory in bytes, from /proc/self/statm.
public func residentBytes() throws -> Int {
    let statm = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8).split(separator: " ")
    guard statm.count > 1, let pages = Int(statm[1]) else {
        throw ConfluxError.invalidArgument(op: "residentBytes", reason: "unexpected /proc/self/statm: \(statm)")
    }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
