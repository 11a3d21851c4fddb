"""Prints where the installed onnx wheel keeps its backend test data: {"directory": ...}."""
import json
import os

import onnx

print(json.dumps({"directory": os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")}))
