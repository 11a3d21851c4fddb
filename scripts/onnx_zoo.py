"""Exports torchvision's ResNet-18, MobileNetV2, SqueezeNet 1.1, ShuffleNetV2, GoogLeNet, DenseNet-121 and
EfficientNet-B0 (random weights, seed 0; batch 1, 224x224, opset 13) into the directory given, with an input and
onnxruntime's output for it: NAME.onnx, NAME.input.npy, NAME.onnxruntime.npy. Files already there are kept.
scripts/check-onnx-zoo.sh calls it."""
import os
import sys

import numpy as np
import onnxruntime
import torch
import torchvision

NAMES = ["resnet18", "mobilenet_v2", "squeezenet1_1", "shufflenet_v2_x1_0", "googlenet", "densenet121",
         "efficientnet_b0"]

directory = sys.argv[1]
for name in NAMES:
    path = os.path.join(directory, f"{name}.onnx")
    if os.path.exists(path):
        continue
    torch.manual_seed(0)
    options = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    model = getattr(torchvision.models, name)(weights=None, **options).eval()
    x = torch.rand(1, 3, 224, 224)
    torch.onnx.export(model, x, path, opset_version=13, dynamo=False, input_names=["images"],
                      output_names=["logits"])
    output = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"images": x.numpy()})
    np.save(os.path.join(directory, f"{name}.input.npy"), x.numpy())
    np.save(os.path.join(directory, f"{name}.onnxruntime.npy"), output[0])
print(" ".join(NAMES))
