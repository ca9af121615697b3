#!/usr/bin/env bash
# Stretch vs llama.cpp on the same model, same threads, in one run: `stretch bench -o json` and
# `llama-bench -o json` alternate for -r rounds (noise on a shared machine hits both alike), then the
# medians and the ratios Stretch/llama.cpp are printed. llama.cpp is never part of this repository:
# build it elsewhere and put llama-bench on PATH (or set LLAMA_BENCH).
#
#   scripts/bench-vs-llama.sh [-m MODEL.gguf] [-t 2] [-p 512] [-n 128] [-r 5] [--precision auto|f32]
#                             [-d 0,4096,16384] [-ctk f16|q8_0 -ctv f16|q8_0] [--llama-args "-fa 1"]
#                             [--keep DIR]
#
# -d: depths (tokens already in the cache before each test; `stretch bench --depths`, `llama-bench -d`).
# -ctk/-ctv: KV cache types for both engines (llama.cpp needs -fa 1 for a quantized V cache).
#
# --keep DIR keeps each round's JSON there (stretch-R.json, llama-R.json) as it is written: a run at 32k
# tokens is an hour or more, and an interrupted one should not lose its finished rounds.
#
# --llama-args passes extra options to llama-bench only (e.g. "-fa 1": flash attention on; llama.cpp's
# default is auto). The llama.cpp commit is read from llama-bench's JSON and printed with the table.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
model="$root/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf" threads=2 prompt=512 gen=128 rounds=5 precision=auto
llama_args="" depths=0 kv=() keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    -m) model=$2; shift 2 ;; -t) threads=$2; shift 2 ;; -p) prompt=$2; shift 2 ;;
    -n) gen=$2; shift 2 ;; -r) rounds=$2; shift 2 ;; --precision) precision=$2; shift 2 ;;
    --llama-args) llama_args=$2; shift 2 ;; -d) depths=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    -ctk|-ctv) kv+=("$1" "$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
llama="${LLAMA_BENCH:-$(command -v llama-bench || true)}"
if [ -z "$llama" ]; then
  echo "llama-bench not found: put it on PATH or set LLAMA_BENCH (build llama.cpp outside this repository)" >&2
  exit 2
fi
# shellcheck disable=SC2046
(cd "$root" && swift build -c release --product stretch $(scripts/swift-flags.sh) >&2)
stretch="$root/.build/release/stretch"
if [ -n "$keep" ]; then
  mkdir -p "$keep"; work="$(cd "$keep" && pwd)"
else
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
fi
for r in $(seq "$rounds"); do
  echo "round $r/$rounds" >&2
  "$stretch" bench -m "$model" -t "$threads" -p "$prompt" -n "$gen" -r 1 --precision "$precision" \
    --depths "$depths" ${kv[@]+"${kv[@]}"} -o json --quiet > "$work/stretch-$r.json"
  # shellcheck disable=SC2086
  "$llama" -m "$model" -t "$threads" -p "$prompt" -n "$gen" -r 1 -d "$depths" ${kv[@]+"${kv[@]}"} \
    $llama_args -o json 2>/dev/null > "$work/llama-$r.json"
done
python3 - "$work" "$rounds" "$model" "$threads" "$llama_args" <<'PY'
import json, os, statistics, sys
work, rounds, model, threads, llama_args = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
commit = json.load(open(os.path.join(work, "llama-1.json")))[0].get("build_commit", "unknown")
def collect(prefix):
    out = {}
    for r in range(1, rounds + 1):
        for rec in json.load(open(os.path.join(work, f"{prefix}-{r}.json"))):
            name = rec.get("test") or (f"pp{rec['n_prompt']}" if rec["n_gen"] == 0 else f"tg{rec['n_gen']}")
            if "test" not in rec and rec.get("n_depth", 0) > 0: name += f" @ d{rec['n_depth']}"
            out.setdefault(name, []).append(rec["avg_ts"])
    return out
s, l = collect("stretch"), collect("llama")
print(f"{os.path.basename(model)}, {threads} threads, {rounds} alternating rounds (medians, tokens/s); "
      f"llama.cpp {commit}{', llama-bench ' + llama_args if llama_args else ', llama-bench defaults'}")
print("| test | Stretch | llama.cpp | ratio |")
print("| --- | ---: | ---: | ---: |")
for test in s:
    if test in l:
        a, b = statistics.median(s[test]), statistics.median(l[test])
        print(f"| {test} | {a:.1f} | {b:.1f} | {a / b:.2f}× |")
PY
