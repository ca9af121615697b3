#!/usr/bin/env python3
"""Drives `stretch chat` through a pseudo-terminal, as a person at a keyboard would.

Usage: scripts/chat-pty-check.py STRETCH_BINARY MODEL   (run by ChatCLITests)

Asks a question, starts a long reply and stops it with Ctrl-C (a real SIGINT from the terminal's line
discipline), asks another question in the same conversation, then ends input with Ctrl-D. Exits 0 when
every step behaved; otherwise prints which step failed and the whole transcript, and exits 1.
"""
import os
import pty
import re
import select
import sys
import time

binary, model = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(binary, [binary, "chat", "-m", model, "--temp", "0", "-t", "2", "-c", "2048",
                      "-sys", "You are a helpful assistant."])

transcript = b""
STATS = rb"\[prompt: (\d+) tokens \((\d+) cached\)[^\]]*stop: (\w+)\]"


def fail(step):
    print(f"FAILED: {step}\n--- transcript ---\n{transcript.decode('utf-8', 'replace')}")
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    sys.exit(1)


def read_until(predicate, timeout, step):
    """Reads the terminal until predicate(transcript) holds."""
    global transcript
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate(transcript):
            return
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            transcript += data
    if not predicate(transcript):
        fail(step)


def stats_count(text):
    return len(re.findall(STATS, text))


read_until(lambda t: b"Ctrl-D quits" in t and t.rstrip().endswith(b">"), 120, "the first prompt")
os.write(fd, b"What is the capital of France? Answer in one word.\r")
read_until(lambda t: stats_count(t) >= 1, 120, "the first reply")
if b"Paris" not in transcript.split(b"capital of France")[-1]:
    fail("the first reply names Paris")

mark = len(transcript)
os.write(fd, b"Write a long, detailed essay about the history of the Roman Empire.\r")
read_until(lambda t: len(t) - mark > 200, 120, "the long reply starts streaming")
os.write(fd, b"\x03")  # Ctrl-C: the terminal sends SIGINT
read_until(lambda t: b"[reply stopped]" in t[mark:], 30, "Ctrl-C stops the reply")
read_until(lambda t: t.rstrip().endswith(b">"), 30, "a prompt after the stopped reply")

if os.waitpid(pid, os.WNOHANG) != (0, 0):
    fail("the chat is still running after Ctrl-C")

os.write(fd, b"And the capital of Italy? One word.\r")
read_until(lambda t: stats_count(t) >= 2, 120, "the reply after Ctrl-C")
after = transcript.split(b"capital of Italy")[-1]
if b"Rome" not in after:
    fail("the reply after Ctrl-C names Rome")
prompt, cached, _ = (x.decode() for x in re.findall(STATS, transcript)[-1])
if int(cached) <= 0:
    fail("the turn after Ctrl-C reuses the cached conversation")

os.write(fd, b"\x04")  # Ctrl-D at an empty line: end of input
deadline = time.time() + 30
status = None
while time.time() < deadline:
    done, code = os.waitpid(pid, os.WNOHANG)
    if done:
        status = code
        break
    try:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            transcript += os.read(fd, 4096)
    except OSError:
        pass
if status is None:
    fail("Ctrl-D ends the chat")
if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
    fail(f"the chat exits with status 0 (got {status})")
print(f"ok: two answers, Ctrl-C stopped a reply, the next turn reused {cached} of {prompt} prompt tokens, Ctrl-D quit")
