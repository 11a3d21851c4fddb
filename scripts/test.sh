#!/usr/bin/env bash
# Quick start, part two: installs what is missing and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

# The interchange tests check Conflux's checkpoints with Python's safetensors and its event files with TensorBoard;
# the ONNX tests run onnx's backend test data (shipped in its wheel) and check exported models with onnxruntime.
venv=.build/python-venv
if ! "$venv/bin/python" -c "import safetensors, numpy, tensorboard, onnx, onnxruntime" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q safetensors numpy tensorboard onnx onnxruntime
fi
export CONFLUX_PYTHON="$PWD/$venv/bin/python"

# Formatting is checked, not done by hand: first that the lint catches a badly formatted file at all, then the tree.
unformatted="$(mktemp -d)/Unformatted.swift"
printf 'let  x =1\n' >"$unformatted"
if bash scripts/lint.sh "$unformatted" 2>/dev/null; then
    echo "error: scripts/lint.sh passed a badly formatted file; the lint is not working" >&2
    exit 1
fi
bash scripts/lint.sh
echo "lint: every Swift file is formatted as .swift-format says"

swift build --build-tests
# PoCL was installed above: a test that finds no OpenCL device fails here instead of skipping.
export CONFLUX_TEST_REQUIRE_OPENCL=1
# The command line restarts itself on OpenBLAS's faster kernels where Debian's OpenBLAS falls back to generic ones
# (see Sources/ConfluxCPU/OpenBLASCore.swift): run the CPU kernel tests on those kernels too.
core=$(.build/debug/conflux devices --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["BLAS kernels"])')
echo "OpenBLAS kernels used by the command line: $core"
OPENBLAS_CORETYPE="$core" swift test --skip-build --disable-swift-testing --filter ConfluxCPUTests
# Two PoCL devices share one platform's context: the device-to-device copy path runs only with both.
POCL_DEVICES="pthread pthread" swift test --skip-build --disable-swift-testing --filter TransferTests
swift test --skip-build --disable-swift-testing
# With no OpenCL device (the ICD loader pointed at an empty directory) every test passes or says why it skipped.
no_devices="$(mktemp -d)"
CONFLUX_TEST_REQUIRE_OPENCL=0 OCL_ICD_VENDORS="$no_devices" swift test --skip-build --disable-swift-testing \
    --skip FaultTests.testCtrlCStopsCleanlyAtAnyMoment
