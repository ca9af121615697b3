#!/usr/bin/env python3
"""Tiny random-weight models per architecture, converted to GGUF, with Hugging Face transformers' outputs.

For each architecture a real model's config is shrunk (2-6 layers, hidden 64, vocabulary 320) and built in
transformers with random weights at float32. The script converts it to GGUF itself (the `gguf` package's
writer, llama.cpp's tensor names and layouts: Q/K row permutation for adjacent-pair RoPE, Gemma's norm
weights stored as 1 + w, Llama 3's `rope_freqs.weight`, Phi-3's fused tensors and LongRoPE factors) and
records transformers' logits for a fixed prompt and its greedy continuation. The Swift tests
(ArchitectureReferenceTests) compare Stretch against these files; CI needs neither torch nor transformers.

Run (needs torch, transformers, gguf, numpy):
    python3 scripts/architecture_fixtures.py [--out Tests/StretchTests/Model/Fixtures/Architectures]
"""
import argparse
import json
import math
import os

import gguf
import numpy as np
import torch
import transformers as tf

VOCAB = 320
PROMPT_LEN = 24
GREEDY = 32
SEED = 1234


def prompt_ids():
    rng = np.random.default_rng(7)
    return [1] + [int(x) for x in rng.integers(3, VOCAB, PROMPT_LEN - 1)]


# Shrunk configs. Each names the real model whose config it keeps (rope, norms, activation, caps, pattern);
# sizes are cut down (each file stays under 600 KB). Gemma's query_pre_attn_scalar equals head_dim as in the real 2B/9B/1B/270M models
# (llama.cpp applies 1/sqrt(head_dim)); the soft-caps are lowered so that tanh is active on random weights.
COMMON = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_attention_heads=4,
              num_key_value_heads=2, bos_token_id=1, eos_token_id=2, pad_token_id=0)

MODELS = {
    # meta-llama/Llama-3.2-1B: llama3 rope scaling (baked into rope_freqs.weight by the converter).
    "llama": dict(
        cls="LlamaForCausalLM", cfg="LlamaConfig", arch="llama",
        config=dict(COMMON, num_hidden_layers=2, max_position_embeddings=131072, rms_norm_eps=1e-5,
                    tie_word_embeddings=True,
                    rope_parameters=dict(rope_type="llama3", rope_theta=500000.0, factor=32.0, low_freq_factor=1.0,
                                         high_freq_factor=4.0, original_max_position_embeddings=8192))),
    # Qwen/Qwen2.5-0.5B: Q/K/V biases, rotate-half RoPE.
    "qwen2": dict(
        cls="Qwen2ForCausalLM", cfg="Qwen2Config", arch="qwen2",
        config=dict(COMMON, num_hidden_layers=2, max_position_embeddings=32768, rms_norm_eps=1e-6,
                    tie_word_embeddings=True, rope_parameters=dict(rope_type="default", rope_theta=1000000.0))),
    # Qwen/Qwen2.5-7B-Instruct with the YaRN block its model card adds for 128K contexts.
    "qwen2-yarn": dict(
        cls="Qwen2ForCausalLM", cfg="Qwen2Config", arch="qwen2",
        config=dict(COMMON, num_hidden_layers=2, max_position_embeddings=32768, rms_norm_eps=1e-6,
                    tie_word_embeddings=True,
                    rope_parameters=dict(rope_type="yarn", rope_theta=1000000.0, factor=4.0,
                                         original_max_position_embeddings=32768))),
    # Qwen/Qwen3-0.6B: per-head Q/K RMSNorm, no biases, explicit head_dim.
    "qwen3": dict(
        cls="Qwen3ForCausalLM", cfg="Qwen3Config", arch="qwen3",
        config=dict(COMMON, num_hidden_layers=2, head_dim=32, max_position_embeddings=40960, rms_norm_eps=1e-6,
                    tie_word_embeddings=True, attention_bias=False,
                    rope_parameters=dict(rope_type="default", rope_theta=1000000.0))),
    # google/gemma-2-2b: soft-capping, sliding window on even layers, post-norms, GeGLU (window cut to 8).
    "gemma2": dict(
        cls="Gemma2ForCausalLM", cfg="Gemma2Config", arch="gemma2",
        config=dict(COMMON, num_hidden_layers=4, intermediate_size=64, head_dim=16, query_pre_attn_scalar=16,
                    max_position_embeddings=8192,
                    rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_activation="gelu_pytorch_tanh",
                    sliding_window=8, attn_logit_softcapping=10.0, final_logit_softcapping=5.0,
                    rope_parameters=dict(rope_type="default", rope_theta=10000.0))),
    # google/gemma-3-1b-pt: Q/K norms, 5 local : 1 global, local base 10,000 (window cut to 8).
    "gemma3": dict(
        cls="Gemma3ForCausalLM", cfg="Gemma3TextConfig", arch="gemma3",
        config=dict(COMMON, num_hidden_layers=6, hidden_size=32, intermediate_size=64, num_attention_heads=2,
                    num_key_value_heads=1, head_dim=16, query_pre_attn_scalar=16, max_position_embeddings=32768,
                    rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_activation="gelu_pytorch_tanh",
                    sliding_window=8, rope_theta=1000000.0, rope_local_base_freq=10000.0)),
    # microsoft/Phi-3-mini-128k-instruct: fused QKV and gate/up, LongRoPE (original context cut to 64).
    "phi3": dict(
        cls="Phi3ForCausalLM", cfg="Phi3Config", arch="phi3",
        config=dict(COMMON, num_hidden_layers=2, max_position_embeddings=256, original_max_position_embeddings=64,
                    rms_norm_eps=1e-5, tie_word_embeddings=False, sliding_window=None,
                    rope_parameters=dict(rope_type="longrope", rope_theta=10000.0,
                                         original_max_position_embeddings=64,
                                         short_factor=[1.0, 1.05, 1.1, 1.3, 1.6, 2.0, 2.8, 3.5],
                                         long_factor=[1.0, 1.2, 1.9, 3.1, 5.5, 9.0, 15.0, 25.0]))),
    # microsoft/Phi-4-mini-instruct (GGUF arch phi3): partial rotary (0.75), tied output, LongRoPE.
    "phi4-mini": dict(
        cls="Phi3ForCausalLM", cfg="Phi3Config", arch="phi3",
        config=dict(COMMON, num_hidden_layers=2, intermediate_size=64, max_position_embeddings=256,
                    original_max_position_embeddings=64, rms_norm_eps=1e-5, tie_word_embeddings=True,
                    sliding_window=None,
                    rope_parameters=dict(rope_type="longrope", rope_theta=10000.0, partial_rotary_factor=0.75,
                                         original_max_position_embeddings=64,
                                         short_factor=[1.0, 1.1, 1.4, 1.9, 2.7, 3.6],
                                         long_factor=[1.0, 1.5, 3.0, 6.5, 12.0, 20.0]))),
    # ibm-granite/granite-3.1-2b-instruct: embedding, residual, attention and logit multipliers.
    "granite": dict(
        cls="GraniteForCausalLM", cfg="GraniteConfig", arch="granite",
        config=dict(COMMON, num_hidden_layers=2, max_position_embeddings=131072, rms_norm_eps=1e-5,
                    tie_word_embeddings=True, embedding_multiplier=12.0, residual_multiplier=0.22,
                    attention_multiplier=0.015625 * 8, logits_scaling=8.0,
                    rope_parameters=dict(rope_type="default", rope_theta=10000000.0))),
    # HuggingFaceTB/SmolLM3-3B: every fourth layer without RoPE (NoPE).
    "smollm3": dict(
        cls="SmolLM3ForCausalLM", cfg="SmolLM3Config", arch="smollm3",
        config=dict(COMMON, num_hidden_layers=4, intermediate_size=64, max_position_embeddings=65536,
                    rms_norm_eps=1e-6, tie_word_embeddings=True, no_rope_layer_interval=4,
                    rope_parameters=dict(rope_type="default", rope_theta=5000000.0))),
}
# Models with every matrix quantized (transformers runs the dequantized weights; gguf's numpy quantizer
# writes Q8_0 and Q4_0, not the K-quants).
Q8_0, Q4_0 = gguf.GGMLQuantizationType.Q8_0, gguf.GGMLQuantizationType.Q4_0
QUANTIZED = {"llama-q8_0": ("llama", Q8_0), "gemma2-q4_0": ("gemma2", Q4_0)}


def build(spec):
    torch.manual_seed(SEED)
    cfg = getattr(tf, spec["cfg"])(**spec["config"])
    cfg._attn_implementation = "eager"
    model = getattr(tf, spec["cls"])(cfg).float().eval()
    gemma = spec["arch"].startswith("gemma")
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                # Gemma norms multiply by (1 + w), the others by w.
                p.copy_((0.0 if gemma else 1.0) + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(0.15 * torch.randn_like(p))
    return cfg, model


def roundtrip(w, qtype):
    q = gguf.quants.quantize(w, qtype)
    return gguf.quants.dequantize(q, qtype).reshape(w.shape).astype(np.float32)


def adjacent_pairs(w, heads):
    """Rows of a Q or K matrix reordered so that llama.cpp's adjacent-pair RoPE equals rotate-half."""
    rows = w.shape[0]
    hd = rows // heads
    return w.reshape(heads, 2, hd // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def llama3_factors(rp, head_dim):
    base, factor = rp["rope_theta"], rp["factor"]
    low, high, old = rp["low_freq_factor"], rp["high_freq_factor"], rp["original_max_position_embeddings"]
    out = []
    for k in range(head_dim // 2):
        freq = base ** (-2 * k / head_dim)
        wavelen = 2 * math.pi / freq
        if wavelen < old / high:
            out.append(1.0)
        elif wavelen > old / low:
            out.append(factor)
        else:
            smooth = (old / wavelen - low) / (high - low)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def write_gguf(path, spec, cfg, model, quantize):
    a = spec["arch"]
    c = spec["config"]
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    heads, kv = cfg.num_attention_heads, cfg.num_key_value_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // heads
    w = gguf.GGUFWriter(path, a)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    rp = cfg.rope_parameters
    if a == "gemma3":
        rp = rp["full_attention"]
    w.add_rope_freq_base(rp["rope_theta"])
    w.add_rope_dimension_count(int(head_dim * rp.get("partial_rotary_factor", 1.0)))
    if rp.get("rope_type") == "yarn":
        # As convert_hf_to_gguf writes a YaRN block.
        w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        w.add_rope_scaling_factor(rp["factor"])
        w.add_rope_scaling_orig_ctx_len(rp["original_max_position_embeddings"])
    if a in ("gemma2", "gemma3"):
        w.add_sliding_window(cfg.sliding_window)
    if a == "gemma2":
        w.add_float32(f"{a}.attn_logit_softcapping", cfg.attn_logit_softcapping)
        w.add_float32(f"{a}.final_logit_softcapping", cfg.final_logit_softcapping)
    if a == "granite":
        w.add_float32(f"{a}.embedding_scale", cfg.embedding_multiplier)
        w.add_float32(f"{a}.residual_scale", cfg.residual_multiplier)
        w.add_float32(f"{a}.attention.scale", cfg.attention_multiplier)
        w.add_float32(f"{a}.logit_scale", cfg.logits_scaling)
    if a == "phi3":
        orig = rp["original_max_position_embeddings"]
        scale = cfg.max_position_embeddings / orig
        w.add_rope_scaling_orig_ctx_len(orig)
        w.add_rope_scaling_attn_factors(math.sqrt(1 + math.log(scale) / math.log(orig)))
        w.add_sliding_window(0)
    # A byte-level SentencePiece vocabulary, enough for `stretch` to load the file.
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    tokens += [f"tok{i}" for i in range(len(tokens), VOCAB)]
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * VOCAB)
    w.add_token_types([2, 3, 3] + [6] * 256 + [1] * (VOCAB - 259))
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)

    gemma = a.startswith("gemma")

    def put(name, t, matrix=True):
        if matrix and quantize is not None:
            q = gguf.quants.quantize(t, quantize)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=quantize)
        else:
            w.add_tensor(name, np.ascontiguousarray(t, dtype=np.float32))

    def norm(t):
        return t + 1 if gemma else t

    put("token_embd.weight", sd["model.embed_tokens.weight"])
    put("output_norm.weight", norm(sd["model.norm.weight"]), matrix=False)
    if not cfg.tie_word_embeddings:
        put("output.weight", sd["lm_head.weight"])
    if a == "llama":
        put("rope_freqs.weight", llama3_factors(rp, head_dim), matrix=False)
    if a == "phi3":
        put("rope_factors_long.weight", np.array(rp["long_factor"], dtype=np.float32), matrix=False)
        put("rope_factors_short.weight", np.array(rp["short_factor"], dtype=np.float32), matrix=False)
    adjacent = a in ("llama", "granite", "smollm3")
    for l in range(cfg.num_hidden_layers):
        s = f"model.layers.{l}."
        b = f"blk.{l}."
        put(b + "attn_norm.weight", norm(sd[s + "input_layernorm.weight"]), matrix=False)
        if a == "phi3":
            put(b + "attn_qkv.weight", sd[s + "self_attn.qkv_proj.weight"])
            put(b + "ffn_up.weight", sd[s + "mlp.gate_up_proj.weight"])
        else:
            wq, wk = sd[s + "self_attn.q_proj.weight"], sd[s + "self_attn.k_proj.weight"]
            if adjacent:
                wq, wk = adjacent_pairs(wq, heads), adjacent_pairs(wk, kv)
            put(b + "attn_q.weight", wq)
            put(b + "attn_k.weight", wk)
            put(b + "attn_v.weight", sd[s + "self_attn.v_proj.weight"])
            for x in "qkv":
                if s + f"self_attn.{x}_proj.bias" in sd:
                    put(b + f"attn_{x}.bias", sd[s + f"self_attn.{x}_proj.bias"], matrix=False)
            put(b + "ffn_gate.weight", sd[s + "mlp.gate_proj.weight"])
            put(b + "ffn_up.weight", sd[s + "mlp.up_proj.weight"])
        put(b + "attn_output.weight", sd[s + "self_attn.o_proj.weight"])
        put(b + "ffn_down.weight", sd[s + "mlp.down_proj.weight"])
        if s + "self_attn.q_norm.weight" in sd:
            put(b + "attn_q_norm.weight", norm(sd[s + "self_attn.q_norm.weight"]), matrix=False)
            put(b + "attn_k_norm.weight", norm(sd[s + "self_attn.k_norm.weight"]), matrix=False)
        if gemma:
            put(b + "post_attention_norm.weight", norm(sd[s + "post_attention_layernorm.weight"]), matrix=False)
            put(b + "ffn_norm.weight", norm(sd[s + "pre_feedforward_layernorm.weight"]), matrix=False)
            put(b + "post_ffw_norm.weight", norm(sd[s + "post_feedforward_layernorm.weight"]), matrix=False)
        else:
            put(b + "ffn_norm.weight", sd[s + "post_attention_layernorm.weight"], matrix=False)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@torch.no_grad()
def reference(model, ids):
    out = model(torch.tensor([ids])).logits[0].float().numpy()
    seq = list(ids)
    greedy, gaps = [], []
    for _ in range(GREEDY):
        last = model(torch.tensor([seq])).logits[0, -1].float().numpy()
        order = np.argsort(-last)
        greedy.append(int(order[0]))
        gaps.append(float(last[order[0]] - last[order[1]]))
        seq.append(int(order[0]))
    return out, greedy, min(gaps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="Tests/StretchTests/Model/Fixtures/Architectures")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    ids = prompt_ids()
    refs = {}
    jobs = [(n, n, None) for n in MODELS] + [(n, base, q) for n, (base, q) in QUANTIZED.items()]
    for name, base, quantize in jobs:
        spec = MODELS[base]
        cfg, model = build(spec)
        if quantize is not None:
            with torch.no_grad():
                for pname, p in model.named_parameters():
                    if p.dim() == 2:
                        p.copy_(torch.from_numpy(roundtrip(p.numpy(), quantize)))
        path = os.path.join(args.out, f"{name}.gguf")
        write_gguf(path, spec, cfg, model, quantize)
        logits, greedy, gap = reference(model, ids)
        logits.astype("<f4").tofile(os.path.join(args.out, f"{name}.logits.f32"))
        entry = dict(architecture=spec["arch"], source=spec["cls"], prompt=ids, greedy=greedy, min_greedy_gap=gap,
                     vocab=VOCAB, max_abs_logit=float(np.abs(logits).max()))
        if spec["arch"] == "phi3":
            # A sequence past the original context: transformers switches to the long factors.
            long_ids = ids + [int(x) for x in np.random.default_rng(11).integers(3, VOCAB, 80 - len(ids))]
            with torch.no_grad():
                long_logits = model(torch.tensor([long_ids])).logits[0, -1].float().numpy()
            long_logits.astype("<f4").tofile(os.path.join(args.out, f"{name}.long.logits.f32"))
            entry["long_prompt"] = long_ids
        refs[name] = entry
        print(f"{name}: {os.path.getsize(path)} bytes, max|logit| {entry['max_abs_logit']:.2f}, "
              f"min greedy gap {gap:.4f}")
    meta = dict(transformers=tf.__version__, torch=torch.__version__, gguf="gguf (pip)", seed=SEED)
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump(dict(generator=meta, models=refs), f, indent=1)


if __name__ == "__main__":
    main()
