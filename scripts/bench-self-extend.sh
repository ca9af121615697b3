#!/usr/bin/env bash
# Self-Extend vs plain attention, prefill and decode at 1k, 4k and 8k tokens, in one run per model
# (issue: "Self-Extend ≤ 1.10× the time of plain attention"). Prints llama-bench-style tables; the
# ratio column is computed from the same run.
#
#   scripts/bench-self-extend.sh [MODEL.gguf ...]      (default: stories260K and Qwen2.5-0.5B)
#   REPS=3 THREADS=2 LENGTHS=1024,4096,8192 scripts/bench-self-extend.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
reps="${REPS:-3}"
threads="${THREADS:-$(nproc)}"
lengths="${LENGTHS:-1024,4096,8192}"
longest="${lengths##*,}"
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  models=("$root/../shared/models/stories260K.gguf" "$root/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
fi
# shellcheck disable=SC2046
(cd "$root" && swift build -c release --product stretch $(scripts/swift-flags.sh) >&2)
bin="$root/.build/release/stretch"
for m in "${models[@]}"; do
  L="$("$bin" inspect "$m" | sed -n 's/^context_length (trained L): //p')"
  # W = min(L/2, 1024), so the far (grouped) path is exercised at every length measured, and the smallest
  # G ≥ 2 that reaches the longest length + 32 tokens.
  w=$((L / 2)); [ "$w" -gt 1024 ] && w=1024; g=2
  while [ $((g * (L - w + w / g))) -lt $((longest + 32)) ]; do g=$((g + 1)); done
  echo "## $(basename "$m") (L=$L): self-extend G=$g W=$w vs plain, $threads threads, $reps repetitions"
  out="$(mktemp)"
  "$bin" bench -m "$m" -t "$threads" -r "$reps" -p "$lengths" -n 0 --compare "none,self-extend:G=$g:W=$w" -o json --quiet > "$out.pp"
  "$bin" bench -m "$m" -t "$threads" -r "$reps" -p 0 -n 32 --depths "$lengths" --compare "none,self-extend:G=$g:W=$w" -o json --quiet > "$out.tg"
  python3 - "$out.pp" "$out.tg" <<'PY'
import json, sys
rows = []
for path in sys.argv[1:]:
    rows += json.load(open(path))
by = {}
for r in rows:
    by.setdefault(r["test"], {})[r.get("context_extension_name", "none")] = r
print(f"| test | plain tok/s | self-extend tok/s | time ratio SE/plain |")
print(f"| --- | ---: | ---: | ---: |")
for test, d in by.items():
    if "none" in d and "self-extend" in d:
        p, s = d["none"]["avg_ts"], d["self-extend"]["avg_ts"]
        print(f"| {test} | {p:.1f} ± {d['none']['stddev_ts']:.1f} | {s:.1f} ± {d['self-extend']['stddev_ts']:.1f} | {p / s:.3f} |")
PY
  rm -f "$out" "$out.pp" "$out.tg"
done
