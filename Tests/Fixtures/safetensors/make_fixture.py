"""Writes pytorch_lenet.safetensors with the real `safetensors` package: a LeNet-5 state_dict as PyTorch names it
(conv1.weight [6,1,5,5] ... fc3.bias [10]), values i * 0.001 - 1 in row-major order of each tensor, so that a test
can check every element. Run: python make_fixture.py (needs safetensors and numpy)."""
import sys

import numpy as np
import safetensors
from safetensors.numpy import save_file

SHAPES = {
    "conv1.weight": (6, 1, 5, 5), "conv1.bias": (6,), "conv2.weight": (16, 6, 5, 5), "conv2.bias": (16,),
    "fc1.weight": (120, 400), "fc1.bias": (120,), "fc2.weight": (84, 120), "fc2.bias": (84,),
    "fc3.weight": (10, 84), "fc3.bias": (10,),
}

tensors = {name: (np.arange(np.prod(shape), dtype=np.float32) * 0.001 - 1).reshape(shape) for name, shape in SHAPES.items()}
save_file(tensors, sys.argv[1] if len(sys.argv) > 1 else "pytorch_lenet.safetensors",
          metadata={"generator": f"safetensors {safetensors.__version__}, numpy {np.__version__}"})
