#!/usr/bin/env python3
"""Fuzz reference for the byte-level BPE pre-tokenizers: Hugging Face `tokenizers` vs Stretch.

For each `tokenizer.ggml.pre` family below this script
1. builds a Hugging Face tokenizer whose pre-tokenizer is that family's split rule (the regex as the
   model's tokenizer.json writes it where llama.cpp quotes it, else llama.cpp's regex list, each regex a
   `Split(..., "isolated")`, then `ByteLevel(use_regex=False)`),
2. trains a small byte-level BPE with it (`BpeTrainer`, all 256 byte symbols in the alphabet) on a
   generated corpus,
3. exports the vocabulary to a vocabulary-only GGUF with the `gguf` package (`tokenizer.ggml.model=gpt2`,
   `tokenizer.ggml.pre=<name>`, tokens, merges, token types),
4. generates fuzz strings (Unicode categories, digit runs, whitespace runs, contractions, CJK, emoji, mixed
   scripts, newlines) and records the ids that Hugging Face's tokenizer gives them (no special tokens).

Output per family: `<dir>/<name>.gguf` and `<dir>/<name>.json` ({"pre", "cases": [{"text", "ids"}]}).
`TokenizerFuzzTests` encodes every case with Stretch and requires the same ids and an exact decode.

Usage:
  python3 scripts/tokenizer_fuzz.py                      # the committed CI sample (300 strings each)
  python3 scripts/tokenizer_fuzz.py --count 10000 --out /tmp/tokfuzz   # the large run
  then STRETCH_TOKENIZER_FUZZ_DIR=/tmp/tokfuzz swift test ... --filter TokenizerFuzzTests
Needs `pip install tokenizers gguf numpy` (not needed by CI, which reads the committed files).
"""
import argparse
import json
import os
import random

import gguf
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

# The GPT-2 split rule (Hugging Face's ByteLevel regex, llama.cpp's list for gpt-2).
GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
          r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
         r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN35 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*"
          r"|\s*[\r\n]+|\s+(?!\S)|\s+")
TEKKEN = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"
          r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*"
          r"|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
GPT4O = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
         r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
         r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
# DeepSeek LLM's letter class, as code points: the regex text holds characters such as U+1FD3 and U+2126
# that Unicode normalization (an editor, a copy) silently turns into others, which breaks its ranges.
DEEPSEEK_LETTER_RANGES = (
    "0041-005A 0061-007A 00B5 00C0-00D6 00D8-00F6 00F8-01BA 01BC-01BF 01C4-0293 0295-02AF 0370-0373 "
    "0376 0377 037B-037D 037F 0386 0388-038A 038C 038E-03A1 03A3-03F5 03F7-0481 "
    "048A-052F 0531-0556 10A0-10C5 13A0-13F5 13F8-13FD 1C90-1CBA 1CBD-1CBF 1D00-1D2B 1D6B-1D77 1D79-1D9A "
    "1E00-1F15 1F18-1F1D 1F20-1F45 1F48-1F4D 1F50-1F57 1F59 1F5B 1F5D 1F5F-1F7D 1F80-1FB4 "
    "1FB6-1FBC 1FBE 1FC2-1FC4 1FC6-1FCC 1FD0-1FD3 1FD6-1FDB 1FE0-1FEC 1FF2-1FF4 1FF6-1FFC 2102 "
    "2107 210A-2113 2115 2119-211D 2124 2126 2128 212A-212D 212F-2134 2139 "
    "213C-213F 2145-2149 214E 2183 2184 2C00-2C7B 2C7E-2CE4 2CEB-2CEE 2CF2 2CF3 "
    "A640-A66D A680-A69B A722-A76F A771-A787 A78B-A78E AB70-ABBF FB00-FB06 FB13-FB17 FF21-FF3A FF41-FF5A "
    "10400-1044F 104B0-104D3 104D8-104FB 10C80-10CB2 10CC0-10CF2 118A0-118DF 1E900-1E943 "
)
DEEPSEEK_LETTERS = "".join("-".join(chr(int(c, 16)) for c in r.split("-")) for r in DEEPSEEK_LETTER_RANGES.split())

# name -> (regexes applied in order, byte-level regex instead of a Split, ignore_merges)
FAMILIES = {
    "llama-bpe": ([LLAMA3], True),
    "dbrx": ([LLAMA3], False),
    "qwen2": ([QWEN2], False),
    "qwen35": ([QWEN35], False),
    "gpt-2": ([GPT2], False),
    "starcoder": ([r"\p{N}", GPT2], False),
    "smollm": ([r"\p{N}", GPT2], False),
    "refact": ([r"\p{N}", GPT2], False),
    "command-r": ([r"\p{N}", GPT2], False),
    "falcon": ([r"[\p{P}\$\+<=>\^~\|`]+", GPT2, r"[0-9][0-9][0-9]"], False),
    "deepseek-llm": ([r"[\r\n]", r"\s?[" + DEEPSEEK_LETTERS + r"]+", r"\s?[!-/:-~！-／：-～‘-‟　-。]+", r"\s+$",
                      r"[一-龥ࠀ-一가-퟿]+", r"\p{N}+"], False),
    "deepseek-coder": ([r"[\r\n]", r"\s?\p{L}+", r"\s?\p{P}+", r"[一-龥ࠀ-一가-퟿]+", r"\p{N}"], False),
    "deepseek-v3": ([r"\p{N}{1,3}", r"[一-龥぀-ゟ゠-ヿ]+",
                     r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+"""
                     r"| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"], False),
    "tekken": ([TEKKEN], True),
    "gpt-4o": ([GPT4O], False),
}

# Pieces the fuzz strings are made of.
WORDS = ["the", "The", "THE", "hello", "World", "naïve", "café", "Straße", "ǅungla", "ʰello", "iPhone", "McDonald",
         "camelCase", "snake_case", "HTTPServer", "xmlHTTPRequest", "a", "I", "x", "über", "ÆON", "œuvre"]
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'LL", "'D", "'", "''", "’s",
                "'x", "'ll've", "n't"]
SPACES = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", " \n", "\n ", "\u000b", "\u000c", "\u00a0", "\u3000",
          "\u2009", "\u200b", "\u0085", "\u2028", "\u2029", "\u1680", " \t ", "\n\n\n  ", "    "]
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["...", "--", "—", "–", "…", "¿", "¡", "«", "»", "“", "”", "‘",
                                                       "’", "•", "§", "¶", "©", "®", "™", "€", "£", "¥", "₹", "±",
                                                       "×", "÷", "∑", "√", "∞", "≠", "≤", "→", "⇒", "°", "‰", "、",
                                                       "。", "，", "！", "？", "：", "「", "」", "（", "）", "・", "〜"]
NUMBERS = ["0", "7", "42", "123", "1234", "12345", "1234567", "3.14159", "1,000,000", "2026-11-30", "0x1F",
           "٣٤٥", "３４５", "²", "½", "Ⅻ", "①", "໓", "१२३", "𝟘𝟙", "1e-9", "-17", "+3"]
CJK = ["你好", "世界", "中文字符", "日本語", "ひらがな", "カタカナ", "ｶﾀｶﾅ", "한국어", "안녕하세요", "漢字かな交じり文", "龥", "㐀㐁",
       "𠀀", "〇", "ー", "ㄱㄴ", "ᄀ"]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧", "🇺🇸", "❤️", "🙂🙃", "✨", "🤖", "1️⃣", "🏳️‍🌈", "©️"]
SCRIPTS = ["Привет", "мир", "Ελληνικά", "ΣΊΣΥΦΟΣ", "مرحبا", "עברית", "नमस्ते", "हिन्दी", "ไทย", "ภาษา", "ქართული",
           "Հայերեն", "ᏣᎳᎩ", "ⰀⰁ", "e\u0301", "a\u0308\u0323", "\u0301", "ﬁ", "Ａｂｃ", "ｘｙｚ", "ꙮ", "𐐷", "ℌℑ", "ǈ",
           "ß", "İstanbul", "ı", "K", "Ω", "µ", "ª", "ˆ"]
CODE = ["def f(x):\n    return x", "if (a && b) { c++; }", "<div class=\"x\">", "#include <stdio.h>", "x = y[0] // 2",
        "a->b", "::", "/* c */", "\"\"\"doc\"\"\"", "http://example.com/a?b=c", "foo_bar-baz", "$HOME", "@user",
        "#tag", "C:\\path\\file.txt", "[[1, 2], [3]]", "\\n", "{\"key\": \"value\"}"]
POOLS = [WORDS, CONTRACTIONS, SPACES, PUNCT, NUMBERS, CJK, EMOJI, SCRIPTS, CODE]

# Strings on which Stretch once differed from Hugging Face (kept first in every family's cases): unassigned
# code points after a space, combining marks and non-ASCII capitals in Tekken/GPT-4o, ASCII `~` before a
# contraction, U+3000 in DeepSeek's literal ranges, code points newer than Unicode 16.0.
REGRESSIONS = [' \U00076bf3\U0001f642a', 'a \U00086126 b', '\xdf \n  \u2fe2 ', ' \xc6ON ',
               '\u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3 caf\xe9',
               '\u0928\u092e\u0938\u094d\u0924\u0947 \u0939\u093f\u0928\u094d\u0926\u0940',
               '\U0001f3f3\ufe0f\u200d\U0001f308 I',
               '\U0001f44d\U0001f3fd\u20ac \u0928\u092e\u0938\u094d\u0924\u0947 ', "~'d \u2102",
               "~'LL\uba89 \u1ea1\u0308", "na\xefve'RE \t\t \u3000\u3000'RE", "'S \u3000\u3000\u3000'T ",
               '\u20e8\u216b', "\U0003259e'll've", ' \u1ad9 ', ' \U000fdb7b\xdf', ' \U00011dc0}5x+3']


def random_char(rng):
    """A random code point from the whole range (no surrogates), weighted towards the lower planes."""
    while True:
        top = rng.choice([0x80, 0x800, 0x3000, 0x10000, 0x10000, 0x30000, 0x110000])
        cp = rng.randrange(top)
        if not 0xD800 <= cp <= 0xDFFF:
            return chr(cp)


def random_digits(rng):
    return "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 14)))


def fuzz_string(rng):
    parts = []
    for _ in range(rng.randint(1, 12)):
        r = rng.random()
        if r < 0.12:
            parts.append(random_char(rng))
        elif r < 0.2:
            parts.append(random_digits(rng))
        elif r < 0.28:
            parts.append(rng.choice(SPACES) * rng.randint(1, 4))
        else:
            pool = rng.choice(POOLS)
            parts.append(rng.choice(pool))
        if rng.random() < 0.5:
            parts.append(" ")
    s = "".join(parts)
    if rng.random() < 0.1:
        s = s.upper()
    return s


def build(regexes, ignore_merges):
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    splits = [pre_tokenizers.Split(Regex(r), behavior="isolated") for r in regexes]
    tok.pre_tokenizer = pre_tokenizers.Sequence(splits + [pre_tokenizers.ByteLevel(add_prefix_space=False,
                                                                                   use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    return tok


def train(regexes, ignore_merges, corpus, vocab_size):
    tok = build(regexes, ignore_merges)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer=trainer)
    # Training ignores `ignore_merges`; rebuild the model with it from the trained vocabulary and merges.
    model = json.loads(tok.to_str())["model"]
    vocab = model["vocab"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    tok.model = models.BPE(vocab=vocab, merges=merges, ignore_merges=ignore_merges)
    return tok, vocab, merges


def export(path, name, vocab, merges):
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    assert [vocab[t] for t in tokens] == list(range(len(tokens)))
    w = gguf.GGUFWriter(path, "llama")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(name)
    w.add_token_list(tokens)
    w.add_token_merges([f"{a} {b}" for a, b in merges])
    w.add_token_types([gguf.TokenType.NORMAL] * len(tokens))
    w.add_bool("tokenizer.ggml.add_bos_token", False)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=300, help="fuzz strings per pre-tokenizer")
    ap.add_argument("--vocab", type=int, default=1200, help="BPE vocabulary size")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "StretchTests",
                                                  "Tokenizer", "Fixtures", "fuzz"))
    ap.add_argument("--only", nargs="*", help="families to write (default: all)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    corpus_rng = random.Random(1)
    corpus = [fuzz_string(corpus_rng) for _ in range(20000)]
    for name, (regexes, ignore_merges) in FAMILIES.items():
        if args.only and name not in args.only:
            continue
        tok, vocab, merges = train(regexes, ignore_merges, corpus, args.vocab)
        export(os.path.join(args.out, f"{name}.gguf"), name, vocab, merges)
        rng = random.Random(f"fuzz-{name}")  # the same strings on every run, different per family
        cases = []
        for i in range(args.count):
            text = REGRESSIONS[i] if i < len(REGRESSIONS) else fuzz_string(rng)
            enc = tok.encode(text, add_special_tokens=False)
            assert tok.decode(enc.ids, skip_special_tokens=False) == text, repr(text)
            cases.append({"text": text, "ids": enc.ids})
        with open(os.path.join(args.out, f"{name}.json"), "w", encoding="utf-8") as f:
            json.dump({"pre": name, "cases": cases}, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        print(f"{name}: vocab {len(vocab)}, merges {len(merges)}, {len(cases)} strings")


if __name__ == "__main__":
    main()
