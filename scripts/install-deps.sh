#!/usr/bin/env bash
# Installs the Debian packages Conflux needs that are missing: OpenCL (ICD loader and PoCL), CLBlast, OpenBLAS,
# zlib, stb_image, Open MPI (library and mpirun), oneDNN, pkg-config, the Fashion-MNIST data set, Graphviz and Python venv
# support (for the interchange tests).
# Swift itself must already be on PATH.
set -euo pipefail

packages=(pkg-config zlib1g-dev libstb-dev libopenblas-dev ocl-icd-opencl-dev pocl-opencl-icd libclblast-dev graphviz
    dataset-fashion-mnist python3-venv libopenmpi-dev openmpi-bin libdnnl-dev)

if ! command -v swift >/dev/null 2>&1; then
    echo "error: swift is not on PATH; install Swift 6 from swift.org first" >&2
    exit 1
fi

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing missing packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
