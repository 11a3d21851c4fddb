#!/usr/bin/env bash
# Prints the Python of a virtual environment outside the repository with torch, torchvision (installed without its
# dependencies), onnx and onnxruntime, creating it on first use: $CONFLUX_ONNX_VENV, by default
# ~/.cache/conflux-onnx-venv. The ONNX benchmark and the model-zoo check export torchvision's models with it.
set -euo pipefail
venv="${CONFLUX_ONNX_VENV:-$HOME/.cache/conflux-onnx-venv}"
if ! "$venv/bin/python" -c "import torch, torchvision, onnx, onnxruntime" 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q torch onnx onnxruntime pillow numpy >&2
    "$venv/bin/pip" install -q --no-deps torchvision >&2
fi
echo "$venv/bin/python"
