#!/usr/bin/env python3
"""Writes the reference fixtures for the Q8_0 and Q4_0 KV cache storage (`-ctk/-ctv q8_0|q4_0`).

Random float32 head vectors (uniform, Gaussian with outliers, an all-zero block, a block whose largest magnitude
is negative, repeated largest magnitudes, values on exact rounding ties) quantized by the `gguf` package's
numpy quantizers (`gguf.quants.quantize`, which follow llama.cpp's `quantize_row_q8_0_ref` /
`quantize_row_q4_0_ref`) and dequantized by its dequantizer.

Output, in Tests/StretchTests/Attention/Fixtures/: `kv.f32` (the inputs, ROWS x ROW_LENGTH little-endian
float32), `kv_<type>.bin` (the blocks, row after row) and `kv_<type>.f32` (the dequantized rows).
Deterministic (fixed seed). Usage: python3 scripts/kv_quant_fixtures.py
"""
import os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

ROWS, ROW_LENGTH = 8, 128
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "StretchTests", "Attention", "Fixtures")


def main():
    rng = np.random.default_rng(20261130)
    x = rng.uniform(-1, 1, size=(ROWS, ROW_LENGTH)).astype(np.float32)
    x[1] = rng.normal(0, 1, ROW_LENGTH).astype(np.float32) * np.where(rng.random(ROW_LENGTH) < 0.05, 20, 1)
    x[2, :32] = 0                                   # all-zero block: scale 0
    x[2, 32:64] = -np.abs(x[2, 32:64]); x[2, 40] = -3  # largest magnitude negative
    x[3, :32] = 2.0; x[3, 5] = -2.0                 # ties for the largest magnitude: the first wins
    # Exact halves after scaling by 127/amax: q8_0 rounds them away from zero.
    x[4, :32] = (np.arange(32, dtype=np.float32) - 16) + 0.5; x[4, 0] = 127
    x[5] *= 1e-3                                    # small scales (subnormal-ish f16 territory is not hit)
    x[6] *= 300                                     # large values
    os.makedirs(OUT, exist_ok=True)
    x.astype("<f4").tofile(os.path.join(OUT, "kv.f32"))
    for qtype in (T.Q8_0, T.Q4_0):
        blocks = quantize(x, qtype)
        back = dequantize(blocks, qtype).astype("<f4")
        name = qtype.name.lower()
        blocks.tofile(os.path.join(OUT, f"kv_{name}.bin"))
        back.tofile(os.path.join(OUT, f"kv_{name}.f32"))
        print(f"{name}: {ROWS} rows x {ROW_LENGTH}, {blocks.shape[1]} bytes per row")


if __name__ == "__main__":
    main()
