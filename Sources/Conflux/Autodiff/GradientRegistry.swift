/// Given a node's output and the gradient flowing into it, builds the gradient of each input (nil where an input
/// has none, such as integer labels).
public typealias GradientFunction = (_ y: Tensor, _ dy: Tensor) throws -> [Tensor?]

/// The gradient function of each differentiable op, as TensorFlow's `RegisterGradient`.
public enum GradientRegistry {
    public static let functions: [OpType: GradientFunction] = [
        .matMul: matMulGradient,
        .add: { _, dy in [dy, dy] },
        .biasAdd: { _, dy in [dy, try biasAddGrad(dy)] },
        .reshape: { y, dy in
            let x = y.inputs[0]
            return [try reshape(dy, x.shape)]
        },
        .conv2D: { y, dy in
            let (x, w) = (y.inputs[0], y.inputs[1])
            return [
                try conv2DBackpropInput(w, dy, inputShape: x.shape, like: y.node),
                try conv2DBackpropFilter(x, dy, filterShape: w.shape, like: y.node),
            ]
        },
        .maxPool: { y, dy in [try maxPoolGrad(y.inputs[0], dy, like: y.node)] },
        .avgPool: { y, dy in [try avgPoolGrad(dy, inputShape: y.inputs[0].shape, like: y.node)] },
        .relu: { y, dy in [try activationGrad(.reluGrad, y: y, dy: dy)] },
        .tanh: { y, dy in [try activationGrad(.tanhGrad, y: y, dy: dy)] },
        .sigmoid: { y, dy in [try activationGrad(.sigmoidGrad, y: y, dy: dy)] },
        .softmax: { y, dy in [try activationGrad(.softmaxGrad, y: y, dy: dy)] },
        .softmaxCrossEntropy: { y, dy in
            let (logits, labels) = (y.inputs[0], y.inputs[1])
            return [try softmaxCrossEntropyGrad(logits: logits, labels: labels, dy: dy), nil]
        },
        .sum: { y, dy in [try reduceGrad(dy, like: y.inputs[0], mean: false)] },
        .mean: { y, dy in [try reduceGrad(dy, like: y.inputs[0], mean: true)] },
    ]

    /// y = op(A) · op(B): each input's gradient is a product of dy with the other input, transposed to fit.
    private static func matMulGradient(_ y: Tensor, _ dy: Tensor) throws -> [Tensor?] {
        let (a, b) = (y.inputs[0], y.inputs[1])
        let attributes = y.node.attributes
        switch (attributes.bool("transposeA"), attributes.bool("transposeB")) {
        case (false, false):
            return [try matmul(dy, b, transposeB: true), try matmul(a, dy, transposeA: true)]
        case (false, true):
            return [try matmul(dy, b), try matmul(dy, a, transposeA: true)]
        case (true, false):
            return [try matmul(b, dy, transposeB: true), try matmul(a, dy)]
        case (true, true):
            return [
                try matmul(b, dy, transposeA: true, transposeB: true),
                try matmul(dy, a, transposeA: true, transposeB: true),
            ]
        }
    }
}
