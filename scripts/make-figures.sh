#!/usr/bin/env bash
# Regenerates docs/figures/, the figures README and docs/TOOLS.md show.
#
#   scripts/make-figures.sh            # perplexity-by-position figure (stories260K, about 1 minute on 2 cores)
#   scripts/make-figures.sh --passkey  # also the Qwen2.5-0.5B passkey heatmap (about an hour on 2 cores)
#
# Needs the shared files (STRETCH_SHARED_DIR, default ../shared) and, for --passkey, models/ (scripts/get_models.py).
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${STRETCH_SHARED_DIR:-../shared}"
out=docs/figures
mkdir -p "$out"
# shellcheck disable=SC2046
swift build -c release $(scripts/swift-flags.sh)
bin=.build/release/stretch

# Must-show 1: plain attention blows up past the trained context (L=512); Self-Extend stays flat.
"$bin" perplexity -m "$shared/models/stories260K.gguf" -f "$shared/data/text/tinystories_validation_head.txt" \
  -c 4096 --chunks 1 --score all --compare none,self-extend:G=16:W=256 \
  --plot "$out/stories260K-nll-by-position.svg" --csv "$out/stories260K-nll-by-position.csv" \
  > "$out/stories260K-nll-by-position.txt"
"$bin" perplexity -m "$shared/models/stories260K.gguf" -f "$shared/data/text/tinystories_validation_head.txt" \
  -c 4096 --chunks 1 --score all --compare none,self-extend:G=16:W=256 --plot-metric ppl --quiet \
  --plot "$out/stories260K-ppl-by-position.svg" > /dev/null

if [ "${1:-}" = "--passkey" ]; then
  # Must-show 3: passkey retrieval inside Qwen2.5-0.5B's native window, with and without Self-Extend.
  "$bin" passkey -m models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf --lengths 1k,2k,4k --depths 0,0.25,0.5,0.75,1 \
    --trials 1 --compare none,self-extend:G=4:W=1024 \
    --json "$out/passkey-qwen2.5-0.5b.json" --plot "$out/passkey-qwen2.5-0.5b.svg" > "$out/passkey-qwen2.5-0.5b.txt"
fi
echo "figures written to $out/"
