/// The OpenCL C source of each kernel family, embedded into the binary from the `.cl` files beside this one.
public enum KernelSource: String, CaseIterable, Sendable {
    case elementwise, reduction, softmax, pooling, convolution, optimizers, direct, normalization

    /// The program's OpenCL C text.
    public var text: String {
        let bytes: [UInt8] =
            switch self {
            case .elementwise: PackageResources.elementwise_cl
            case .reduction: PackageResources.reduction_cl
            case .softmax: PackageResources.softmax_cl
            case .pooling: PackageResources.pooling_cl
            case .convolution: PackageResources.convolution_cl
            case .optimizers: PackageResources.optimizers_cl
            case .direct: PackageResources.direct_cl
            case .normalization: PackageResources.normalization_cl
            }
        return String(decoding: bytes, as: UTF8.self)
    }
}
