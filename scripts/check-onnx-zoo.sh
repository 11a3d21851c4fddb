#!/usr/bin/env bash
# The model-zoo check: torchvision's seven image classifiers (scripts/onnx_zoo.py) run through `conflux run` on
# cpu:0 and on every OpenCL device, each output compared with onnxruntime's. Prints JSON: per model and device, the
# largest difference as a fraction of the output's largest magnitude; fails when one is above 1e-3 (onnx's
# model-zoo rule). Models are cached in ~/.cache/conflux-onnx-zoo. The first OpenCL run of each model tunes its
# convolutions (seconds to two minutes each, then cached).
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(bash scripts/onnx-venv.sh)
bash scripts/install-deps.sh
swift build -c release --product conflux >&2
zoo="$HOME/.cache/conflux-onnx-zoo"
mkdir -p "$zoo"
models=$("$python" -W ignore scripts/onnx_zoo.py "$zoo" 2>/dev/null)
devices=$(.build/release/conflux devices --json | python3 -c 'import json, sys; print(" ".join(d["id"] for d in json.load(sys.stdin)))')
for model in $models; do
    for device in $devices; do
        echo "$model on $device" >&2
        .build/release/conflux run "$zoo/$model.onnx" --input "$zoo/$model.input.npy" --device "$device" \
            --output "$zoo/$model.$device.npy" >/dev/null
    done
done
"$python" - "$zoo" "$models" "$devices" <<'PY'
import json, sys
import numpy as np
zoo, models, devices = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
report, worst = {}, 0.0
for model in models:
    expected = np.load(f"{zoo}/{model}.onnxruntime.npy")
    scale = float(np.abs(expected).max())
    report[model] = {"output_scale": scale}
    for device in devices:
        difference = float(np.abs(np.load(f"{zoo}/{model}.{device}.npy") - expected).max()) / scale
        report[model][device] = difference
        worst = max(worst, difference)
print(json.dumps(report, indent=2))
sys.exit(0 if worst <= 1e-3 else 1)
PY
