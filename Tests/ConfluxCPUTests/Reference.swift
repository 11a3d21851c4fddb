import Conflux
import Foundation

/// Obviously-correct direct loops that the CPU kernels are checked against. Pads are [top, bottom, left, right].
enum Reference {
    static func outSize(_ xs: Shape, kernel: (Int, Int), stride: (Int, Int), pads: [Int]) -> (Int, Int) {
        ((xs[2] + pads[0] + pads[1] - kernel.0) / stride.0 + 1, (xs[3] + pads[2] + pads[3] - kernel.1) / stride.1 + 1)
    }

    /// The convolution of x [N, C, H, W] with w [O, C / groups, KH, KW], summed in the plainest order.
    static func conv2d(
        _ x: [Float], _ xs: Shape, _ w: [Float], _ ws: Shape, stride: (Int, Int), pads: [Int],
        dilation: (Int, Int) = (1, 1), groups: Int = 1
    ) -> ([Float], Shape) {
        let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3])
        let (o, kh, kw) = (ws[0], ws[2], ws[3])
        let (groupChannels, groupOutputs) = (c / groups, o / groups)
        let extent = ((kh - 1) * dilation.0 + 1, (kw - 1) * dilation.1 + 1)
        let (oh, ow) = outSize(xs, kernel: extent, stride: stride, pads: pads)
        var y = [Float](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n {
            for f in 0..<o {
                let first = f / groupOutputs * groupChannels
                for i in 0..<oh {
                    for j in 0..<ow {
                        var total: Float = 0
                        for ch in 0..<groupChannels {
                            for p in 0..<kh {
                                for q in 0..<kw {
                                    let r = i * stride.0 - pads[0] + p * dilation.0
                                    let s = j * stride.1 - pads[2] + q * dilation.1
                                    if r >= 0 && r < h && s >= 0 && s < wd {
                                        total +=
                                            x[((b * c + first + ch) * h + r) * wd + s]
                                            * w[((f * groupChannels + ch) * kh + p) * kw + q]
                                    }
                                }
                            }
                        }
                        y[((b * o + f) * oh + i) * ow + j] = total
                    }
                }
            }
        }
        return (y, [n, o, oh, ow])
    }

    /// Max- or average-pooling with windows clipped to the input.
    static func pool(_ x: [Float], _ xs: Shape, size: Int, stride: Int, pads: [Int], max isMax: Bool)
        -> ([Float], Shape)
    {
        let (n, c, h, w) = (xs[0], xs[1], xs[2], xs[3])
        let (oh, ow) = outSize(xs, kernel: (size, size), stride: (stride, stride), pads: pads)
        var y = [Float](repeating: 0, count: n * c * oh * ow)
        for plane in 0..<(n * c) {
            for i in 0..<oh {
                for j in 0..<ow {
                    var values: [Float] = []
                    for p in 0..<size {
                        for q in 0..<size {
                            let (r, s) = (i * stride - pads[0] + p, j * stride - pads[2] + q)
                            if r >= 0 && r < h && s >= 0 && s < w { values.append(x[(plane * h + r) * w + s]) }
                        }
                    }
                    y[(plane * oh + i) * ow + j] = isMax ? values.max()! : values.reduce(0, +) / Float(values.count)
                }
            }
        }
        return (y, [n, c, oh, ow])
    }

    static func matmul(_ a: [Float], _ ash: Shape, _ b: [Float], _ bsh: Shape, _ ta: Bool, _ tb: Bool) -> [Float] {
        let (m, k) = ta ? (ash[1], ash[0]) : (ash[0], ash[1])
        let n = tb ? bsh[0] : bsh[1]
        var y = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                for p in 0..<k {
                    y[i * n + j] +=
                        (ta ? a[p * ash[1] + i] : a[i * ash[1] + p]) * (tb ? b[j * bsh[1] + p] : b[p * bsh[1] + j])
                }
            }
        }
        return y
    }

    static func softmax(_ row: ArraySlice<Float>) -> [Float] {
        let largest = row.max()!
        let e = row.map { exp(Double($0 - largest)) }
        let total = e.reduce(0, +)
        return e.map { Float($0 / total) }
    }
}
