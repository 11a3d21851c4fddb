#!/usr/bin/env bash
# Quick start, part one: installs what is missing, builds in release mode and trains LeNet-5 on Fashion-MNIST
# for one epoch on the default device. Extra arguments go to `conflux train lenet`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product conflux
.build/release/conflux train lenet --epochs 1 "$@"
