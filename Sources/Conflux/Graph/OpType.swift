/// The name of an operation, as TensorFlow spells it (`Conv2D`, `MatMul`); kernels and gradients are keyed by it.
public struct OpType: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
}

extension OpType {
    public static let placeholder: OpType = "Placeholder"
    public static let constant: OpType = "Const"
    public static let variable: OpType = "Variable"
    public static let matMul: OpType = "MatMul"
    public static let add: OpType = "Add"
    public static let sub: OpType = "Sub"
    public static let mul: OpType = "Mul"
    public static let realDiv: OpType = "RealDiv"
    /// The gradient of a broadcast input: the output's gradient summed back to the input's shape.
    public static let sumToShape: OpType = "SumToShape"
    public static let biasAdd: OpType = "BiasAdd"
    public static let biasAddGrad: OpType = "BiasAddGrad"
    public static let conv2D: OpType = "Conv2D"
    public static let conv2DBackpropInput: OpType = "Conv2DBackpropInput"
    public static let conv2DBackpropFilter: OpType = "Conv2DBackpropFilter"
    public static let maxPool: OpType = "MaxPool"
    public static let maxPoolGrad: OpType = "MaxPoolGrad"
    public static let avgPool: OpType = "AvgPool"
    public static let avgPoolGrad: OpType = "AvgPoolGrad"
    public static let relu: OpType = "Relu"
    public static let reluGrad: OpType = "ReluGrad"
    public static let tanh: OpType = "Tanh"
    public static let tanhGrad: OpType = "TanhGrad"
    public static let sigmoid: OpType = "Sigmoid"
    public static let sigmoidGrad: OpType = "SigmoidGrad"
    public static let softmax: OpType = "Softmax"
    public static let softmaxGrad: OpType = "SoftmaxGrad"
    public static let logSoftmax: OpType = "LogSoftmax"
    public static let logSoftmaxGrad: OpType = "LogSoftmaxGrad"
    public static let leakyRelu: OpType = "LeakyRelu"
    public static let leakyReluGrad: OpType = "LeakyReluGrad"
    public static let clip: OpType = "Clip"
    public static let clipGrad: OpType = "ClipGrad"
    public static let hardSwish: OpType = "HardSwish"
    public static let hardSwishGrad: OpType = "HardSwishGrad"
    public static let batchNorm: OpType = "FusedBatchNorm"
    public static let batchNormGrad: OpType = "FusedBatchNormGrad"
    public static let batchNormScaleGrad: OpType = "BatchNormScaleGrad"
    public static let batchNormStatisticsUpdate: OpType = "BatchNormStatisticsUpdate"
    public static let softmaxCrossEntropy: OpType = "SoftmaxCrossEntropy"
    public static let softmaxCrossEntropyGrad: OpType = "SoftmaxCrossEntropyGrad"
    public static let reshape: OpType = "Reshape"
    public static let transpose: OpType = "Transpose"
    public static let slice: OpType = "Slice"
    public static let sliceGrad: OpType = "SliceGrad"
    public static let pad: OpType = "Pad"
    public static let concat: OpType = "ConcatV2"
    public static let sum: OpType = "Sum"
    public static let mean: OpType = "Mean"
    public static let reduceGrad: OpType = "ReduceGrad"
    public static let argMax: OpType = "ArgMax"
    public static let accuracy: OpType = "Accuracy"
    public static let assignAdd: OpType = "AssignAdd"
    public static let dropout: OpType = "Dropout"
    public static let dropoutGrad: OpType = "DropoutGrad"
    public static let applyMomentum: OpType = "ApplyMomentum"
    public static let applyAdam: OpType = "ApplyAdam"
    /// A convolution or matrix product with its bias and ReLU applied as the output is written; the fusion pass
    /// (`Fusion`) plans them in place of the separate ops, so no graph builder makes them.
    public static let fusedConv2D: OpType = "_FusedConv2D"
    public static let fusedMatMul: OpType = "_FusedMatMul"
    /// MaxPoolGrad with the ReluGrad of the ReLU whose output was pooled, planned by `Fusion`.
    public static let fusedMaxPoolGrad: OpType = "_FusedMaxPoolGrad"
}
