import Conflux
import Foundation

extension CPUKernels {
    /// variable += value
    static func assignAdd(_ c: KernelContext) {
        let (variable, value) = (c.inputs[0].floats, c.inputs[1].floats)
        for i in 0..<c.inputs[0].count { variable[i] += value[i] }
    }

    /// accum = momentum · accum + grad; variable -= lr · accum, each product and sum rounded apart, as the OpenCL
    /// kernel computes it (it does not contract them into fused multiply-adds): the processes of a data-parallel
    /// job on different devices then take bit-identical steps.
    static func applyMomentum(_ c: KernelContext) {
        let (variable, accum, grad) = (c.inputs[0].floats, c.inputs[1].floats, c.inputs[2].floats)
        let lr = c.inputs[3].floats[0]
        let momentum = c.node.attributes.float("momentum")
        for i in 0..<c.inputs[0].count {
            accum[i] = momentum * accum[i] + grad[i]
            variable[i] -= lr * accum[i]
        }
    }

    /// Adam with bias correction, as PyTorch computes it: the step counter (input 3) is incremented first.
    static func applyAdam(_ c: KernelContext) {
        let (variable, m, v, step) = (c.inputs[0].floats, c.inputs[1].floats, c.inputs[2].floats, c.inputs[3].floats)
        let grad = c.inputs[4].floats
        let attributes = c.node.attributes
        let (lr, beta1, beta2) = (c.inputs[5].floats[0], attributes.float("beta1"), attributes.float("beta2"))
        let epsilon = attributes.float("epsilon")
        step[0] += 1
        let correction1 = 1 - power(beta1, Int(step[0]))
        let correction2 = 1 - power(beta2, Int(step[0]))
        for i in 0..<c.inputs[0].count {
            m[i] = flushSubnormal(beta1 * m[i] + (1 - beta1) * grad[i])
            v[i] = flushSubnormal(beta2 * v[i] + (1 - beta2) * grad[i] * grad[i])
            variable[i] -= lr * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + epsilon)
        }
    }

    /// base^exponent by squaring, in Float32 multiplications in a fixed order: the OpenCL kernel's `power`
    /// computes the same bits (a math library's pow differs by an ulp between devices, and data-parallel
    /// processes on different devices would drift apart).
    @inline(__always) private static func power(_ base: Float, _ exponent: Int) -> Float {
        var (result, square, remaining) = (Float(1), base, exponent)
        while remaining > 0 {
            if remaining & 1 != 0 { result *= square }
            square *= square
            remaining >>= 1
        }
        return result
    }

    /// Zero for a subnormal value. The moments of a parameter whose gradient stays zero (a dead ReLU) decay
    /// geometrically into subnormals, where x86 arithmetic is many times slower; as moments they are zero.
    @inline(__always) private static func flushSubnormal(_ x: Float) -> Float {
        abs(x) < Float.leastNormalMagnitude ? 0 : x
    }
}

extension CPUKernels {
    /// The kernels of this file, registered by the backend.
    static let optimizers: [(OpType, Kernel)] = [
        (.assignAdd, assignAdd), (.applyMomentum, applyMomentum), (.applyAdam, applyAdam),
    ]
}
