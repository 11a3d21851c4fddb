import Foundation

/// Measures a device's `DeviceProfile` by running small graphs on it, and keeps the result on disk
/// (`CacheDirectory.folder("profiles")`) so a device is measured once.
public enum Calibration {
    /// The profile of `device`: from the cache if it was measured before, else measured now (a second or two,
    /// more when an OpenCL compiler builds the programs cold), after calling `willMeasure`.
    public static func profile(
        of device: any Device, kernels: KernelRegistry, cache: URL? = CacheDirectory.folder("profiles"),
        willMeasure: (any Device) -> Void = { _ in }
    ) throws -> DeviceProfile {
        let identity = [device.id, device.name, buildConfiguration] + device.properties.map { "\($0.0)=\($0.1)" }
        let file = cache?.appendingPathComponent(
            "\(device.id.replacingOccurrences(of: ":", with: "-"))-\(CacheDirectory.key(identity)).json")
        if let file, let data = try? Data(contentsOf: file),
            let profile = try? JSONDecoder().decode(DeviceProfile.self, from: data)
        {
            return profile
        }
        willMeasure(device)
        let profile = try measure(device, kernels: kernels)
        if let file, let data = try? JSONEncoder().encode(profile) {
            try? FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? OutputFile.write(data, to: file.path)
        }
        return profile
    }

    /// Part of a profile's identity: the CPU's Swift kernels run several times slower unoptimised, so a profile
    /// measured by a debug build (the tests) must not guide a release build's placement.
    #if DEBUG
        static let buildConfiguration = "debug build"
    #else
        static let buildConfiguration = "release build"
    #endif

    /// Times a 256³ matrix product, an element-wise pass over 4 MB, a chain of tiny kernels and a 4 MB round trip.
    public static func measure(_ device: any Device, kernels: KernelRegistry) throws -> DeviceProfile {
        let graph = Graph(seed: 1)
        let (n, elements, chain) = (256, 1 << 20, 16)
        let matrix = try graph.variable([n, n], initializer: .constant(0.5))
        let product = try sum(matmul(matrix, matrix))
        let big = try graph.variable([elements], initializer: .constant(1))
        let pass = try sum(relu(big))
        var tiny = try graph.variable([1], initializer: .constant(1))
        for _ in 0..<chain { tiny = try relu(tiny) }
        let input = try graph.placeholder([elements])
        let roundTrip = try reshape(input, [elements])
        let session = Session(graph: graph, device: device, kernels: kernels)
        let feed = [input: HostTensor.zeros([elements])]

        let gemm = try bestTime { _ = try session.run(product) }
        let memory = try bestTime { _ = try session.run(pass) }
        let launch = try bestTime { _ = try session.run(tiny) } / Double(chain + 1)
        let transfer = try bestTime { _ = try session.run(roundTrip, feeds: feed) }
        return DeviceProfile(
            gflops: 2 * Double(n * n * n) / max(gemm - launch, 1e-7) / 1e9,
            memoryGBps: Double(3 * elements * 4) / max(memory - launch, 1e-7) / 1e9,
            transferGBps: Double(2 * elements * 4) / max(transfer - launch, 1e-7) / 1e9,
            launchMicroseconds: launch * 1e6)
    }

    /// The fastest of five timed runs, after one untimed run that builds and allocates.
    private static func bestTime(_ body: () throws -> Void) throws -> Double {
        try body()
        var best = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }
}
