import Conflux

/// A small ResNet (He et al., 2016) for small images such as Fashion-MNIST's [N, 1, 28, 28], in the shape of
/// torchvision's (and its variable names: `conv1`, `bn1`, `layer2.0.downsample.0`, `fc`): a 3×3 stem of
/// `widths[0]` channels, then one stage per width of `blocks` basic blocks (two 3×3 convolutions with batch norm
/// and a residual add), each stage after the first halving the resolution; global average pooling; a dense
/// layer to `classes` logits. The default, 16-32-64 channels with two blocks per stage, is ResNet-14 with about
/// 175,000 parameters.
public func resnet(classes: Int = 10, widths: [Int] = [16, 32, 64], blocks: Int = 2) -> Sequential {
    precondition(!widths.isEmpty && blocks > 0, "a ResNet needs a stage and a block")
    var layers: [any Layer] = [
        Conv2D("conv1", filters: widths[0], kernelSize: 3, padding: .same, bias: false),
        BatchNorm("bn1", activation: .relu),
    ]
    var channels = widths[0]
    for (stage, width) in widths.enumerated() {
        let stageBlocks = (0..<blocks).map { block in
            let stride = stage > 0 && block == 0 ? 2 : 1
            let block = basicBlock(String(block), from: channels, to: width, stride: stride)
            channels = width
            return block
        }
        layers.append(Sequential(stageBlocks, name: "layer\(stage + 1)"))
    }
    layers += [GlobalAveragePool(), Dense("fc", units: classes)]
    return Sequential(layers, name: "resnet")
}

/// conv 3×3 (stride) → batch norm → ReLU → conv 3×3 → batch norm, plus x (projected by a strided 1×1
/// convolution and batch norm when the shape changes), then ReLU.
private func basicBlock(_ name: String, from input: Int, to output: Int, stride: Int) -> Residual {
    // Padding 1 on every side, as PyTorch's: the stride-2 output of 28 rows is 14 either way, but 'same' would
    // pad only after.
    let padding = Padding.explicit(top: 1, bottom: 1, left: 1, right: 1)
    let shortcut: [any Layer] =
        stride == 1 && input == output
        ? []
        : [Conv2D("0", filters: output, kernelSize: 1, stride: stride, bias: false), BatchNorm("1")]
    return Residual(
        name,
        body: [
            Conv2D("conv1", filters: output, kernelSize: 3, stride: stride, padding: padding, bias: false),
            BatchNorm("bn1", activation: .relu),
            Conv2D("conv2", filters: output, kernelSize: 3, padding: padding, bias: false), BatchNorm("bn2"),
        ],
        shortcut: shortcut)
}
