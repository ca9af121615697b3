#!/usr/bin/env python3
"""Render chat templates with jinja2 configured like Hugging Face transformers and write JSON fixtures.

The expected strings come only from jinja2 (the oracle); the Swift tests compare against them byte for byte.
Usage: python3 scripts/chat_template_fixtures.py  (needs jinja2 and gguf)
"""
import json
import os
from datetime import datetime

import jinja2
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "StretchTests", "Chat", "Fixtures")
FIXED_DATE = datetime(2024, 7, 26, 15, 30, 45)
QWEN_CODER_GGUF = os.path.join(os.environ.get("STRETCH_MODELS_DIR", os.path.join(ROOT, "models")),
                               "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
VOCAB_DIR = os.path.join(os.environ.get("STRETCH_SHARED_DIR", os.path.join(os.path.dirname(ROOT), "shared")),
                         "tokenizer-vectors")


class GenerationTracker(Extension):
    """Mirrors transformers' AssistantTracker: {% generation %} renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return FIXED_DATE.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTracker, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = make_env()


def gguf_template(path):
    from gguf import GGUFReader
    field = GGUFReader(path).fields["tokenizer.chat_template"]
    return bytes(field.parts[field.data[0]]).decode()


def read_template(name):
    with open(os.path.join(ROOT, "scripts", "templates", name), encoding="utf-8") as f:
        return f.read()


def m(role, content, **extra):
    return dict(role=role, content=content, **extra)


SYS = m("system", "You are a terse assistant.")
CONVERSATIONS = [
    [m("user", "Hello!")],
    [SYS, m("user", "What is 2+2?")],
    [SYS, m("user", "Hi"), m("assistant", "Hello! How can I help?"), m("user", "Tell me a joke.")],
    [m("user", "a"), m("assistant", "b"), m("user", "c"), m("assistant", "d"), m("user", "e")],
    [m("user", "你好，世界！ 🌍🚀 こんにちは"), m("assistant", "你好！😀"), m("user", "Ça va? Ñandú — “quotes”")],
    [m("user", "")],
    [SYS, m("user", "  padded text \n\n"), m("assistant", "\n reply with spaces  ")],
    [m("user", "Write code"), m("assistant", "def f():\n    return 'x'  # \"q\" \\ backslash")],
    [m("system", "Line one\nLine two\ttab"), m("user", "Multi\nline\nquestion?")],
    [SYS, m("user", "1"), m("assistant", "2"), m("user", "3"), m("assistant", "4"), m("user", "5"),
     m("assistant", "6"), m("user", "7")],
]

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Get the weather for a city",
     "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"},
                    "unit": {"type": "string", "enum": ["c", "f"]}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "add", "description": "Add two numbers ½",
     "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "integer"}}}}},
]
TOOL_CONVERSATIONS = [
    [m("user", "Weather in Paris?")],
    [SYS, m("user", "Weather in Paris?"),
     m("assistant", "", tool_calls=[{"type": "function", "function": {"name": "get_weather",
                                                                      "arguments": {"city": "Paris", "unit": "c"}}}]),
     m("tool", "{\"temp\": 21.5}"), m("user", "Thanks")],
    [m("user", "Add 1.5 and 2"),
     m("assistant", "Calling.", tool_calls=[{"function": {"name": "add", "arguments": {"a": 1.5, "b": 2}}},
                                            {"name": "add", "arguments": {"a": 0.1, "b": -3}}]),
     m("tool", "3.5"), m("tool", "-2.9")],
]


def render(source, messages, gen, bos, eos, tools=None, extra=None):
    template = ENV.from_string(source)
    kwargs = dict(messages=messages, tools=tools, documents=None, add_generation_prompt=gen,
                  bos_token=bos, eos_token=eos)
    kwargs.update(extra or {})
    try:
        return {"expected": template.render(**kwargs)}
    except jinja2.exceptions.TemplateError as e:
        if type(e) is not jinja2.exceptions.TemplateError:
            raise
        return {"error": str(e)}


def build(name, source, bos, eos, builtin=None, conversations=CONVERSATIONS, tools=False, extra_cases=()):
    cases = []
    convs = list(conversations) + list(extra_cases)
    for conv in convs:
        for gen in (True, False):
            case = {"messages": conv, "add_generation_prompt": gen, "tools": None}
            case.update(render(source, conv, gen, bos, eos))
            cases.append(case)
    if tools:
        for conv in TOOL_CONVERSATIONS:
            case = {"messages": conv, "add_generation_prompt": True, "tools": TOOLS}
            case.update(render(source, conv, True, bos, eos, tools=TOOLS))
            cases.append(case)
    return {"name": name, "source": source, "bos_token": bos, "eos_token": eos, "builtin": builtin,
            "cases": cases}


BAD_ROLES = [[m("user", "a"), m("user", "b")], [m("assistant", "first")], [m("user", "x"), m("tool", "y")]]


def main():
    os.makedirs(OUT, exist_ok=True)
    vocab = lambda n: gguf_template(os.path.join(VOCAB_DIR, n))
    templates = [
        build("qwen2.5-coder-gguf", gguf_template(QWEN_CODER_GGUF), "", "<|im_end|>", tools=True),
        build("qwen2-vocab-gguf", vocab("ggml-vocab-qwen2.gguf"), "", "<|endoftext|>"),
        build("phi3-vocab-gguf", vocab("ggml-vocab-phi-3.gguf"), "<s>", "<|endoftext|>"),
        build("command-r-vocab-gguf", vocab("ggml-vocab-command-r.gguf"), "<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>",
              extra_cases=BAD_ROLES),
        build("chatml", read_template("chatml.jinja"), "", "<|im_end|>", builtin="chatml"),
        build("llama3", read_template("llama3.jinja"), "<|begin_of_text|>", "<|eot_id|>", builtin="llama3"),
        build("llama3.1-tools", read_template("llama31.jinja"), "<|begin_of_text|>", "<|eot_id|>", tools=True,
              extra_cases=[[m("user", "run it"), m("ipython", "{\"ok\": true}")]]),
        build("gemma", read_template("gemma.jinja"), "<bos>", "<eos>", builtin="gemma", extra_cases=BAD_ROLES),
        build("llama2", read_template("llama2.jinja"), "<s>", "</s>", builtin="llama2", extra_cases=BAD_ROLES),
        build("mistral", read_template("mistral.jinja"), "<s>", "</s>", builtin="mistral-v3",
              extra_cases=BAD_ROLES),
        build("phi3", read_template("phi3.jinja"), "<s>", "<|endoftext|>", builtin="phi3"),
        build("phi4", read_template("phi4.jinja"), "", "<|im_end|>"),
        build("deepseek", read_template("deepseek.jinja"), "<｜begin▁of▁sentence｜>", "<|EOT|>",
              builtin="deepseek"),
        build("deepseek-r1", read_template("deepseek_r1.jinja"), "<｜begin▁of▁sentence｜>",
              "<｜end▁of▁sentence｜>", builtin="deepseek3",
              extra_cases=[[m("user", "q"), m("assistant", "<think>\nhmm\n</think>\n\nThe answer."),
                            m("user", "again")]]),
        build("stress", read_template("stress.jinja"), "<s>", "</s>"),
    ]
    fixture = {"date": FIXED_DATE.isoformat(), "jinja2_version": jinja2.__version__, "templates": templates}
    with open(os.path.join(OUT, "chat_templates.json"), "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=1)
    print(sum(len(t["cases"]) for t in templates), "cases in", len(templates), "templates")


if __name__ == "__main__":
    main()
