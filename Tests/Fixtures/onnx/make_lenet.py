"""Trains LeNet-5 in PyTorch on Fashion-MNIST with the benchmarks' reference recipe (one epoch, batch 64, SGD
momentum 0.9, lr 0.01; Benchmarks/lenet_pytorch.py) and exports it to ONNX with a symbolic batch, for the test that
`conflux run` gives PyTorch's test accuracy. Writes lenet_pytorch.onnx and lenet_pytorch.json (PyTorch's test
accuracy and its predicted class for every test image). Run with the Python that has torch and onnx."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../Benchmarks"))
from lenet_pytorch import lenet5, load  # noqa: E402

torch.manual_seed(0)
train_x, train_y = load("train")
test_x, test_y = load("t10k")
model = lenet5()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
order = torch.randperm(len(train_x))
for start in range(0, len(order), 64):
    batch = order[start:start + 64]
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(train_x[batch]), train_y[batch]).backward()
    optimizer.step()
model.eval()
with torch.no_grad():
    predictions = model(test_x).argmax(1)
accuracy = (predictions == test_y).float().mean().item()
torch.onnx.export(model, test_x[:1], "lenet_pytorch.onnx", opset_version=13, dynamo=False, input_names=["images"],
                  output_names=["logits"], dynamic_axes={"images": {0: "N"}, "logits": {0: "N"}})
with open("lenet_pytorch.json", "w") as f:
    json.dump({"torch": torch.__version__, "test_accuracy": accuracy, "predictions": predictions.tolist()}, f)
print(f"PyTorch LeNet-5: test accuracy {accuracy:.4f}")
