/// How fast a device is, as the placer's cost model sees it: measured once per device by `Calibration`.
public struct DeviceProfile: Codable, Equatable, Sendable {
    /// Sustained matrix-multiply throughput, GFLOP/s.
    public var gflops: Double
    /// Bandwidth of an element-wise kernel over its own memory, GB/s.
    public var memoryGBps: Double
    /// Bandwidth of copies between the host and the device, GB/s.
    public var transferGBps: Double
    /// The fixed cost of one kernel or copy, microseconds.
    public var launchMicroseconds: Double

    public init(gflops: Double, memoryGBps: Double, transferGBps: Double, launchMicroseconds: Double) {
        self.gflops = gflops
        self.memoryGBps = memoryGBps
        self.transferGBps = transferGBps
        self.launchMicroseconds = launchMicroseconds
    }
}
