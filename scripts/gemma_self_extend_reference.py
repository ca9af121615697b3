#!/usr/bin/env python3
"""Writes Tests/StretchTests/Model/Fixtures/gemma_self_extend.json: Gemma 3 270M (Q4_K_M, dequantized to float32
by transformers' GGUF loader) run by Hugging Face transformers with Self-Extend (Jin et al. 2024) patched into
its global-attention layers, the reference for GemmaTests.testSelfExtendRunsWithSlidingWindowLayers.

Self-Extend, as the paper's code does it: for query i and key j with i - j < W the usual positions (i, j);
otherwise the query is rotated at i//G + W - W//G and the key at j//G. Sliding-window layers keep plain
positions (their window, 512, is longer than the sequence here, so they attend causally).
The tokens are BOS and pseudo-random ids (numpy seed 0), so no tokenizer is involved.

Needs torch, transformers and gguf (CI does not: the output is committed):
  pip install torch transformers gguf && python3 scripts/gemma_self_extend_reference.py [models/gemma-3-270m-q4_k_m.gguf]
"""
import json
import os
import sys

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM
from transformers.models.gemma3 import modeling_gemma3 as mg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "StretchTests", "Model", "Fixtures", "gemma_self_extend.json")
G, W, N = 4, 64, 200
POSITIONS = [N - 1, N - 50, 120, 70]  # query rows checked, all past W
TOP = 12

path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "models", "gemma-3-270m-q4_k_m.gguf")
model = AutoModelForCausalLM.from_pretrained(os.path.dirname(os.path.abspath(path)), gguf_file=os.path.basename(path),
                                             dtype=torch.float32)
model.eval()
config = model.config
rotary = model.model.rotary_emb
self_extend = {"on": False}
original_forward = mg.Gemma3Attention.forward


def rotate(x, cos, sin):
    return x * cos + mg.rotate_half(x) * sin


def se_forward(self, hidden_states, position_embeddings=None, attention_mask=None, cache=None, **kwargs):
    if self.is_sliding or not self_extend["on"]:
        return original_forward(self, hidden_states, position_embeddings=position_embeddings,
                                attention_mask=attention_mask, cache=cache, **kwargs)
    b, n, _ = hidden_states.shape
    shape = (b, n, -1, self.head_dim)
    q = self.q_norm(self.q_proj(hidden_states).view(shape).transpose(1, 2))
    k = self.k_norm(self.k_proj(hidden_states).view(shape).transpose(1, 2))
    v = self.v_proj(hidden_states).view(shape).transpose(1, 2)
    i = torch.arange(n)
    def table(pos):
        return rotary(hidden_states, pos[None, :], self.layer_type)
    cos, sin = table(i)
    cos_fq, sin_fq = table(i // G + W - W // G)
    cos_fk, sin_fk = table(i // G)
    qn, kn = rotate(q, cos[:, None], sin[:, None]), rotate(k, cos[:, None], sin[:, None])
    qf, kf = rotate(q, cos_fq[:, None], sin_fq[:, None]), rotate(k, cos_fk[:, None], sin_fk[:, None])
    rep = q.shape[1] // k.shape[1]
    kn, kf, v = (t.repeat_interleave(rep, dim=1) for t in (kn, kf, v))
    near = qn @ kn.transpose(-1, -2) * self.scaling
    far = qf @ kf.transpose(-1, -2) * self.scaling
    dist = i[:, None] - i[None, :]
    scores = torch.where(dist < W, near, far).masked_fill(dist < 0, float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v
    out = out.transpose(1, 2).reshape(b, n, -1)
    return self.o_proj(out), None


mg.Gemma3Attention.forward = se_forward

rng = np.random.default_rng(0)
tokens = [2] + [int(t) for t in rng.integers(1000, 30000, size=N - 1)]
ids = torch.tensor([tokens])
result = {}
with torch.no_grad():
    for name, on in (("plain", False), ("self_extend", True)):
        self_extend["on"] = on
        logits = model(ids, use_cache=False).logits[0].double().numpy()
        rows = []
        for p in POSITIONS:
            top = np.argsort(-logits[p])[:TOP]
            rows.append(dict(position=p, ids=[int(t) for t in top], logits=[float(logits[p][t]) for t in top]))
        result[name] = rows

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(dict(source=f"transformers {transformers.__version__}, torch {torch.__version__}, float32, "
                          f"{os.path.basename(path)}", group=G, window=W, tokens=tokens, **result), f, indent=1)
    f.write("\n")
print("wrote", OUT)
for name in ("plain", "self_extend"):
    print(name, [(r["position"], r["ids"][0], round(r["logits"][0], 4)) for r in result[name]])
