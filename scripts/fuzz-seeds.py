#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (Fuzz/, scripts/fuzz.sh) under Fuzz/corpus/<target>/.

Seeds come from real files and the test cases, never copied into the repository:
  FuzzGGUF          small complete GGUFs written with the `gguf` pip package (a tiny llama with a SentencePiece
                    vocabulary, one with a BPE vocabulary and rope-scaling keys), plus the header and metadata of
                    ../shared/models/stories260K.gguf cut at a few lengths.
  FuzzTokenizer     the llama.cpp tokenizer test texts (../shared/tokenizer-vectors/*.inp), each prefixed with a
                    selector byte for every tokenizer kind.
  FuzzChatTemplate  the chat templates of Tests/StretchTests/Chat/Fixtures/chat_templates.json with messages.
  FuzzServerJSON    request bodies of each completion endpoint, valid and invalid.
Usage: python3 scripts/fuzz-seeds.py [--shared ../shared]
"""
import argparse
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def put(target, data):
    d = os.path.join(ROOT, "Fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def gguf_seeds(shared):
    import numpy as np
    import gguf

    def tiny(path, tokenizer_model, extra):
        w = gguf.GGUFWriter(path, "llama")
        w.add_context_length(64)
        w.add_embedding_length(8)
        w.add_block_count(1)
        w.add_feed_forward_length(16)
        w.add_head_count(2)
        w.add_head_count_kv(1)
        w.add_layer_norm_rms_eps(1e-5)
        w.add_rope_freq_base(10000.0)
        extra(w)
        w.add_tokenizer_model(tokenizer_model)
        if tokenizer_model == "llama":
            tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + ["\u2581a", "\u2581the", "ab"]
            types = [2, 3, 3] + [6] * 256 + [1, 1, 1]
        else:
            w.add_tokenizer_pre("llama-bpe")
            tokens = ["<|begin|>", "<|end|>"] + [chr(c) for c in range(33, 127)] + ["Ġt", "he", "Ġthe"]
            types = [3, 3] + [1] * (len(tokens) - 2)
            w.add_token_merges(["Ġ t", "h e", "Ġt he"])
        w.add_token_list(tokens)
        w.add_token_types(types)
        w.add_token_scores([0.0] * len(tokens))
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
        rng = np.random.default_rng(0)
        vocab = len(tokens)
        shapes = {
            "token_embd.weight": (vocab, 8), "output_norm.weight": (8,),
            "blk.0.attn_norm.weight": (8,), "blk.0.attn_q.weight": (8, 8), "blk.0.attn_k.weight": (4, 8),
            "blk.0.attn_v.weight": (4, 8), "blk.0.attn_output.weight": (8, 8), "blk.0.ffn_norm.weight": (8,),
            "blk.0.ffn_gate.weight": (16, 8), "blk.0.ffn_up.weight": (16, 8), "blk.0.ffn_down.weight": (8, 16),
        }
        for name, shape in shapes.items():
            w.add_tensor(name, rng.standard_normal(shape).astype(np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        with open(path, "rb") as f:
            return f.read()

    tmp = os.path.join(ROOT, "Fuzz", "corpus", ".tmp.gguf")
    os.makedirs(os.path.dirname(tmp), exist_ok=True)
    spm = tiny(tmp, "llama", lambda w: None)
    bpe = tiny(tmp, "gpt2", lambda w: (w.add_rope_scaling_type(gguf.RopeScalingType.YARN),
                                       w.add_rope_scaling_factor(4.0),
                                       w.add_rope_scaling_orig_ctx_len(16)))
    os.remove(tmp)
    for data in (spm, bpe):
        put("FuzzGGUF", data)
        put("FuzzGGUF", data[: len(data) // 2])
    stories = os.path.join(shared, "models", "stories260K.gguf")
    if os.path.exists(stories):
        with open(stories, "rb") as f:
            head = f.read(1 << 16)
        for n in (24, 4096, 1 << 16):
            put("FuzzGGUF", head[:n])


def tokenizer_seeds(shared):
    d = os.path.join(shared, "tokenizer-vectors")
    texts = set()
    for name in sorted(os.listdir(d)):
        if name.endswith(".inp"):
            with open(os.path.join(d, name), "rb") as f:
                texts.update(f.read().split(b"\n__ggml_vocab_test__\n"))
    # The harness picks the tokenizer with selector % 4 and parses special tokens when bit 4 is set.
    for text in sorted(texts):
        for selector in (0, 1, 2, 3, 0x10, 0x11):
            put("FuzzTokenizer", bytes([selector]) + text)


def template_seeds():
    path = os.path.join(ROOT, "Tests", "StretchTests", "Chat", "Fixtures", "chat_templates.json")
    with open(path) as f:
        templates = json.load(f)["templates"]
    for t in templates:
        src = t["source"].encode()
        put("FuzzChatTemplate", src)
        put("FuzzChatTemplate", src + b"\0Hello\0Hi there\0What is 2+2?")
    for small in (b"{{ messages[0]['content'] }}\0x", b"{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}\0a\0b",
                  b"{% macro f(n) %}{% if n %}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(3) }}",
                  b"{{ 'ab' * 3 }}{{ [1,2] | tojson }}{% set ns = namespace(x=1) %}{{ ns.x }}"):
        put("FuzzChatTemplate", small)


def server_seeds():
    bodies = [
        {"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 8, "stream": True,
         "stream_options": {"include_usage": True}},
        {"prompt": "Once upon a time", "n_predict": 16, "temperature": 0.7, "top_k": 40, "top_p": 0.9,
         "min_p": 0.05, "repeat_penalty": 1.1, "repeat_last_n": 64, "seed": 42, "stop": ["\n", "."]},
        {"prompt": [1, 2, 3], "cache_prompt": False, "return_tokens": True, "ignore_eos": True,
         "context_extension": "self-extend:group=4,window=64"},
        {"prompt": "x", "stop": "end", "max_completion_tokens": -1},
        {"prompt": "x", "temperature": "hot"},
        [1, 2, 3],
    ]
    for b in bodies:
        put("FuzzServerJSON", json.dumps(b).encode())
    put("FuzzServerJSON", b"[" * 100 + b"]" * 100)
    put("FuzzServerJSON", b'{"prompt": "\\ud800", "n_predict": 1e400}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(ROOT), "shared"))
    args = ap.parse_args()
    shared = args.shared if os.path.isdir(args.shared) else "/work/shared"
    gguf_seeds(shared)
    tokenizer_seeds(shared)
    template_seeds()
    server_seeds()
    for t in sorted(os.listdir(os.path.join(ROOT, "Fuzz", "corpus"))):
        print(t, len(os.listdir(os.path.join(ROOT, "Fuzz", "corpus", t))), "seeds")


if __name__ == "__main__":
    sys.exit(main())
