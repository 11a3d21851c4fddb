import Conflux
import VectorKernels

/// A stride-1 convolution through the vector kernels of `VectorKernels.h`: direct loops over a zero-padded copy
/// of each image, with no im2col buffer, the bias and ReLU applied as the output is written.
struct DirectConvolution {
    private var layout = vk_conv()
    private let device: CPUDevice
    private let batch: Int

    /// The direct kernels for `geometry` with `outChannels` filters, or nil for a stride, dilation or grouping
    /// they do not handle.
    init?(_ geometry: WindowGeometry, outChannels: Int, on device: CPUDevice) {
        let g = geometry
        guard g.strideHeight == 1, g.strideWidth == 1, g.isDense else { return nil }
        vk_conv_init(
            &layout, device.vectorKernels, Int32(g.channels), Int32(g.height), Int32(g.width), Int32(outChannels),
            Int32(g.kernelHeight), Int32(g.kernelWidth), Int32(g.padTop), Int32(g.padLeft), Int32(g.outHeight),
            Int32(g.outWidth))
        self.device = device
        batch = g.batch
    }

    private var imageSize: Int { Int(layout.channels * layout.height * layout.width) }
    private var outputSize: Int { Int(layout.out_channels * layout.out_h * layout.out_w) }

    /// y = max(conv(x, filter) + bias, 0 when `relu`): images split across the cores, or, with fewer images than
    /// cores, each image's output channels (inference at batch 1 would otherwise leave all cores but one idle).
    func forward(
        _ x: UnsafePointer<Float>, _ filter: UnsafePointer<Float>, bias: UnsafePointer<Float>? = nil,
        relu: Bool = false, into y: UnsafeMutablePointer<Float>
    ) {
        let forward = device.vectorKernels.pointee.conv_forward!
        let (lanes, channels, group) = (Int(layout.lanes), Int(layout.padded_out_channels), Int(layout.group))
        let packed = pack(
            filter, size: Int(layout.packed_filter_size), blocks: channels / group, packing: vk_conv_pack_filter)
        // The unit of work when cores share an image: a pair of channel vectors (the register block) by channel,
        // a group of channels by position.
        let unit = layout.by_channel != 0 ? 2 * lanes : group
        guard batch < device.workers, channels >= 2 * unit else {
            return forEachImage { layout, n, scratch in
                forward(
                    layout, x + n * imageSize, packed, bias, relu ? 1 : 0, y + n * outputSize, scratch, 0,
                    Int32(channels))
            }
        }
        withUnsafePointer(to: layout) { layout in
            device.parallelChunks((channels + unit - 1) / unit) { worker, range in
                let scratch = device.scratch(worker: worker, slot: 0, count: Int(layout.pointee.scratch_size))
                let (first, end) = (range.lowerBound * unit, min(range.upperBound * unit, channels))
                for n in 0..<batch {
                    forward(
                        layout, x + n * imageSize, packed, bias, relu ? 1 : 0, y + n * outputSize, scratch,
                        Int32(first), Int32(end))
                }
            }
        }
    }

    /// The input gradient dx = dy ⋆ᵀ filter, images split across the cores.
    func inputGradient(
        _ filter: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>
    ) {
        let gradient = device.vectorKernels.pointee.conv_input_gradient!
        let size = Int(layout.input_gradient_filter_size)
        let packed = pack(
            filter, size: size, blocks: size / Int(layout.taps) / Int(layout.lanes),
            packing: vk_conv_pack_filter_for_input_gradient)
        forEachImage { layout, n, scratch in gradient(layout, dy + n * outputSize, packed, dx + n * imageSize, scratch)
        }
    }

    /// `filter` laid out by `packing` into `size` floats every worker reads, its `blocks` blocks of output channels
    /// split across the cores: a pass over the filter (9 MB for ResNet-18's last layers) on every call.
    private func pack(
        _ filter: UnsafePointer<Float>, size: Int, blocks: Int,
        packing: (UnsafePointer<vk_conv>, UnsafePointer<Float>, Int32, Int32, UnsafeMutablePointer<Float>) -> Void
    ) -> UnsafePointer<Float> {
        let packed = device.sharedScratch(count: size)
        withUnsafePointer(to: layout) { layout in
            device.parallelChunks(blocks) { _, range in
                packing(layout, filter, Int32(range.lowerBound), Int32(range.upperBound), packed)
            }
        }
        return UnsafePointer(packed)
    }

    /// `body(layout, image, scratch)` for every image, images split across the cores.
    private func forEachImage(_ body: (UnsafePointer<vk_conv>, Int, UnsafeMutablePointer<Float>) -> Void) {
        withUnsafePointer(to: layout) { layout in
            device.parallelChunks(batch) { worker, images in
                let scratch = device.scratch(worker: worker, slot: 0, count: Int(layout.pointee.scratch_size))
                for n in images { body(layout, n, scratch) }
            }
        }
    }

    /// The filter gradient Σn dy[n] ⋆ x[n], each core summing its images into its own partial sum.
    func filterGradient(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>) {
        var partials = [UnsafePointer<Float>?](repeating: nil, count: device.workers)
        withUnsafePointer(to: layout) { layout in
            let gradient = device.vectorKernels.pointee.conv_filter_gradient!
            partials.withUnsafeMutableBufferPointer { partials in
                device.parallelChunks(batch) { worker, images in
                    let scratch = device.scratch(worker: worker, slot: 0, count: Int(layout.pointee.scratch_size))
                    let size = Int(layout.pointee.filter_partial_size)
                    let partial = device.scratch(worker: worker, slot: 1, count: size)
                    partial.update(repeating: 0, count: size)
                    for n in images { gradient(layout, x + n * imageSize, dy + n * outputSize, partial, scratch) }
                    partials[worker] = UnsafePointer(partial)
                }
            }
            let finished: [UnsafePointer<Float>?] = partials.filter { $0 != nil }
            finished.withUnsafeBufferPointer { vk_conv_filter_gradient(layout, $0.baseAddress, Int32($0.count), dw) }
        }
    }
}
