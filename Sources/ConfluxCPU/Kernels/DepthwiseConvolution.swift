import Conflux
import VectorKernels

/// A depthwise convolution (one group per input channel, MobileNet's 3×3 layers) through the vector kernels:
/// each output plane from its input plane directly, planes split across the cores. Through im2col each group
/// would be a GEMM of one output row, at a few GFLOP/s.
struct DepthwiseConvolution {
    private var plane = vk_depthwise()
    private let geometry: WindowGeometry
    private let outChannels: Int
    private let device: CPUDevice

    /// The depthwise kernels for `geometry`, or nil when its groups are not one per input channel.
    init?(_ geometry: WindowGeometry, outChannels: Int, on device: CPUDevice) {
        let g = geometry
        guard g.groups == g.channels, g.groups > 1 else { return nil }
        vk_depthwise_init(
            &plane, Int32(g.height), Int32(g.width), Int32(g.kernelHeight), Int32(g.kernelWidth),
            Int32(g.strideHeight), Int32(g.strideWidth), Int32(g.dilationHeight), Int32(g.dilationWidth),
            Int32(g.padTop), Int32(g.padLeft), Int32(g.outHeight), Int32(g.outWidth))
        (self.geometry, self.outChannels, self.device) = (g, outChannels, device)
    }

    /// y = max(conv(x, filter) + bias, 0 when `relu`); output channel o reads input channel o / (outChannels /
    /// channels).
    func forward(
        _ x: UnsafePointer<Float>, _ filter: UnsafePointer<Float>, bias: UnsafePointer<Float>?, relu: Bool,
        into y: UnsafeMutablePointer<Float>
    ) {
        let g = geometry
        let forward = device.vectorKernels.pointee.depthwise_forward!
        let (inputPlane, outputPlane) = (g.height * g.width, g.outHeight * g.outWidth)
        let (taps, multiplier) = (g.kernelHeight * g.kernelWidth, outChannels / g.channels)
        withUnsafePointer(to: plane) { plane in
            device.parallelChunks(g.batch * outChannels) { worker, planes in
                let scratch = device.scratch(worker: worker, slot: 0, count: Int(plane.pointee.scratch_size))
                for index in planes {
                    let (n, o) = index.quotientAndRemainder(dividingBy: outChannels)
                    forward(
                        plane, x + (n * g.channels + o / multiplier) * inputPlane, filter + o * taps, bias?[o] ?? 0,
                        relu ? 1 : 0, y + index * outputPlane, scratch)
                }
            }
        }
    }
}
