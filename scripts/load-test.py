#!/usr/bin/env python3
"""A bounded load test of `stretch serve`, optionally side by side with `llama-server`, on loopback only.

Starts each server itself on a free 127.0.0.1 port (never another address), waits for /health, then runs
its phases alternately on the servers (stretch, llama, stretch, llama, ...), so that both meet the same
machine load:

  * streams N (for each N in --streams): N clients, each sending requests back to back for --seconds;
    aggregate generated tokens/s = all completion tokens / wall time.
  * burst: --clients concurrent clients x --requests requests each (default 64 x 4); every answer must be
    complete (HTTP 200, `data: [DONE]`, exactly --max-tokens tokens with ignore_eos): failed and truncated
    answers are counted; time to first token p50/p99.

Peak and current RSS of each server (/proc/PID/status VmHWM, VmRSS) are read after loading and after the
load. Everything stops by itself: each request has a timeout, the whole run a deadline (--deadline), and
the servers are stopped with SIGTERM (then SIGKILL) at the end or on error.

Usage:
  scripts/load-test.py --model models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf --np 4 \
      [--llama-server /path/to/llama-server] [--json out.json]
"""
import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HOST = "127.0.0.1"  # the only address this script ever talks to

TOPICS = [
    "a lighthouse keeper", "a lost robot", "the first snow", "a dragon who bakes bread", "a city under the sea",
    "a clock that runs backwards", "two rival chess players", "a cat on a train", "the last library",
    "a garden on Mars", "a shy ghost", "a storm at sea", "a talking river", "an old violin",
]


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss(pid):
    """(VmHWM, VmRSS) in MiB."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmHWM", 0.0), fields.get("VmRSS", 0.0)


def wait_healthy(port, timeout, check):
    """Polls GET /health until 200 (a server answers 503 while it loads); `check` may raise to give up."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        check()
        try:
            c = http.client.HTTPConnection(HOST, port, timeout=2)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"nothing healthy on {HOST}:{port} after {timeout} s")


class Server:
    def __init__(self, name, argv, log_path):
        self.name = name
        self.port = free_port()
        self.argv = [a.replace("{PORT}", str(self.port)) for a in argv]
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout):
        wait_healthy(self.port, timeout, self.check)

    def check(self):
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log.name}")

    def rss(self):
        return rss(self.process.pid)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class Attached:
    """A server started elsewhere, on loopback."""
    def __init__(self, port):
        self.name = f"attached:{port}"
        self.port = port

    def wait_ready(self, timeout):
        wait_healthy(self.port, timeout, lambda: None)

    def rss(self):
        return 0.0, 0.0

    def stop(self):
        pass


def chat(port, prompt, max_tokens, timeout, conversation="c0"):
    """One streamed chat completion. Returns dict(ok, tokens, ttft, seconds, complete, error)."""
    body = json.dumps({
        "model": "m", "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
        "temperature": 0, "ignore_eos": True, "stream": True, "stream_options": {"include_usage": True},
    })
    start = time.perf_counter()
    result = {"ok": False, "tokens": 0, "ttft": None, "seconds": 0.0, "complete": False, "error": None}
    try:
        c = http.client.HTTPConnection(HOST, port, timeout=timeout)
        # X-Conversation-Id lets a balancer keep a conversation on one replica (docs/DEPLOY.md).
        c.request("POST", "/v1/chat/completions", body=body,
                  headers={"Content-Type": "application/json", "X-Conversation-Id": conversation})
        r = c.getresponse()
        if r.status != 200:
            result["error"] = f"HTTP {r.status}: {r.read()[:200]!r}"
            return result
        chunks = 0
        usage = None
        while True:
            line = r.readline()
            if not line:
                break
            line = line.strip()
            if not line.startswith(b"data: "):
                continue
            data = line[6:]
            if data == b"[DONE]":
                result["complete"] = True
                break
            event = json.loads(data)
            if event.get("usage"):
                usage = event["usage"]
            for choice in event.get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    chunks += 1
                    if result["ttft"] is None:
                        result["ttft"] = time.perf_counter() - start
        result["tokens"] = usage["completion_tokens"] if usage else chunks
        result["ok"] = True
    except Exception as e:  # a failed request is counted, never fatal
        result["error"] = f"{type(e).__name__}: {e}"
    finally:
        result["seconds"] = time.perf_counter() - start
    return result


def run_clients(port, clients, requests_per_client, max_tokens, timeout, seconds=None):
    """`clients` threads; each sends requests back to back (a fixed number, or until `seconds` pass)."""
    results, lock = [], threading.Lock()
    stop_at = time.perf_counter() + seconds if seconds else None

    def client(k):
        n = 0
        while True:
            if stop_at is not None and time.perf_counter() >= stop_at:
                break
            if stop_at is None and n >= requests_per_client:
                break
            prompt = f"Write a short story about {TOPICS[(k + n) % len(TOPICS)]} (client {k}, request {n})."
            r = chat(port, prompt, max_tokens, timeout, conversation=f"client-{k}")
            with lock:
                results.append(r)
            n += 1

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + (seconds or 0) + 60)
    return results, time.perf_counter() - t0


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


def summarize(results, wall, max_tokens):
    failed = [r for r in results if not r["ok"]]
    truncated = [r for r in results if r["ok"] and (not r["complete"] or r["tokens"] != max_tokens)]
    ttft = [r["ttft"] for r in results if r["ttft"] is not None]
    tokens = sum(r["tokens"] for r in results if r["ok"])
    return {
        "requests": len(results), "failed": len(failed), "truncated": len(truncated),
        "errors": sorted({r["error"] for r in failed})[:5],
        "tokens": tokens, "wall_s": round(wall, 2), "tokens_per_s": round(tokens / wall, 2) if wall > 0 else 0,
        "ttft_p50_s": round(percentile(ttft, 50), 3) if ttft else None,
        "ttft_p99_s": round(percentile(ttft, 99), 3) if ttft else None,
    }


def main():
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(root / "models" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"))
    ap.add_argument("--stretch", default=str(root / ".build" / "release" / "stretch"))
    ap.add_argument("--llama-server", help="also run this llama-server binary, alternating phases with stretch")
    ap.add_argument("--np", type=int, default=4, help="slots of each server")
    ap.add_argument("--ctx", type=int, default=1024, help="context per slot")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--requests", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--streams", default="1,2,4,8")
    ap.add_argument("--seconds", type=float, default=20, help="length of each streams phase")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per request")
    ap.add_argument("--deadline", type=float, default=3600, help="seconds for the whole run")
    ap.add_argument("--skip-burst", action="store_true")
    ap.add_argument("--attach", type=int, metavar="PORT",
                    help="load a server already listening on 127.0.0.1:PORT (e.g. nginx) instead of starting one")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()

    # The whole run ends by itself: past the deadline the alarm stops the servers and exits.
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("deadline reached")))
    signal.alarm(int(args.deadline))

    servers = []
    try:
        if args.attach:
            servers.append(Attached(args.attach))
        else:
            servers.append(Server("stretch", [
            args.stretch, "serve", "-m", args.model, "--host", HOST, "--port", "{PORT}", "-np", str(args.np),
            "-c", str(args.ctx), "-t", str(args.threads), "--queue-size", str(args.clients * 2),
            "--timeout", str(args.timeout)], "/tmp/load-test-stretch.log"))
        if args.llama_server and not args.attach:
            # llama-server's -c is the total of all slots; continuous batching and prompt caching are on by default.
            servers.append(Server("llama-server", [
                args.llama_server, "-m", args.model, "--host", HOST, "--port", "{PORT}", "-np", str(args.np),
                "-c", str(args.ctx * args.np), "-t", str(args.threads), "--no-webui"],
                "/tmp/load-test-llama.log"))
        for s in servers:
            s.wait_ready(300)
        report = {"model": Path(args.model).name, "np": args.np, "ctx_per_slot": args.ctx,
                  "max_tokens": args.max_tokens, "threads": args.threads, "servers": {}}
        for s in servers:
            hwm, cur = s.rss()
            report["servers"][s.name] = {"rss_after_load_mib": round(cur, 1), "peak_rss_after_load_mib": round(hwm, 1),
                                         "streams": {}}
        # Warm-up: one request each (page in the weights).
        for s in servers:
            chat(s.port, "Hello", 4, args.timeout)
        for n in [int(x) for x in args.streams.split(",") if x]:
            for s in servers:
                results, wall = run_clients(s.port, n, 0, args.max_tokens, args.timeout, seconds=args.seconds)
                summary = summarize(results, wall, args.max_tokens)
                report["servers"][s.name]["streams"][str(n)] = summary
                print(f"{s.name:12s} streams={n}: {summary['tokens_per_s']:7.1f} tok/s  "
                      f"({summary['requests']} requests, {summary['failed']} failed, {summary['truncated']} truncated)",
                      flush=True)
        if not args.skip_burst:
            for s in servers:
                results, wall = run_clients(s.port, args.clients, args.requests, args.max_tokens, args.timeout)
                summary = summarize(results, wall, args.max_tokens)
                report["servers"][s.name]["burst"] = summary
                print(f"{s.name:12s} burst {args.clients}x{args.requests}: {summary}", flush=True)
        for s in servers:
            hwm, cur = s.rss()
            r = report["servers"][s.name]
            r["rss_after_load_test_mib"] = round(cur, 1)
            r["peak_rss_mib"] = round(hwm, 1)
        for s in servers:
            st = report["servers"][s.name]["streams"]
            if "1" in st and st["1"]["tokens_per_s"]:
                report["servers"][s.name]["scaling"] = {
                    n: round(v["tokens_per_s"] / st["1"]["tokens_per_s"], 2) for n, v in st.items()}
        if len(servers) == 2:
            a, b = (report["servers"][s.name]["streams"] for s in servers)
            report["stretch_over_llama"] = {
                n: round(a[n]["tokens_per_s"] / b[n]["tokens_per_s"], 2) for n in a if b.get(n, {}).get("tokens_per_s")}
        print(json.dumps(report, indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        bad = sum(v.get("burst", {}).get("failed", 0) + v.get("burst", {}).get("truncated", 0)
                  for v in report["servers"].values())
        return 1 if bad else 0
    finally:
        signal.alarm(0)
        for s in servers:
            s.stop()


if __name__ == "__main__":
    sys.exit(main())
