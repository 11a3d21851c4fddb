import Conflux

extension CPUKernels {
    /// OpenBLAS runs on one thread (the workers split the work of every kernel). A product of a few rows and a
    /// million multiply-adds or more (a classifier at batch 1 or 8: bound by reading its weights) is split across
    /// the workers by output columns, in multiples of 16; one row is a matrix-vector product, which reads the
    /// weights as they lie (sgemm would pack them first: twice the time for MobileNetV2's classifier). Larger
    /// products stay whole: OpenBLAS picks its kernels by size, and their sums would then change with the number
    /// of cores.
    static func matMul(_ c: KernelContext) {
        let (a, b) = (c.inputs[0], c.inputs[1])
        let transposeA = c.node.attributes.bool("transposeA")
        let transposeB = c.node.attributes.bool("transposeB")
        let (m, n, k) = (c.output.shape[0], c.output.shape[1], transposeA ? a.shape[0] : a.shape[1])
        let blocks = (n + 15) / 16
        c.cpu.parallelChunks(blocks, serialBelow: m <= 8 && m * n * k >= 1 << 20 ? 2 : .max) { _, shares in
            let columns = shares.lowerBound * 16..<min(shares.upperBound * 16, n)
            let (ldb, first) = (b.shape[1], columns.lowerBound)
            let slice = b.floats + (transposeB ? first * ldb : first)
            if m == 1 {
                return BLAS.sgemv(
                    transposeB: transposeB, n: columns.count, k: k, b: slice, ldb: ldb, x: a.floats,
                    y: c.output.floats + first)
            }
            BLAS.sgemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: columns.count, k: k, a: a.floats,
                lda: a.shape[1], b: slice, ldb: ldb,
                c: c.output.floats + first, ldc: n)
        }
    }

    /// MatMul with the bias and ReLU of a fused chain (`Fusion`) applied to each row of the product.
    static func fusedMatMul(_ c: KernelContext) {
        matMul(c)
        let (rows, columns, y) = (c.output.shape[0], c.output.shape[1], c.output.floats)
        let bias = c.node.attributes.bool("bias") ? c.inputs[2].floats : nil
        let relu = c.node.attributes.bool("relu")
        for row in 0..<rows {
            let line = y + row * columns
            for j in 0..<columns {
                let v = line[j] + (bias?[j] ?? 0)
                line[j] = relu ? max(v, 0) : v
            }
        }
    }

    /// x[i] = max(x[i] + bias, 0) for i < count, or without the max when `relu` is false.
    static func addBias(_ bias: Float, relu: Bool, to x: UnsafeMutablePointer<Float>, count: Int) {
        if relu {
            for i in 0..<count { x[i] = max(x[i] + bias, 0) }
        } else {
            for i in 0..<count { x[i] += bias }
        }
    }

    /// y[n, c, …] = x[n, c, …] + bias[c]
    static func biasAdd(_ c: KernelContext) {
        let x = c.inputs[0]
        let (bias, y) = (c.inputs[1].floats, c.output.floats)
        let (channels, inner) = (x.shape[1], x.count / (x.shape[0] * x.shape[1]))
        c.cpu.parallelChunks(x.shape[0] * channels, serialBelow: 64) { _, planes in
            for plane in planes {
                let b = bias[plane % channels]
                let (src, dst) = (x.floats + plane * inner, y + plane * inner)
                for i in 0..<inner { dst[i] = src[i] + b }
            }
        }
    }

    /// db[c] = Σ over n and space of dy[n, c, …]
    static func biasAddGrad(_ c: KernelContext) {
        let dy = c.inputs[0]
        let (batch, channels, inner) = (dy.shape[0], dy.shape[1], dy.count / (dy.shape[0] * dy.shape[1]))
        let db = c.output.floats
        c.cpu.parallelChunks(channels, serialBelow: 16) { _, range in
            for channel in range {
                var total: Float = 0
                for n in 0..<batch { total += sum(dy.floats + (n * channels + channel) * inner, count: inner) }
                db[channel] = total
            }
        }
    }

    /// The input's bytes, unchanged: Reshape and Identity.
    static func copy(_ c: KernelContext) {
        c.output.raw.copyMemory(from: c.inputs[0].raw, byteCount: c.output.byteCount)
    }

    /// x[0] + … + x[count - 1] in eight interleaved partial sums, which the compiler keeps in vector registers;
    /// one running sum waits on every addition. 6.5× faster for the bias gradient of LeNet's conv1, [64, 6, 28, 28]:
    /// 0.149 → 0.023 ms per step on 2 cores of an AMD EPYC (`conflux profile`).
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var partial = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            partial += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var total = partial.sum()
        while i < count {
            total += x[i]
            i += 1
        }
        return total
    }

    /// Runs `body` over the output's elements, in parallel when there are enough of them to pay for it.
    static func elementwise(_ c: KernelContext, _ body: (Range<Int>) -> Void) {
        c.cpu.parallelChunks(c.output.count, serialBelow: 1 << 15) { _, range in body(range) }
    }
}

extension CPUKernels {
    /// The kernels of this file, registered by the backend.
    static let math: [(OpType, Kernel)] = [
        (.matMul, matMul), (.fusedMatMul, fusedMatMul), (.biasAdd, biasAdd),
        (.biasAddGrad, biasAddGrad), (.reshape, copy), (.identity, copy),
    ]
}
