/// `x` with each element dropped (zeroed) with probability `rate` and the others scaled by 1 / (1 − rate):
/// inverted dropout, as PyTorch's and ONNX's Dropout in training (in inference it is the identity, which a model
/// builds by leaving the op out).
///
/// Element i is kept when `DropoutMask.keeps(i, step:, seed:, rate:)`: a hash of the element's index, of the
/// scalar `step` (a counter each training step advances, so that each step draws a new mask) and of `seed`. Every
/// device computes the same mask, and the gradient recomputes it rather than storing it.
///
/// - Throws: `invalidArgument` unless 0 ≤ rate < 1.
public func dropout(_ x: Tensor, rate: Float, step: Tensor, seed: Int) throws -> Tensor {
    guard rate >= 0 && rate < 1 else {
        throw ConfluxError.invalidArgument(op: "Dropout", reason: "rate \(rate) must be at least 0 and below 1")
    }
    return try x.graph.addNode(
        .dropout, [x, step], attributes: Attributes(["rate": .float(rate), "seed": .int(seed)]))
}

/// The mask of `dropout`, which every kernel computes the same way: a 32-bit hash of the index, the step and the
/// seed (the finalizer of MurmurHash3 over their mix), whose top 24 bits make a uniform u in [0, 1); the element
/// is kept when u ≥ rate.
public enum DropoutMask {
    @inline(__always)
    public static func keeps(_ index: Int, step: Float, seed: Int, rate: Float) -> Bool {
        var h = UInt32(truncatingIfNeeded: index) &* 0x9E37_79B9
        h ^= UInt32(step) &* 0x85EB_CA6B
        h ^= UInt32(truncatingIfNeeded: seed) &* 0xC2B2_AE35
        h ^= h >> 16
        h &*= 0x7FEB_352D
        h ^= h >> 15
        h &*= 0x846C_A68B
        h ^= h >> 16
        return Float(h >> 8) * (1 / 16_777_216) >= rate
    }
}

let dropoutOps: [OpDefinition] = [
    OpDefinition(
        .dropout, OpSignature(["input", "step"], attributes: ["rate": .float, "seed": .int]),
        inferShape: { c in
            try c.requireType(0, .float32, "input")
            guard c.shapes[1].count == 1 else { throw c.mismatch("step must be a scalar") }
            return (c.shapes[0], .float32)
        }
    )
    .withGradient { y, dy in
        [try y.graph.addNode(.dropoutGrad, [dy, y.inputs[1]], attributes: y.node.attributes), nil]
    },
    OpDefinition(.dropoutGrad, OpSignature(["gradient", "step"], attributes: ["rate": .float, "seed": .int])) { c in
        (c.shapes[0], .float32)
    },
]
