import Conflux
import Foundation

extension CPUKernels {
    /// loss[n] = log Σ exp(logits[n, :]) - logits[n, label[n]], computed with the row maximum subtracted.
    static func softmaxCrossEntropy(_ c: KernelContext) throws {
        let (logits, labels, loss) = (c.inputs[0].floats, c.inputs[1].ints, c.output.floats)
        let classes = c.inputs[0].shape[1]
        try checkLabels(c, classes: classes)
        rows(c) { row in
            let x = logits + row * classes
            var largest = -Float.infinity
            for j in 0..<classes { largest = max(largest, x[j]) }
            var total: Float = 0
            for j in 0..<classes { total += exp(x[j] - largest) }
            loss[row] = log(total) - (x[Int(labels[row])] - largest)
        }
    }

    /// dlogits[n, :] = (softmax(logits[n, :]) - onehot(label[n])) · dy[n]
    static func softmaxCrossEntropyGrad(_ c: KernelContext) throws {
        let (logits, labels, dy, dx) = (c.inputs[0].floats, c.inputs[1].ints, c.inputs[2].floats, c.output.floats)
        let classes = c.inputs[0].shape[1]
        try checkLabels(c, classes: classes)
        rows(c) { row in
            let out = dx + row * classes
            softmaxRow(logits + row * classes, into: out, classes)
            out[Int(labels[row])] -= 1
            for j in 0..<classes { out[j] *= dy[row] }
        }
    }

    static func sum(_ c: KernelContext) {
        c.output.floats[0] = Float(total(c.inputs[0]))
    }

    static func mean(_ c: KernelContext) {
        c.output.floats[0] = Float(total(c.inputs[0]) / Double(max(c.inputs[0].count, 1)))
    }

    /// Fills the output with the scalar gradient, divided by the element count for a mean.
    static func reduceGrad(_ c: KernelContext) {
        let count = c.output.count
        let value = c.inputs[0].floats[0] / (c.node.attributes.bool("mean") ? Float(max(count, 1)) : 1)
        c.output.floats.update(repeating: value, count: count)
    }

    static func argMax(_ c: KernelContext) {
        let (x, y, classes) = (c.inputs[0].floats, c.output.ints, c.inputs[0].shape[1])
        rows(c) { row in y[row] = Int32(argmaxRow(x + row * classes, classes)) }
    }

    static func accuracy(_ c: KernelContext) {
        let (x, labels) = (c.inputs[0].floats, c.inputs[1].ints)
        let (rows, classes) = (c.inputs[0].shape[0], c.inputs[0].shape[1])
        var correct = 0
        for row in 0..<rows where argmaxRow(x + row * classes, classes) == Int(labels[row]) { correct += 1 }
        c.output.floats[0] = rows == 0 ? 0 : Float(correct) / Float(rows)
    }

    /// The index of the first largest element.
    private static func argmaxRow(_ x: UnsafePointer<Float>, _ count: Int) -> Int {
        var best = 0
        for j in 1..<max(count, 1) where x[j] > x[best] { best = j }
        return best
    }

    /// The sum of a tensor's elements in double precision, so that large tensors lose no digits.
    private static func total(_ x: DeviceTensor) -> Double {
        var sum: Double = 0
        for i in 0..<x.count { sum += Double(x.floats[i]) }
        return sum
    }

    /// Throws unless every label (input 1) is a valid class index.
    private static func checkLabels(_ c: KernelContext, classes: Int) throws {
        let labels = c.inputs[1]
        for i in 0..<labels.count where labels.ints[i] < 0 || Int(labels.ints[i]) >= classes {
            throw DataCheck.labels(of: c.node, classes: classes).error(position: i, value: Int(labels.ints[i]))
        }
    }
}

extension CPUKernels {
    /// The kernels of this file, registered by the backend.
    static let lossesAndReductions: [(OpType, Kernel)] = [
        (.softmaxCrossEntropy, softmaxCrossEntropy), (.softmaxCrossEntropyGrad, softmaxCrossEntropyGrad),
        (.sum, sum), (.mean, mean), (.reduceGrad, reduceGrad), (.argMax, argMax), (.accuracy, accuracy),
    ]
}
