import Conflux

/// LeNet-5 (LeCun et al., 1998) in its modern form, for [N, 1, 28, 28] images:
/// conv 5×5×6 same + ReLU → max-pool 2 → conv 5×5×16 valid + ReLU → max-pool 2 → dense 120 + ReLU →
/// dense 84 + ReLU → dense `classes` (logits). Its checkpoints use the names of PyTorch's `state_dict` of the
/// same network (`conv1.weight`, `fc1.bias`, …), so weights move between the two unchanged.
public func lenet5(classes: Int = 10) -> Sequential {
    Sequential(
        [
            Conv2D("conv1", filters: 6, kernelSize: 5, padding: .same, activation: .relu),
            Pool2D("pool1", .max, size: 2),
            Conv2D("conv2", filters: 16, kernelSize: 5, padding: .valid, activation: .relu),
            Pool2D("pool2", .max, size: 2),
            Flatten(),
            Dense("dense1", units: 120, activation: .relu),
            Dense("dense2", units: 84, activation: .relu),
            Dense("dense3", units: classes),
        ], checkpointNames: ["dense1": "fc1", "dense2": "fc2", "dense3": "fc3"])
}
