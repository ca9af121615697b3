#!/usr/bin/env python3
"""Writes the reference fixtures for the Q2_K, Q3_K, IQ4_NL and IQ4_XS readers.

For each format: random blocks in the real ggml layout (random bytes, with every f16 scale field set to a
finite value, some of them subnormal or zero) and the floats that the `gguf` package's numpy dequantizer
(`gguf.quants.dequantize`) makes of them. The `gguf` package has no quantizer for these types, so the
blocks are random rather than quantized data; every bit pattern of the other fields is a valid block.

Output, in Tests/StretchTests/Tensors/Fixtures/: `<type>.bin` (the blocks, one row of `ROWS` rows after
another) and `<type>.f32` (little-endian float32, the dequantized rows). Deterministic (fixed seed).
Usage: python3 scripts/quant_fixtures.py
"""
import os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize

ROWS, ROW_LENGTH = 4, 1536
# Byte offsets of the f16 scale fields inside one block (the rest of a block is free bits).
SCALES = {T.Q2_K: [80, 82], T.Q3_K: [108], T.IQ4_NL: [0], T.IQ4_XS: [0]}
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "StretchTests", "Tensors", "Fixtures")


def random_half(rng):
    if rng.integers(8) == 0:  # one in eight: subnormal or zero, to cover those paths
        return int(rng.integers(0x400)) | (0x8000 if rng.integers(2) else 0)
    return int(np.float16(rng.uniform(-2, 2)).view(np.uint16))


def main():
    rng = np.random.default_rng(20261130)
    os.makedirs(OUT, exist_ok=True)
    for qtype, offsets in SCALES.items():
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        per_row = ROW_LENGTH // block_size
        blocks = rng.integers(0, 256, size=(ROWS * per_row, type_size), dtype=np.uint8)
        for b in range(blocks.shape[0]):
            for off in offsets:
                h = random_half(rng)
                blocks[b, off], blocks[b, off + 1] = h & 0xFF, h >> 8
        raw = blocks.reshape(ROWS, per_row * type_size)
        floats = dequantize(raw, qtype).astype("<f4")
        assert floats.shape == (ROWS, ROW_LENGTH)
        assert np.isfinite(floats).all()
        name = qtype.name.lower()
        raw.tofile(os.path.join(OUT, f"{name}.bin"))
        floats.tofile(os.path.join(OUT, f"{name}.f32"))
        print(f"{name}: {ROWS} rows x {ROW_LENGTH} elements")


if __name__ == "__main__":
    main()
