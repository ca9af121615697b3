#!/usr/bin/env bash
# Runs the whole test suite in release mode (SIMD kernels are far too slow in debug builds).
# Fetches the PyPI models first if they are absent. Under CI (CI=true) no test may skip.
# Then the OpenAI-client tests (pytest, Tests/python) against the built `stretch serve`.
# Ends with a plain "N passed, N failed, N skipped" line summing XCTest's final summaries and pytest's.
#
# scripts/test.sh --sanitize address|thread: only the fast tests (kernels on small shapes, the worker pool,
# sessions side by side, the batch engine on stories260K, GGUF parsing, tokenizers, Jinja, the server's request
# decoding) in a debug build under that sanitizer, in a scratch path of its own (.build-asan / .build-tsan);
# any sanitizer report fails the run. Same closing line.
set -euo pipefail
cd "$(dirname "$0")/.."
# XCTest's summary lines: "Executed N tests, with [K tests skipped and] F failures (U unexpected) in …";
# the last one of each run is its total. Sets total, failed, skipped from the log $1.
xctest_counts() {
  total=0 failed=0 skipped=0
  while read -r summary; do
    total=$((total + $(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')))
    failed=$((failed + $(echo "$summary" | sed -E 's/.* ([0-9]+) failures?.*/\1/')))
    if echo "$summary" | grep -qE "[0-9]+ tests? skipped"; then
      skipped=$((skipped + $(echo "$summary" | sed -E 's/.* ([0-9]+) tests? skipped.*/\1/')))
    fi
  done < <(grep -E "Test Suite '(All tests|Selected tests)' (passed|failed)" -A1 "$1" | grep -E "Executed [0-9]+ tests?, with")
}
# The tests the sanitizer modes run: small shapes and tiny models only, since sanitized debug code is ~50x slower.
# Left out: GGUFResourceLimitTests' `ulimit -v` test (a sanitizer reserves terabytes of shadow address space) and
# JinjaInterpreterTests' runaway-template test (it bounds wall time, which sanitized debug code exceeds).
sanitize_filter='GatedActivationTests|PanelGemmTests|Int8GemmTests/testRandom|VectorExpTests|WorkerPoolTests|DequantizeTests|HalfFloatTests'
sanitize_filter+='|QuantizeTests|QuantizedDotTests|\.IntegerDotTests|ExactAttentionTests|KVQuantizationTests|DualChunkAttentionTests|SessionTests|BatchEngineTests/test[^Q]'
sanitize_filter+='|GGUFReaderTests|GGUFResourceLimitTests/test[^I]|KVCacheMemoryLimitTests|TokenizerSyntheticTests'
sanitize_filter+='|TokenizerBehaviorTests|JinjaInterpreterTests.test[^R]|StopStringMatcherTests|SamplerTests|RequestDecodingTests'
if [ "${1:-}" = "--sanitize" ]; then
  kind="${2:-}"
  case "$kind" in
    address) marker="ERROR: (AddressSanitizer|LeakSanitizer)"; scratch=.build-asan ;;
    thread) marker="WARNING: ThreadSanitizer"; scratch=.build-tsan ;;
    *) echo "usage: scripts/test.sh --sanitize address|thread" >&2; exit 2 ;;
  esac
  python3 scripts/get_models.py
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  status=0
  # XCTest's own objects live to exit unreferenced; scripts/lsan-suppressions.txt names only XCTest.
  export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-suppressions.txt:print_suppressions=0"
  echo "== $kind sanitizer: $sanitize_filter =="
  swift test --sanitize="$kind" --scratch-path "$scratch" --disable-swift-testing --filter "$sanitize_filter" 2>&1 \
    | tee "$log" || status=$?
  if grep -qE "$marker" "$log"; then
    echo "the $kind sanitizer reported a problem (see above)"
    status=1
  fi
  xctest_counts "$log"
  if [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
  echo "$((total - failed - skipped)) passed, $failed failed, $skipped skipped"
  exit "$status"
fi
python3 scripts/get_models.py
# The independent numpy reference (../shared/tools/ref_llama.py) that some tests run needs these.
python3 -c "import numpy, gguf" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check numpy gguf
# The server's client tests use the official OpenAI client.
python3 -c "import openai, pytest" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check openai pytest
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
# The C kernels natively and cross-built for aarch64 under qemu (scripts/test-arm.sh, ~2-3 min plus a one-time
# apt-get install of the cross compiler and qemu when missing). On by default under CI; STRETCH_ARM=1 runs it
# elsewhere (it then needs the tools installed), STRETCH_ARM=0 leaves it out.
# If the tools cannot be installed (no root or no package mirror: exit 3), the run is counted and shown as
# skipped, loudly, rather than failing a machine that cannot cross-build.
arm_passed=0 arm_failed=0 arm_skipped=0
if [ "${STRETCH_ARM:-$([ "${CI:-}" = true ] && echo 1 || echo 0)}" = 1 ] && [ $# -eq 0 ]; then
  echo "== C kernels: native and aarch64 under qemu (scripts/test-arm.sh) =="
  arm_args=""
  [ "${CI:-}" = true ] && arm_args=--install
  arm_status=0
  # shellcheck disable=SC2086
  bash scripts/test-arm.sh $arm_args || arm_status=$?
  case $arm_status in
    0) arm_passed=1 ;;
    3) arm_skipped=1; echo "SKIPPED: the aarch64 kernel test (the cross compiler and qemu could not be installed)" ;;
    *) arm_failed=1; status=1 ;;
  esac
fi
# The OpenAI Python client against `stretch serve` (only with the whole suite, like the sanitizer run).
py_passed=0 py_failed=0 py_skipped=0
if [ $# -eq 0 ]; then
  echo "== pytest: Tests/python =="
  py_log="$(mktemp)"
  py_status=0
  # shellcheck disable=SC2046
  STRETCH_BIN="$(swift build -c release $(scripts/swift-flags.sh) --show-bin-path)/stretch" \
    python3 -m pytest -q Tests/python 2>&1 | tee "$py_log" || py_status=$?
  # pytest -q closes with "3 passed, 1 failed, 1 skipped in 2.1s" (any subset; "==" around it without -q).
  summary="$(grep -E "^(=+ )?[0-9]+ (passed|failed|skipped|error|deselected).* in [0-9.]+s" "$py_log" | tail -1 || true)"
  count() { echo "$summary" | grep -oE "[0-9]+ $1" | grep -oE "[0-9]+" || echo 0; }
  py_passed=$(count passed)
  py_failed=$(($(count failed) + $(count error)))
  py_skipped=$(count skipped)
  if [ "$py_status" != 0 ] && [ "$py_failed" = 0 ]; then py_failed=1; fi
  [ "$py_status" = 0 ] || status=$py_status
  rm -f "$py_log"
fi
xctest_counts "$log"
if [ "$total" -gt 0 ] || [ "$((py_passed + py_failed + py_skipped + arm_passed + arm_failed + arm_skipped))" -gt 0 ]; then
  echo "$((total - failed - skipped + py_passed + arm_passed)) passed, $((failed + py_failed + arm_failed)) failed, $((skipped + py_skipped + arm_skipped)) skipped"
fi
exit "$status"
