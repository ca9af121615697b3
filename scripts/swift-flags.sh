#!/usr/bin/env bash
# Prints the swift build flags that give release builds a vector ISA (see docs/DESIGN.md, "CPU flags").
# Without a named CPU, Swift's SIMD types compile to scalar code (measured 0.34 vs 19-37 GFLOP/s).
# STRETCH_TARGET_CPU overrides the choice (e.g. haswell, skylake-avx512, or "none").
set -euo pipefail
cpu="${STRETCH_TARGET_CPU:-}"
if [ -z "$cpu" ]; then
  case "$(uname -m)" in
    x86_64|amd64)
      flags="$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || sysctl -n machdep.cpu.features machdep.cpu.leaf7_features 2>/dev/null || true)"
      flags="$(echo "$flags" | tr 'A-Z' 'a-z')"
      if echo "$flags" | grep -qw avx512f && echo "$flags" | grep -qw avx512bw; then cpu=skylake-avx512
      elif echo "$flags" | grep -qw avx2 && echo "$flags" | grep -qw fma; then cpu=haswell
      else cpu=none; fi ;;
    *) cpu=none ;;  # arm64: NEON is baseline, nothing to name
  esac
fi
if [ "$cpu" != "none" ]; then
  flags="-Xswiftc -target-cpu -Xswiftc $cpu -Xcc -march=$cpu"
  # CPUs with 32 512-bit registers: the attention kernel keeps a 4 × 64 float tile in them (RegisterTile4x64).
  case "$cpu" in
    *avx512* | icelake* | tigerlake | rocketlake | cascadelake | cooperlake | cannonlake | sapphirerapids | \
    graniterapids* | emeraldrapids | diamondrapids | znver4 | znver5 | x86-64-v4) flags="$flags -Xswiftc -DSTRETCH_AVX512" ;;
  esac
  echo "$flags"
fi
