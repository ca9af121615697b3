#!/usr/bin/env bash
# Runs one libFuzzer target of Fuzz/ for a bounded time: scripts/fuzz.sh TARGET SECONDS [libFuzzer flags…]
# TARGET: FuzzGGUF, FuzzTokenizer, FuzzChatTemplate or FuzzServerJSON (Linux only: Swift's -sanitize=fuzzer).
# The whole graph (Stretch included) is built with -sanitize=fuzzer,address into Fuzz/.build, apart from the
# main build. Seeds: Fuzz/corpus/TARGET (written by scripts/fuzz-seeds.py when absent); the corpus grows there.
# Crashes, leaks, timeouts and OOMs land in Fuzz/artifacts/TARGET/ and make this script fail. Each one becomes a
# fixed bug and a regression test (README, "Testing").
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer flags…]}"
seconds="${2:?usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer flags…]}"
shift 2
case "$target" in
  FuzzGGUF|FuzzTokenizer|FuzzChatTemplate|FuzzServerJSON) ;;
  *) echo "unknown target $target (FuzzGGUF, FuzzTokenizer, FuzzChatTemplate, FuzzServerJSON)" >&2; exit 2 ;;
esac
[ "$(uname -s)" = Linux ] || { echo "fuzzing needs Swift on Linux (-sanitize=fuzzer)" >&2; exit 2; }
shared="${STRETCH_SHARED:-$(cd .. && pwd)/shared}"
[ -d "$shared" ] || shared=/work/shared
[ -d "Fuzz/corpus/$target" ] || python3 scripts/fuzz-seeds.py --shared "$shared" >&2
swift build --package-path Fuzz -c release --product "$target" \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >&2
bin="$(swift build --package-path Fuzz -c release --show-bin-path)/$target"
mkdir -p "Fuzz/artifacts/$target"
export STRETCH_FUZZ_VOCAB_DIR="$shared/tokenizer-vectors"
log="Fuzz/artifacts/$target/last-run.log"
# -rss_limit_mb: a parse that needs more than 2 GiB for a small input is a bug (resource limits, docs/DESIGN.md).
# -timeout: one input taking 10 s is a hang. -max_len 65536: GGUF headers and templates fit.
set +e
# Fuzz/regressions/TARGET: committed inputs of fixed finds, replayed as extra seeds.
regressions=()
[ -d "Fuzz/regressions/$target" ] && regressions=("Fuzz/regressions/$target")
"$bin" "Fuzz/corpus/$target" "${regressions[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
  -artifact_prefix="Fuzz/artifacts/$target/" -print_final_stats=1 "$@" 2>&1 | tee "$log" | grep -v '^#[0-9]*.*\(NEW\|REDUCE\|pulse\)' >&2
status=${PIPESTATUS[0]}
set -e
runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
echo "$target: $runs executions in ${seconds}s, exit status $status"
exit "$status"
