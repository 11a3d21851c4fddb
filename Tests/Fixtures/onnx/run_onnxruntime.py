"""Runs an ONNX model with onnxruntime's CPU provider on one .npy input and writes its first output as .npy.
Usage: run_onnxruntime.py MODEL INPUT.npy OUTPUT.npy. Prints {"input": name, "output": name, "shape": [...]}."""
import json
import sys

import numpy
import onnxruntime

session = onnxruntime.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
feed = session.get_inputs()[0]
output = session.run(None, {feed.name: numpy.load(sys.argv[2])})[0]
numpy.save(sys.argv[3], output)
print(json.dumps({"input": feed.name, "output": session.get_outputs()[0].name, "shape": list(output.shape)}))
