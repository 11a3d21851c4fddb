#!/usr/bin/env bash
# LeNet-5 on the CPU: Conflux against PyTorch in the same run, printed as JSON with Conflux/PyTorch ratios
# (above 1 means Conflux is better: faster, or lower latency and memory).
#
# PyTorch is installed into a virtual environment outside the repository ($CONFLUX_TORCH_VENV, by default
# ~/.cache/conflux-torch-venv) on first use; PyPI's wheel pulls about 2.4 GB of CUDA libraries, which is why
# this is not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${CONFLUX_TORCH_VENV:-$HOME/.cache/conflux-torch-venv}"
if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q torch
fi
bash scripts/install-deps.sh
swift build -c release --product LeNetBenchmark >&2

conflux=$(.build/release/LeNetBenchmark "$@")
pytorch=$("$venv/bin/python" -W ignore Benchmarks/lenet_pytorch.py "$@")
python3 - "$conflux" "$pytorch" <<'PY'
import json, sys
conflux, pytorch = json.loads(sys.argv[1]), json.loads(sys.argv[2])
ratio = lambda key, higher_is_better: round(
    conflux[key] / pytorch[key] if higher_is_better else pytorch[key] / conflux[key], 3)
print(json.dumps({
    "conflux": conflux,
    "pytorch": pytorch,
    "ratios": {
        "training_throughput": ratio("train_images_per_second", True),
        "inference_throughput": ratio("inference_images_per_second", True),
        "batch1_latency": ratio("batch1_latency_ms", False),
        "peak_memory": ratio("peak_rss_mb", False),
    },
}, indent=2, sort_keys=True))
PY
