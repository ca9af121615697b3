#!/usr/bin/env bash
# The 64k-token demonstrations past Qwen2.5-0.5B's trained window (32,768), README "Past the trained window".
#
#   scripts/long-context-demo.sh ppl       # perplexity by position on one 65,536-token window: none, Self-Extend, DCA
#   scripts/long-context-demo.sh passkey   # passkey retrieval at 48k and 64k tokens, same three schemes
#   KV=q4_0 CELLS=dca@64k scripts/long-context-demo.sh passkey   # one cell with a quantized KV cache (K and V)
#
# Measured on 2 shared cores: 31-58 minutes per scheme for the 64k window (2 h 07 min for the three), 18 minutes
# for a 48k passkey trial. Results go to docs/figures/qwen-64k-* and, one file pair per passkey cell,
# docs/figures/qwen-passkey-<scheme>-<length>[-kv-<type>].{txt,json} (peak RSS from /usr/bin/time -v in the .txt).
# Needs models/ (scripts/get_models.py) and the shared books (STRETCH_SHARED_DIR, default ../shared).
set -euo pipefail
case "${1:-}" in ppl | passkey) ;; *) echo "usage: $0 ppl|passkey" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."
shared="${STRETCH_SHARED_DIR:-../shared}"
model="${MODEL:-models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf}"
schemes="${SCHEMES:-none,self-extend:G=4:W=2048,dca}"
out=docs/figures
mkdir -p "$out" .build/demo
bin="${STRETCH_BIN:-.build/release/stretch}"
# shellcheck disable=SC2046
[ -n "${STRETCH_BIN:-}" ] || swift build -c release $(scripts/swift-flags.sh) --product stretch

# The five Gutenberg books' text (between the START and END markers, byte ranges from SOURCES.md), Dracula
# first so that the 64k window continues the 45k Dracula runs quoted in issue 14. Built, never committed.
books=.build/demo/gutenberg-books.txt
: > "$books"
for spec in pg345_dracula.txt:470:848341 pg1342_pride_and_prejudice.txt:398:738348 pg84_frankenstein.txt:441:421982 \
            pg98_a_tale_of_two_cities.txt:636:769331 pg120_treasure_island.txt:568:369950; do
  IFS=: read -r file start end <<< "$spec"
  dd if="$shared/data/text/$file" iflag=skip_bytes,count_bytes skip="$start" count="$((end - start))" status=none >> "$books"
  printf '\n\n' >> "$books"
done

case "${1:-}" in
  ppl)
    /usr/bin/time -v -o "$out/qwen-64k-ppl.time" "$bin" perplexity -m "$model" -f "$books" -c 65536 --chunks 1 \
      --score all --bucket 2048 --compare "$schemes" \
      --json .build/demo/qwen-64k-ppl.json --csv "$out/qwen-64k-ppl.csv" --plot "$out/qwen-64k-nll-by-position.svg" \
      | tee "$out/qwen-64k-ppl.txt"
    ;;
  passkey)
    # One process per (scheme, length) cell, most informative first, each with its own files, so that every
    # finished cell is kept and a later run of other cells adds to them.
    # Depth 0.1 puts the key ~0.9 × length tokens before the question: past the trained 32,768 at 48k and 64k.
    cells="${CELLS:-self-extend:G=4:W=2048@64k dca@64k none@64k self-extend:G=4:W=2048@48k dca@48k none@48k}"
    for cell in $cells; do
      scheme="${cell%@*}" length="${cell##*@}"
      base="$out/qwen-passkey-$(printf '%s' "$scheme" | tr ':=' '--')-$length${KV:+-kv-$KV}"
      /usr/bin/time -v -o .build/demo/passkey.time "$bin" passkey -m "$model" --lengths "$length" \
        --depths "${DEPTHS:-0.1}" --trials 1 --compare "$scheme" ${KV:+-ctk "$KV" -ctv "$KV"} \
        --json "$base.json" > "$base.txt"
      grep "Maximum resident" .build/demo/passkey.time >> "$base.txt"
      cat "$base.txt"
    done
    ;;
esac
