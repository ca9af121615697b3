#!/usr/bin/env bash
# Tests the C kernels (Sources/StretchKernelsC) with Tests/KernelsC/arm_kernels_test.c:
#   1. natively (on x86-64: scalar, AVX2, AVX-512 VNNI, as far as this CPU goes);
#   2. cross-built for aarch64 with Debian's gcc-aarch64-linux-gnu and run under qemu-user on three emulated
#      CPUs, each with --expect-max so the run-time feature detection is checked as well:
#        max          dotprod + i8mm  -> levels scalar, NEON, dotprod, i8mm (0-3)
#        neoverse-n1  dotprod         -> 0-2
#        cortex-a53   NEON only       -> 0-1
# Swift cannot be cross-built here; the C target can, and these are its only aarch64 tests. Speed on ARM
# hardware cannot be measured this way (qemu translates instructions).
#
# scripts/test-arm.sh [--install]: --install (what scripts/test.sh passes under CI) installs the cross
# compiler and qemu with apt-get when they are missing (as root; `apt-get update` first). Without it, missing
# tools are an error that says how to install them.
set -euo pipefail
cd "$(dirname "$0")/.."
src=Sources/StretchKernelsC
test=Tests/KernelsC/arm_kernels_test.c
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
started=$SECONDS

host="$(uname -m)"
arm_host=0
if [ "$host" = aarch64 ] || [ "$host" = arm64 ]; then arm_host=1; fi
if [ $arm_host = 0 ] && { ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null; }; then
  if [ "${1:-}" = "--install" ]; then
    echo "== installing gcc-aarch64-linux-gnu and qemu-user (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    # Exit 3 (scripts/test.sh reports a skip) when the packages cannot be installed here.
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
        qemu-user >/dev/null; } || { echo "scripts/test-arm.sh: apt-get could not install the cross compiler and qemu" >&2; exit 3; }
  else
    echo "scripts/test-arm.sh needs aarch64-linux-gnu-gcc and qemu-aarch64:" >&2
    echo "  apt-get install -y gcc-aarch64-linux-gnu qemu-user   (or run scripts/test-arm.sh --install as root)" >&2
    exit 1
  fi
fi

# Real tensors: every row of every tensor with an integer kernel in the test models (fetched by
# scripts/get_models.py), at every level (natively, and under qemu -cpu max where levels 0-3 all exist;
# ~2 min of emulation for Qwen, ~1 for Gemma). Under CI a missing model fails the run.
models="${STRETCH_MODELS_DIR:-models}"
gguf=()
for name in qwen2.5-coder-0.5b-instruct-q4_k_m.gguf gemma-3-270m-q4_k_m.gguf; do
  if [ -f "$models/$name" ]; then
    gguf+=(--gguf "$models/$name")
  elif [ "${CI:-}" = true ]; then
    echo "missing $models/$name (python3 scripts/get_models.py)" >&2
    exit 1
  else
    echo "SKIPPED real tensors of $name: not in $models (python3 scripts/get_models.py)"
  fi
done

status=0
# Native: Clang when present (the compiler SwiftPM uses; GCC warns about the x86 code's `#pragma clang loop`).
native_cc=cc
native_flags=(-Wno-unknown-pragmas)
if command -v clang >/dev/null; then native_cc=clang; native_flags=(); fi
echo "== native ($(uname -m), $native_cc)"
nice -n 5 "$native_cc" -O2 -std=gnu11 -Wall -Wextra -Werror ${native_flags[@]+"${native_flags[@]}"} -I"$src/include" \
  "$src/kernels.c" "$src/gemm.c" "$src/gemm_int8.c" "$test" -lm -o "$out/native"
"$out/native" ${gguf[@]+"${gguf[@]}"} || status=1

if [ $arm_host = 1 ]; then
  # On an ARM machine the native run above is the aarch64 test (the levels this CPU has).
  echo "C kernel tests: $([ $status = 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
  exit $status
fi
echo "== aarch64 (aarch64-linux-gnu-gcc, qemu-aarch64)"
nice -n 5 aarch64-linux-gnu-gcc -O2 -std=gnu11 -Wall -Wextra -Werror -I"$src/include" \
  "$src/kernels.c" "$src/gemm.c" "$src/gemm_int8.c" "$test" -lm -o "$out/arm"
# Each model file in a process of its own, in the background (the emulation is single-threaded).
jobs=()
for ((i = 1; i < ${#gguf[@]}; i += 2)); do
  log="$out/gguf$i.log"
  qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max "$out/arm" --expect-max 3 --gguf "${gguf[$i]}" >"$log" 2>&1 &
  jobs+=("$!:$log")
done
for cpu in max:3 neoverse-n1:2 cortex-a53:1; do
  echo "-- qemu-aarch64 -cpu ${cpu%%:*}"
  qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu "${cpu%%:*}" "$out/arm" --expect-max "${cpu##*:}" || status=1
done
for job in ${jobs[@]+"${jobs[@]}"}; do
  wait "${job%%:*}" || status=1
  echo "-- qemu-aarch64 -cpu max --gguf (real tensors)"
  grep -v "^highest kernel level" "${job#*:}" || true
done
echo "C kernel tests: $([ $status = 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
exit $status
