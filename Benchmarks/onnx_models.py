"""Exports torchvision's ResNet-18 and MobileNetV2 (random weights, seed 0) to ONNX at 224x224 for each batch size
given, into the directory given, then times onnxruntime's CPU provider on each the way ONNXBenchmark times Conflux
(two untimed runs, then the median of --runs) and prints {"MODEL_bBATCH.onnx": ms, ...}.

`python onnx_models.py DIR [--runs N] BATCH ...`; Benchmarks/run-onnx.sh calls it."""
import json
import os
import sys
import time

import numpy as np
import onnxruntime
import torch
import torchvision

directory, arguments = sys.argv[1], sys.argv[2:]
runs = 10
if "--runs" in arguments:
    at = arguments.index("--runs")
    runs = int(arguments[at + 1])
    del arguments[at:at + 2]
torch.manual_seed(0)
results = {}
for name in ["resnet18", "mobilenet_v2"]:
    model = getattr(torchvision.models, name)(weights=None).eval()
    for batch in map(int, arguments):
        path = os.path.join(directory, f"{name}_b{batch}.onnx")
        x = torch.rand(batch, 3, 224, 224)
        if not os.path.exists(path):
            torch.onnx.export(model, x, path, opset_version=13, dynamo=False, input_names=["images"])
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        feed = {"images": x.numpy()}
        for _ in range(2):
            session.run(None, feed)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            session.run(None, feed)
            times.append((time.perf_counter() - start) * 1000)
        results[os.path.basename(path)] = sorted(times)[len(times) // 2]
print(json.dumps(results, sort_keys=True))
