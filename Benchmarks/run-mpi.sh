#!/usr/bin/env bash
# Data-parallel training under mpirun on this machine: LeNet-5 (one epoch, the reference recipe) and ResNet-14
# (its first 3,200 images) with 1 and 2 ranks on cpu:0, the 2-rank runs with the default 4 MB buckets and with
# 50 KB ones (several buckets, so that the first sums start during the backward pass). Prints JSON: images/s, the
# speed-up, the allreduce time per step and the fraction of it hidden behind the backward pass (rank 0's), the
# processor, and a model of the speed-up at 8 and 64 ranks on 10 and 100 Gb/s networks.
#
# On a 2-core machine two ranks share the cores that one process uses alone: the measured 2-rank speed-up shows
# the overhead of the collectives, not scaling. `bash Benchmarks/run-mpi.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product conflux >&2
conflux=.build/release/conflux
mpirun=(mpirun --oversubscribe -np 2)
[ "$(id -u)" -eq 0 ] && mpirun+=(--allow-run-as-root)
recipe=(--optimizer sgd --lr 0.01 --momentum 0.9 --schedule constant --batch-size 64 --device cpu --json)

run() { echo "$*" >&2; "$@" 2>/dev/null; }
lenet1=$(run $conflux train lenet "${recipe[@]}")
lenet2=$(run "${mpirun[@]}" $conflux train lenet "${recipe[@]}")
lenet2small=$(run "${mpirun[@]}" $conflux train lenet "${recipe[@]}" --bucket-mb 0.05)
resnet1=$(run $conflux train resnet "${recipe[@]}" --limit 3200)
resnet2=$(run "${mpirun[@]}" $conflux train resnet "${recipe[@]}" --limit 3200)

python3 - "$lenet1" "$lenet2" "$lenet2small" "$resnet1" "$resnet2" "$(lscpu | sed -n 's/^Model name: *//p')" <<'PY'
import json, sys
lenet1, lenet2, lenet2small, resnet1, resnet2 = (json.loads(a) for a in sys.argv[1:6])

def speed(report):
    return report["epochs"][0]["imagesPerSecond"]

def ranked(report, single):
    rank0 = report["ranks"][0]
    return {
        "images_per_second": round(speed(report), 1),
        "speedup": round(speed(report) / speed(single), 3),
        "allreduce_ms_per_step": round(rank0["communicationPerStep"] * 1e3, 3),
        "hidden_fraction": round(rank0["hidden"], 3),
        "test_accuracy": report["test"]["accuracy"],
    }

# Ring allreduce of S bytes over p ranks: 2(p-1)/p * S / bandwidth + 2(p-1) * latency. The global batch stays 64,
# so each rank computes 1/p of the single process's step; the speed-up lies between no overlap (compute + comm)
# and full overlap (the larger of the two).
networks = {"10 Gb/s": (1.25e9, 25e-6), "100 Gb/s": (12.5e9, 3e-6)}
def model(single):
    step = 64 / speed(single)
    size = single["parameters"] * 4
    out = {}
    for p in (8, 64):
        for name, (bandwidth, latency) in networks.items():
            comm = 2 * (p - 1) / p * size / bandwidth + 2 * (p - 1) * latency
            out[f"{p} ranks, {name}"] = {
                "allreduce_ms": round(comm * 1e3, 3),
                "speedup_without_overlap": round(step / (step / p + comm), 2),
                "speedup_with_full_overlap": round(step / max(step / p, comm), 2),
            }
    return {"step_ms_one_process": round(step * 1e3, 3), "gradient_bytes": size, "ranks": out}

print(json.dumps({
    "processor": sys.argv[6],
    "lenet": {
        "1 rank": {"images_per_second": round(speed(lenet1), 1), "test_accuracy": lenet1["test"]["accuracy"]},
        "2 ranks, 4 MB buckets": ranked(lenet2, lenet1),
        "2 ranks, 50 KB buckets": ranked(lenet2small, lenet1),
        "model": model(lenet1),
    },
    "resnet (3,200 images)": {
        "1 rank": {"images_per_second": round(speed(resnet1), 1)},
        "2 ranks, 4 MB buckets": ranked(resnet2, resnet1),
        "model": model(resnet1),
    },
}, indent=2))
PY
