"""Reads a Conflux checkpoint with the real `safetensors` package and prints, as JSON, each tensor's shape and the
sum of its elements, so a test can compare them with what Conflux wrote. Run: python read_checkpoint.py FILE."""
import json
import sys

from safetensors.numpy import load_file

tensors = load_file(sys.argv[1])
print(json.dumps({name: {"shape": list(t.shape), "dtype": str(t.dtype), "sum": float(t.astype("float64").sum())}
                  for name, t in tensors.items()}, sort_keys=True))
