#!/usr/bin/env bash
# ResNet-18 and MobileNetV2 inference at 224x224, batch 1 and 32: Conflux on cpu:0 and on opencl:0 against
# onnxruntime's CPU provider, in one run, printed as JSON with onnxruntime/Conflux time ratios (above 1 means
# Conflux is faster) and the processor's name.
#
# torch, torchvision, onnx and onnxruntime come from the virtual environment of scripts/onnx-venv.sh; the exported
# models are cached in ~/.cache/conflux-onnx-models. `bash Benchmarks/run-onnx.sh [--runs N]`.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(bash scripts/onnx-venv.sh)
bash scripts/install-deps.sh
swift build -c release --product ONNXBenchmark >&2

models="$HOME/.cache/conflux-onnx-models"
mkdir -p "$models"
onnxruntime=$("$python" -W ignore Benchmarks/onnx_models.py "$models" "$@" 1 32 2>/dev/null)
files=("$models"/resnet18_b1.onnx "$models"/resnet18_b32.onnx "$models"/mobilenet_v2_b1.onnx "$models"/mobilenet_v2_b32.onnx)
cpu=$(.build/release/ONNXBenchmark --device cpu "$@" "${files[@]}" 2>/dev/null)
opencl=$(.build/release/ONNXBenchmark --device opencl:0 "$@" "${files[@]}" 2>/dev/null)

python3 - "$onnxruntime" "$cpu" "$opencl" "$(lscpu | sed -n 's/^Model name: *//p')" <<'PY'
import json, sys
onnxruntime, cpu, opencl = (json.loads(a) for a in sys.argv[1:4])
print(json.dumps({
    "processor": sys.argv[4],
    "milliseconds": {"onnxruntime_cpu": onnxruntime, "conflux_cpu": cpu, "conflux_opencl": opencl},
    "ratios": {
        "cpu": {k: round(onnxruntime[k] / cpu[k], 3) for k in onnxruntime},
        "opencl": {k: round(onnxruntime[k] / opencl[k], 3) for k in onnxruntime},
    },
}, indent=2, sort_keys=True))
PY
