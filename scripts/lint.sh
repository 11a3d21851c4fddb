#!/usr/bin/env bash
# Checks Swift files against the project's .swift-format (4-space indent, 120 columns) and fails on any violation.
# With no arguments: every Swift file of Sources, Tests and Benchmarks except generated code. `swift format -i FILE`
# fixes most violations.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
    mapfile -t files < <(find Sources Tests Benchmarks -name '*.swift' -not -path '*/Generated/*' | sort)
    set -- "${files[@]}"
fi
swift format lint --strict --configuration .swift-format "$@"
