#!/usr/bin/env bash
# Runs the whole test suite in release mode (SIMD kernels are far too slow in debug builds).
# Fetches the PyPI models first if they are absent. Under CI (CI=true) no test may skip.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/get_models.py
# shellcheck disable=SC2046
exec swift test -c release $(scripts/swift-flags.sh) "$@"
