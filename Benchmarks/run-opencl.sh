#!/usr/bin/env bash
# LeNet-5 on opencl:0: Conflux against tinygrad's OpenCL backend on the same device, in one run, printed as JSON
# with Conflux/tinygrad ratios (above 1 means Conflux is better: faster, or lower latency, time and memory).
#
# tinygrad is installed into a virtual environment outside the repository ($CONFLUX_TINYGRAD_VENV, by default
# ~/.cache/conflux-tinygrad-venv) on first use. The time to the first finished training step is measured cold
# (every program cache empty: Conflux's, tinygrad's and the OpenCL driver's) and warm (after one earlier run of each
# filled them, as for every other figure). `bash Benchmarks/run-opencl.sh [DATA_DIR]`.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${CONFLUX_TINYGRAD_VENV:-$HOME/.cache/conflux-tinygrad-venv}"
if ! "$venv/bin/python" -c "import tinygrad, numpy" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q tinygrad numpy
fi
bash scripts/install-deps.sh
swift build -c release --product LeNetBenchmark >&2

conflux() { .build/release/LeNetBenchmark --device opencl:0 "$@" 2>/dev/null; }
# tinygrad's compiler prints a warning per kernel on standard error.
tinygrad() { DEV=CL "$venv/bin/python" -W ignore Benchmarks/lenet_tinygrad.py "$@" 2>/dev/null; }

cold=$(mktemp -d)
trap 'rm -rf "$cold"' EXIT
conflux_cold=$(CONFLUX_CACHE_DIR="$cold/conflux" POCL_CACHE_DIR="$cold/pocl-conflux" conflux --first-step-only "$@")
tinygrad_cold=$(CACHEDB="$cold/tinygrad.db" POCL_CACHE_DIR="$cold/pocl-tinygrad" tinygrad --first-step-only "$@")
conflux --first-step-only "$@" >/dev/null
tinygrad --first-step-only "$@" >/dev/null
conflux_warm=$(conflux "$@")
tinygrad_warm=$(tinygrad "$@")

python3 - "$conflux_warm" "$tinygrad_warm" "$conflux_cold" "$tinygrad_cold" "$(lscpu | sed -n 's/^Model name: *//p')" <<'PY'
import json, sys
conflux, tinygrad = json.loads(sys.argv[1]), json.loads(sys.argv[2])
conflux["first_step_seconds_cold"] = json.loads(sys.argv[3])["first_step_seconds"]
tinygrad["first_step_seconds_cold"] = json.loads(sys.argv[4])["first_step_seconds"]
ratio = lambda key, higher_is_better: round(
    conflux[key] / tinygrad[key] if higher_is_better else tinygrad[key] / conflux[key], 3)
print(json.dumps({
    "processor": sys.argv[5],
    "conflux": conflux,
    "tinygrad": tinygrad,
    "ratios": {
        "training_throughput": ratio("train_images_per_second", True),
        "inference_throughput": ratio("inference_images_per_second", True),
        "batch1_latency": ratio("batch1_latency_ms", False),
        "first_step_warm": ratio("first_step_seconds", False),
        "first_step_cold": ratio("first_step_seconds_cold", False),
        "peak_memory": ratio("peak_rss_mb", False),
    },
}, indent=2, sort_keys=True))
PY
