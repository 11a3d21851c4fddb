import Conflux

/// Conversions between plain NCHW and channels-last NHWC (`TensorLayout.channelsLast`), for kernels that were
/// handed a channels-last tensor but run on plain ones.
enum ChannelsLast {
    /// `tensor`'s values in plain NCHW: itself when it is plain, else a plain copy.
    static func plain(_ tensor: DeviceTensor, _ layout: TensorLayout, on cpu: CPUDevice) -> DeviceTensor {
        guard layout == .channelsLast else { return tensor }
        let copy = fresh(like: tensor)
        convert(tensor, into: copy, toChannelsLast: false, on: cpu)
        return copy
    }

    /// A new tensor of `tensor`'s shape: where a plain result is computed before it is converted.
    static func fresh(like tensor: DeviceTensor) -> DeviceTensor {
        DeviceTensor(shape: tensor.shape, dtype: tensor.dtype, storage: CPUStorage(byteCount: tensor.byteCount))
    }

    /// Copies `source` into `destination`, a tensor of the same shape, from NCHW to NHWC (`toChannelsLast`) or
    /// back: per image, a transpose of [C, H·W].
    static func convert(
        _ source: DeviceTensor, into destination: DeviceTensor, toChannelsLast: Bool, on cpu: CPUDevice
    ) {
        let (channels, plane) = (source.shape[1], source.shape[2] * source.shape[3])
        let (from, to) = (source.floats, destination.floats)
        cpu.parallelChunks(source.shape[0] * channels) { _, planes in
            for index in planes {
                let (image, channel) = index.quotientAndRemainder(dividingBy: channels)
                let (plain, last) = (index * plane, image * channels * plane + channel)
                for position in 0..<plane {
                    if toChannelsLast {
                        to[last + position * channels] = from[plain + position]
                    } else {
                        to[plain + position] = from[last + position * channels]
                    }
                }
            }
        }
    }
}
