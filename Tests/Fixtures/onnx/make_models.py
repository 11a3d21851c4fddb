"""Writes the ONNX models ConfluxONNXTests import, exported from PyTorch, and onnxruntime's outputs for them.

The batch is fixed, as in most deployed models, so the exporter folds the shape arithmetic. For each model NAME:
NAME.onnx, and in reference.safetensors `NAME.input` (what the test feeds) and `NAME.output`
(onnxruntime's output for it, CPU provider). The models are small and their weights random (seeded), to keep the
files a few hundred kilobytes, but together they hold every operator family the importer maps.

Also zoo_opset9.input.npy (the same input as a NumPy file, for `conflux run`) and int64.npy (for the reader).

Run: python make_models.py  (needs torch, onnx and onnxruntime)."""
import numpy as np
import onnxruntime
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.numpy import save_file

torch.manual_seed(0)


class Block(nn.Module):
    """A ResNet basic block with a strided projection."""

    def __init__(self, i, o, stride):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(i, o, 3, stride, 1, bias=False), nn.BatchNorm2d(o)
        self.conv2, self.bn2 = nn.Conv2d(o, o, 3, 1, 1, bias=False), nn.BatchNorm2d(o)
        self.down = nn.Sequential(nn.Conv2d(i, o, 1, stride, bias=False), nn.BatchNorm2d(o))

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + self.down(x))


class Zoo(nn.Module):
    """ResNet, MobileNet (depthwise, ReLU6, hard-swish), Inception (concatenated branches), dilation, pooling modes,
    padding, and a classifier head. (PyTorch exports LocalResponseNorm as Pow and pooling, not as LRN.)"""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, 1, 1)
        self.block = Block(8, 16, 2)
        self.depthwise = nn.Conv2d(16, 16, 3, 1, 1, groups=16)
        self.pointwise = nn.Conv2d(16, 12, 1)
        self.branch_a = nn.Conv2d(12, 4, 1)
        self.branch_b = nn.Conv2d(12, 4, 3, padding=2, dilation=2)
        self.fc = nn.Linear(12 * 2 * 2, 10)
        self.prelu = nn.PReLU(12)

    def forward(self, x):
        x = F.leaky_relu(self.stem(x), 0.1)
        x = self.block(x)
        x = F.hardswish(self.depthwise(x))
        x = F.relu6(self.pointwise(x))
        x = self.prelu(x)
        x = torch.cat([self.branch_a(x), self.branch_b(x), F.max_pool2d(x, 3, 1, 1)[:, :4]], 1)
        x = F.avg_pool2d(F.pad(x, (0, 1, 0, 1)), 3, 2, ceil_mode=True, count_include_pad=False)
        x = F.max_pool2d(x, 2, 2, ceil_mode=True)
        x = torch.sigmoid(x) * x + F.hardsigmoid(x) - torch.tanh(x) / 2
        x = x.reshape(x.shape[0], -1)
        return F.log_softmax(self.fc(x), 1)


def export(name, model, example, opset):
    model.eval()
    with torch.no_grad():
        for m in model.modules():  # batch norm with running statistics that are not the identity
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2)
    torch.onnx.export(model, example, f"{name}.onnx", opset_version=opset, dynamo=False,
                      input_names=["images"], output_names=["logits"])
    session = onnxruntime.InferenceSession(f"{name}.onnx", providers=["CPUExecutionProvider"])
    output = session.run(None, {"images": example.numpy()})[0]
    return {f"{name}.input": example.numpy(), f"{name}.output": output}


tensors = {}
tensors.update(export("zoo_opset13", Zoo(), torch.rand(3, 3, 15, 15), 13))
tensors.update(export("zoo_opset9", Zoo(), torch.rand(2, 3, 15, 15), 9))
# The command line's inputs are NumPy files: the opset-9 model's input, and an int64 array for the reader.
np.save("zoo_opset9.input.npy", tensors["zoo_opset9.input"])
np.save("int64.npy", np.array([[1, -2, 3], [2147483647, 0, -2147483648]], dtype=np.int64))
save_file(tensors, "reference.safetensors", metadata={"generator": f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}"})
print(", ".join(f"{k} {v.shape}" for k, v in tensors.items()))
