"""The official `openai` Python client against a real `stretch serve` (stories260K, loopback only)."""
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import openai
import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("STRETCH_BIN", str(ROOT / ".build" / "release" / "stretch"))
SHARED = Path(os.environ.get("STRETCH_SHARED_DIR", ROOT.parent / "shared"))
MODEL = SHARED / "models" / "stories260K.gguf"


@pytest.fixture(scope="module")
def client():
    if not MODEL.exists() or not Path(BINARY).exists():
        missing = MODEL if not MODEL.exists() else BINARY
        if os.environ.get("CI") == "true":
            pytest.fail(f"required file missing under CI: {missing}")
        pytest.skip(f"missing {missing}")
    server = subprocess.Popen(
        [BINARY, "serve", "-m", str(MODEL), "--host", "127.0.0.1", "--port", "0", "-a", "stories", "--api-key", "sk-py"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    port = None
    deadline = time.time() + 60
    log = ""
    ready = False
    while time.time() < deadline and not (ready and port):
        line = server.stderr.readline()
        if not line:
            break
        log += line
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if match:
            port = int(match.group(1))
        ready = ready or "model loaded: ready" in line
    assert port and ready, f"stretch serve did not start: {log}"
    try:
        yield openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-py", max_retries=0, timeout=60)
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0


def test_models(client):
    assert [m.id for m in client.models.list().data] == ["stories"]


def test_chat_whole_and_streamed_agree(client):
    messages = [{"role": "user", "content": "Tell me a story."}]
    whole = client.chat.completions.create(model="stories", messages=messages, max_tokens=20, temperature=0)
    choice = whole.choices[0]
    assert choice.message.role == "assistant"
    assert choice.finish_reason in ("stop", "length")
    assert whole.usage.completion_tokens > 0
    stream = client.chat.completions.create(
        model="stories", messages=messages, max_tokens=20, temperature=0, stream=True,
        stream_options={"include_usage": True})
    text, usage = "", None
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage:
            usage = chunk.usage
    assert text == choice.message.content
    assert usage.completion_tokens == whole.usage.completion_tokens


def test_completions(client):
    r = client.completions.create(model="stories", prompt="Once upon a time", max_tokens=16, temperature=0)
    assert r.choices[0].text.startswith(", there was a little girl named Lily")
    assert r.choices[0].finish_reason == "length"
    assert r.usage.prompt_tokens == 5
    streamed = "".join(c.choices[0].text for c in client.completions.create(
        model="stories", prompt="Once upon a time", max_tokens=16, temperature=0, stream=True) if c.choices)
    assert streamed == r.choices[0].text


def test_wrong_key_is_refused(client):
    bad = openai.OpenAI(base_url=str(client.base_url), api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.completions.create(model="stories", prompt="Once", max_tokens=2)


def test_chat_logprobs_parse_and_agree_streamed(client):
    messages = [{"role": "user", "content": "Tell me a story."}]
    whole = client.chat.completions.create(
        model="stories", messages=messages, max_tokens=8, temperature=0, logprobs=True, top_logprobs=3)
    content = whole.choices[0].logprobs.content
    assert len(content) == whole.usage.completion_tokens
    assert "".join(t.token for t in content) == whole.choices[0].message.content
    for t in content:
        assert t.logprob <= 0 and len(t.top_logprobs) == 3
        # Greedy: the chosen token is the most likely one; alternatives come most likely first.
        assert t.top_logprobs[0].token == t.token and t.top_logprobs[0].logprob == t.logprob
        assert [a.logprob for a in t.top_logprobs] == sorted((a.logprob for a in t.top_logprobs), reverse=True)
        assert bytes(t.bytes).decode("utf-8", "replace") == t.token
    streamed = []
    for chunk in client.chat.completions.create(
            model="stories", messages=messages, max_tokens=8, temperature=0, logprobs=True, top_logprobs=3,
            stream=True):
        if chunk.choices and chunk.choices[0].logprobs:
            streamed += chunk.choices[0].logprobs.content
    assert [t.token for t in streamed] == [t.token for t in content]
    # The second request reuses the cached prompt, so its last prompt token runs alone (another kernel
    # path than the batched prompt): the same tokens, log-probabilities equal to float rounding.
    assert all(abs(a.logprob - b.logprob) < 1e-4 for a, b in zip(streamed, content))
