import Conflux

/// Transpose, Slice, Pad, ConcatV2 and SliceGrad: each a fill (where the output has places no input reaches)
/// and `StridedCopy`s, run row by row of the innermost dimension.
extension CPUKernels {
    static func transpose(_ c: KernelContext) {
        let copy = StridedCopy.transpose(c.inputs[0].shape, permutation: c.node.attributes.ints("permutation"))
        run(copy, c, from: c.inputs[0].floats)
    }

    static func slice(_ c: KernelContext) {
        let x = c.inputs[0]
        run(.gather(SliceRegion(x.shape, attributes: c.node.attributes), from: x.shape), c, from: x.floats)
    }

    static func sliceGrad(_ c: KernelContext) {
        c.output.floats.update(repeating: 0, count: c.output.count)
        let region = SliceRegion(c.output.shape, attributes: c.node.attributes)
        run(.scatter(region, into: c.output.shape), c, from: c.inputs[0].floats)
    }

    static func pad(_ c: KernelContext) {
        let x = c.inputs[0]
        c.output.floats.update(repeating: c.node.attributes.float("value"), count: c.output.count)
        let region = SliceRegion.padded(x.shape, pads: c.node.attributes.ints("pads"))
        run(.scatter(region, into: c.output.shape), c, from: x.floats)
    }

    static func concat(_ c: KernelContext) {
        let regions = SliceRegion.concatenated(c.inputs.map(\.shape), axis: c.node.attributes.int("axis"))
        for (input, region) in zip(c.inputs, regions) {
            run(.scatter(region, into: c.output.shape), c, from: input.floats)
        }
    }

    /// Runs `copy` from `source` into the output, rows split across the cores when there are many elements.
    private static func run(_ copy: StridedCopy, _ c: KernelContext, from source: UnsafePointer<Float>) {
        guard copy.count > 0 else { return }
        let destination = c.output.floats
        let inner = copy.dims.last ?? 1
        let (from, to) = (copy.sourceStrides.last ?? 1, copy.destinationStrides.last ?? 1)
        let rows = copy.count / inner
        c.cpu.parallelChunks(rows, serialBelow: (1 << 15) / inner + 1) { _, range in
            for row in range {
                var (rest, src, dst) = (row, copy.sourceOffset, copy.destinationOffset)
                for d in stride(from: copy.dims.count - 2, through: 0, by: -1) {
                    let index = rest % copy.dims[d]
                    rest /= copy.dims[d]
                    src += index * copy.sourceStrides[d]
                    dst += index * copy.destinationStrides[d]
                }
                if from == 1 && to == 1 {
                    (destination + dst).update(from: source + src, count: inner)
                } else {
                    for i in 0..<inner { destination[dst + i * to] = source[src + i * from] }
                }
            }
        }
    }
}

extension CPUKernels {
    /// The kernels of this file, registered by the backend.
    static let layout: [(OpType, Kernel)] = [
        (.transpose, transpose), (.slice, slice), (.sliceGrad, sliceGrad), (.pad, pad), (.concat, concat),
    ]
}
