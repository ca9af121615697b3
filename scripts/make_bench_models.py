#!/usr/bin/env python3
"""Writes one random-weight Llama-shaped GGUF per weight format, for `stretch bench` on formats that no
model in models/ uses (Q2_K, Q3_K, IQ4_NL, IQ4_XS; Q4_K and Q8_0 as the comparison).

The weights are random blocks in each format's real layout (random bytes, small finite f16 scales), so
every file has the same shapes and the same amount of work per token; only the format differs. The
output is for timing only (the text is noise). Not committed: the files are ~20-70 MB each.

Usage: python3 scripts/make_bench_models.py [--out /tmp/stretch-bench-models]
then:  stretch bench -m /tmp/stretch-bench-models/random-q2_k.gguf -t 2 -p 128 -n 32 -r 3
"""
import argparse
import os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFWriter, TokenType
from gguf.constants import GGML_QUANT_SIZES

DIM, FFN, LAYERS, HEADS, KV_HEADS, VOCAB, CONTEXT = 768, 2048, 6, 12, 4, 16384, 4096
# Byte offsets of each format's f16 scale fields within a block.
SCALES = {T.Q2_K: [80, 82], T.Q3_K: [108], T.IQ4_NL: [0], T.IQ4_XS: [0], T.Q4_K: [0, 2], T.Q8_0: [0]}


def random_blocks(rng, qtype, rows, cols):
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    blocks = rng.integers(0, 256, size=(rows * cols // block_size, type_size), dtype=np.uint8)
    # Scales around 1e-3 keep every weight small (|w| < 0.2 for all of these formats).
    scales = np.float16(rng.uniform(2e-4, 1.5e-3, size=(blocks.shape[0], 1))).view(np.uint8)
    for off in SCALES[qtype]:
        blocks[:, off:off + 2] = scales
    return blocks.reshape(rows, cols // block_size * type_size)


def write(path, qtype, seed):
    rng = np.random.default_rng(seed)
    w = GGUFWriter(path, "llama")
    w.add_context_length(CONTEXT)
    w.add_embedding_length(DIM)
    w.add_block_count(LAYERS)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_tokenizer_model("llama")
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    tokens += [f"tok{i}" for i in range(len(tokens), VOCAB)]
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * VOCAB)
    w.add_token_types([TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL] + [TokenType.BYTE] * 256
                      + [TokenType.NORMAL] * (VOCAB - 259))
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    hd = DIM // HEADS

    def matrix(name, rows, cols):
        w.add_tensor(name, random_blocks(rng, qtype, rows, cols), raw_dtype=qtype)

    matrix("token_embd.weight", VOCAB, DIM)
    w.add_tensor("output_norm.weight", np.ones(DIM, dtype=np.float32))
    matrix("output.weight", VOCAB, DIM)
    for layer in range(LAYERS):
        p = f"blk.{layer}."
        w.add_tensor(p + "attn_norm.weight", np.ones(DIM, dtype=np.float32))
        matrix(p + "attn_q.weight", HEADS * hd, DIM)
        matrix(p + "attn_k.weight", KV_HEADS * hd, DIM)
        matrix(p + "attn_v.weight", KV_HEADS * hd, DIM)
        matrix(p + "attn_output.weight", DIM, HEADS * hd)
        w.add_tensor(p + "ffn_norm.weight", np.ones(DIM, dtype=np.float32))
        matrix(p + "ffn_gate.weight", FFN, DIM)
        matrix(p + "ffn_up.weight", FFN, DIM)
        matrix(p + "ffn_down.weight", DIM, FFN)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/tmp/stretch-bench-models")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for i, qtype in enumerate(SCALES):
        path = os.path.join(args.out, f"random-{qtype.name.lower()}.gguf")
        write(path, qtype, seed=i)
        print(f"{path}: {os.path.getsize(path) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
