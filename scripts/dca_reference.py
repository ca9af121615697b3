#!/usr/bin/env python3
"""Per-token NLL of stories260K under Dual Chunk Attention, from the official ChunkLlama code.

Runs `forward` and `ChunkLlamaRotaryEmbedding` of HKUNLP/ChunkLlama's `chunkllama_attn_replace.py`
(pass its path; the file is not part of this repository) unchanged, inside a minimal float32 PyTorch
llama built from the GGUF weights (Q/K rows un-permuted back to the rotate-half layout the official code
expects). Like ../shared/golden/DCA.md, it uses the official decoding path (one token at a time, one
float32 softmax over all keys) with the cos/sin tables built once for the whole length n, so every
pair has the temperature mscale(n)^2. flash-attn is only called for the very first token (one key) and
is stubbed with the same math in float32.

Needs torch, numpy, gguf (not needed by CI: the output is committed as Tests/Fixtures/dca_stories260K.json).

  python3 scripts/dca_reference.py --chunkllama /path/to/chunkllama_attn_replace.py \
      --out Tests/Fixtures/dca_stories260K.json --setting 200,40 --setting 300,200
"""
import argparse
import importlib.machinery
import importlib.util
import json
import math
import os
import sys
import types

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("STRETCH_SHARED_DIR", os.path.join(HERE, "..", "..", "shared"))


def load_official(path):
    """Imports the official file with flash-attn replaced by a float32 stand-in (same math)."""
    def flash_attn_func(q, k, v, causal=True, return_attn_probs=False):
        # q, k, v: [b, len, heads, d]; causal aligned to the bottom-right corner, as flash-attn.
        q, k, v = (x.transpose(1, 2).float() for x in (q, k, v))
        s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        if causal:
            lq, lk = s.shape[-2], s.shape[-1]
            mask = torch.ones(lq, lk, dtype=torch.bool).tril(diagonal=lk - lq)
            s = s.masked_fill(~mask, float("-inf"))
        lse = torch.logsumexp(s, dim=-1)
        out = torch.softmax(s, dim=-1) @ v
        return out.transpose(1, 2), lse, None
    # transformers probes for flash-attn when it loads: load it before the stand-in exists.
    import transformers.cache_utils  # noqa: F401
    import transformers.models.llama.modeling_llama  # noqa: F401
    fa = types.ModuleType("flash_attn")
    fai = types.ModuleType("flash_attn.flash_attn_interface")
    fai.flash_attn_func = flash_attn_func
    fai.flash_attn_qkvpacked_func = None
    fa.flash_attn_interface = fai
    fa.__spec__ = importlib.machinery.ModuleSpec("flash_attn", None)
    fai.__spec__ = importlib.machinery.ModuleSpec("flash_attn.flash_attn_interface", None)
    sys.modules["flash_attn"] = fa
    sys.modules["flash_attn.flash_attn_interface"] = fai
    spec = importlib.util.spec_from_file_location("chunkllama_official", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Cache:
    """The two methods of transformers' Cache the official decoding path calls."""
    def __init__(self, layers):
        self.k = [None] * layers
        self.v = [None] * layers

    def get_usable_length(self, new_len, layer_idx):
        return 0 if self.k[layer_idx] is None else self.k[layer_idx].shape[-2]

    def update(self, k, v, layer_idx, cache_kwargs=None):
        if self.k[layer_idx] is None:
            self.k[layer_idx], self.v[layer_idx] = k, v
        else:
            self.k[layer_idx] = torch.cat([self.k[layer_idx], k], dim=-2)
            self.v[layer_idx] = torch.cat([self.v[layer_idx], v], dim=-2)
        return self.k[layer_idx], self.v[layer_idx]


def unpermute(w, heads):
    """GGUF (adjacent-pair RoPE) rows back to Hugging Face's rotate-half order."""
    out, dim = w.shape
    hd = out // heads
    return w.reshape(heads, hd // 2, 2, dim).swapaxes(1, 2).reshape(out, dim)


def run(mod, m, ids, chunk, local):
    mod.chunk_size, mod.local_window = chunk, local
    n = len(ids)
    t = lambda a: torch.tensor(np.ascontiguousarray(a), dtype=torch.float32)
    layers = []
    for l in m.L:
        a = types.SimpleNamespace()
        a.num_heads, a.num_key_value_heads, a.head_dim = m.n_heads, m.n_kv, m.head
        a.num_key_value_groups = m.n_heads // m.n_kv
        a.hidden_size = m.dim
        a.layer_idx = len(layers)
        lin = lambda w: (lambda x: x @ t(w).T)
        a.q_proj, a.k_proj = lin(unpermute(l["wq"], m.n_heads)), lin(unpermute(l["wk"], m.n_kv))
        a.v_proj, a.o_proj = lin(l["wv"]), lin(l["wo"])
        rot = mod.ChunkLlamaRotaryEmbedding(m.head, max_position_embeddings=m.ctx_train, base=m.theta)
        # Tables for the whole length once (as in the goldens): mscale(n) for every pair.
        rot._set_cos_sin_cache(seq_len=n, device=None, dtype=torch.float32)
        rot.max_seq_len = n
        a.rotary_emb = rot
        layers.append((a, l))
    cache = Cache(len(layers))
    rms = lambda x, w: x * torch.rsqrt((x * x).mean(-1, keepdim=True) + m.eps) * t(w)
    emb, out_w, norm_f = t(m.emb), t(m.out), m.norm_f
    nll = []
    with torch.no_grad():
        for p in range(n - 1):
            x = emb[ids[p]].reshape(1, 1, -1)
            pos = torch.tensor([[p]])
            for a, l in layers:
                h = mod.forward(a, rms(x, l["an"]), position_ids=pos, past_key_value=cache)[0]
                x = x + h
                y = rms(x, l["fn"])
                x = x + (torch.nn.functional.silu(y @ t(l["w1"]).T) * (y @ t(l["w3"]).T)) @ t(l["w2"]).T
            logits = (rms(x, norm_f) @ out_w.T).reshape(-1).double()
            nll.append(float(torch.logsumexp(logits, 0) - logits[ids[p + 1]]))
    return nll


def main():
    torch.set_num_threads(1)
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunkllama", required=True, help="path of the official chunkllama_attn_replace.py")
    ap.add_argument("--model", default=os.path.join(SHARED, "models", "stories260K.gguf"))
    ap.add_argument("--tokens", default=os.path.join(SHARED, "golden", "stories260K", "tokens.json"))
    ap.add_argument("--setting", action="append", required=True, help="C,L (chunk size, local window)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(SHARED, "tools"))
    import ref_llama
    m = ref_llama.Model(args.model)
    ids = json.load(open(args.tokens))["token_ids"]
    mod = load_official(args.chunkllama)
    result = {"model": "stories260K.gguf", "source": "HKUNLP/ChunkLlama chunkllama_attn_replace.py (decoding path)",
              "trained_context": m.ctx_train, "token_ids": ids, "settings": []}
    for s in args.setting:
        c, l = (int(v) for v in s.split(","))
        nll = run(mod, m, ids, c, l)
        ms = 1 + 0.05 * math.log(len(ids) / m.ctx_train) if len(ids) > m.ctx_train else 1.0
        print(f"C={c} L={l}: mean NLL {sum(nll) / len(nll):.6f}", file=sys.stderr)
        result["settings"].append({"chunk_size": c, "local_window": l, "logit_temperature_mscale_squared": ms * ms,
                                   "nll": nll, "mean_nll": sum(nll) / len(nll)})
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
