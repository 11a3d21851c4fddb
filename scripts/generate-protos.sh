#!/usr/bin/env bash
# Regenerates Sources/ConfluxTensorBoard/Generated from Protos/tensorboard/*.proto and Sources/ConfluxONNX/Generated
# from Protos/onnx/onnx.proto (onnx's own, copied from the onnx wheel). The generated code is committed, so builds
# need neither protoc nor the plugin; run this only after changing a .proto file.
# Needs protoc (Debian's protobuf-compiler) and protoc-gen-swift from swift-protobuf (same version as Package.swift
# resolves): PROTOC_GEN_SWIFT=/path/to/protoc-gen-swift bash scripts/generate-protos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:?set PROTOC_GEN_SWIFT to the protoc-gen-swift executable}"
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Public --swift_out=Sources/ConfluxTensorBoard/Generated \
    -I Protos/tensorboard Protos/tensorboard/*.proto
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Internal --swift_out=Sources/ConfluxONNX/Generated \
    -I Protos/onnx Protos/onnx/onnx.proto
