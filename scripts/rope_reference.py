#!/usr/bin/env python3
"""Writes Tests/StretchTests/Positions/Fixtures/rope_frequencies.json from Hugging Face transformers'
ROPE_INIT_FUNCTIONS, the reference for Stretch's linear, NTK, dynamic NTK and YaRN frequency scalings and for
the GGUF `rope.scaling.*` keys (RopeScalingReferenceTests).

Needs torch and transformers (CI does not: the output is committed). Measured with transformers 5.24.0:
  pip install transformers torch && python3 scripts/rope_reference.py

Static NTK has no function of its own in transformers: it is "dynamic" with factor 1 evaluated at a sequence
length of s·L, where the base multiplier (1·N/L − 0) equals s.
"""
import json
import os

import torch
import transformers
from transformers import LlamaConfig
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "StretchTests", "Positions", "Fixtures", "rope_frequencies.json")

HEAD_DIM, HEADS, BASE, L = 64, 4, 10000.0, 2048


def run(kind, rope_scaling, seq_len=None, max_positions=L):
    """inverse frequencies (transformers computes them in float32) and the attention factor."""
    c = LlamaConfig(hidden_size=HEAD_DIM * HEADS, num_attention_heads=HEADS, num_key_value_heads=HEADS,
                    max_position_embeddings=max_positions, rope_theta=BASE, rope_scaling=rope_scaling)
    inv, attention_factor = ROPE_INIT_FUNCTIONS[kind](c, torch.device("cpu"), seq_len=seq_len)
    return [float(x) for x in inv.to(torch.float64)], float(attention_factor)


cases = []


def add(name, scheme, factor, hf_kind, rope_scaling, seq_len=None, max_positions=L, **extra):
    inv, af = run(hf_kind, rope_scaling, seq_len, max_positions)
    cases.append(dict(name=name, scheme=scheme, factor=factor, sequence_length=seq_len or 0,
                      inverse_frequencies=inv, attention_factor=af, **extra))


add("linear s=4", "linear", 4.0, "linear", {"rope_type": "linear", "factor": 4.0})
add("linear s=2.5", "linear", 2.5, "linear", {"rope_type": "linear", "factor": 2.5})
for s in (2.0, 8.0):
    # Static NTK s == dynamic(factor 1) at N = s·L.
    add(f"ntk s={s:g}", "ntk", s, "dynamic", {"rope_type": "dynamic", "factor": 1.0}, seq_len=int(s * L))
for n in (1024, 2048, 3000, 8192):
    add(f"dynamic-ntk s=2 N={n}", "dynamic-ntk", 2.0, "dynamic", {"rope_type": "dynamic", "factor": 2.0}, seq_len=n)
for s, bf, bs in ((4.0, 32.0, 1.0), (8.0, 32.0, 1.0), (4.0, 16.0, 2.0)):
    add(f"yarn s={s:g} bf={bf:g} bs={bs:g}", "yarn", s, "yarn",
        {"rope_type": "yarn", "factor": s, "beta_fast": bf, "beta_slow": bs, "original_max_position_embeddings": L},
        beta_fast=bf, beta_slow=bs)

with open(OUT, "w") as f:
    json.dump(dict(source=f"transformers {transformers.__version__} ROPE_INIT_FUNCTIONS, torch {torch.__version__}",
                   head_dim=HEAD_DIM, base=BASE, trained_context=L, cases=cases), f, indent=1)
    f.write("\n")
print(f"wrote {len(cases)} cases to {OUT}")
