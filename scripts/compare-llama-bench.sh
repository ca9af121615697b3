#!/usr/bin/env bash
# Times Stretch and llama.cpp side by side on the same model: prefill of -p tokens and decode of -n
# tokens, alternating the two engines for -r rounds so machine noise hits both alike (the machine is
# shared; compare medians, not single runs). llama.cpp is never part of the repository: point
# LLAMA_BENCH at a llama-bench binary built elsewhere (see docs/DESIGN.md, "Measuring against llama.cpp").
#
# usage: scripts/compare-llama-bench.sh [-m model.gguf] [-t threads] [-p 512] [-n 128] [-r 3] [--precision auto|f32]
set -euo pipefail
cd "$(dirname "$0")/.."
model=models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf threads=2 prompt=512 gen=128 rounds=3 precision=auto
while [ $# -gt 0 ]; do
  case "$1" in
    -m) model=$2; shift 2 ;; -t) threads=$2; shift 2 ;; -p) prompt=$2; shift 2 ;;
    -n) gen=$2; shift 2 ;; -r) rounds=$2; shift 2 ;; --precision) precision=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
llama="${LLAMA_BENCH:-/work/helpers/llama.cpp/build/bin/llama-bench}"
# shellcheck disable=SC2046
swift build -c release $(scripts/swift-flags.sh) --product StretchTiming >&2
for r in $(seq "$rounds"); do
  echo "# round $r"
  .build/release/StretchTiming -m "$model" -t "$threads" -p "$prompt" -n 0 --precision "$precision"
  "$llama" -m "$model" -t "$threads" -p "$prompt" -n 0 -r 1 -o csv 2>/dev/null | tail -1 \
    | awk -F, -v p="$prompt" -v t="$threads" '{gsub(/"/,""); print "llama.cpp pp" p " t=" t ": " $(NF-1) " tok/s"}'
  .build/release/StretchTiming -m "$model" -t "$threads" -p 0 -n "$gen" --precision "$precision"
  "$llama" -m "$model" -t "$threads" -p 0 -n "$gen" -r 1 -o csv 2>/dev/null | tail -1 \
    | awk -F, -v n="$gen" -v t="$threads" '{gsub(/"/,""); print "llama.cpp tg" n " t=" t ": " $(NF-1) " tok/s"}'
done
