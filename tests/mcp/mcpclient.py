"""mcpclient.py - a minimal MCP stdio client for the tests (stdlib only).

Starts `llmcore-sandbox mcp ...`, writes raw JSON-RPC lines, reads replies
with a timeout. Shared by tests/mcp/protocol.py and tests/tools/e2e.py.
"""
import json
import os
import select
import subprocess
import time


class Server:
    def __init__(self, cli, args, env=None, stderr=None):
        e = dict(os.environ)
        e.update(env or {})
        self.p = subprocess.Popen([cli, "mcp"] + list(args), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=stderr or subprocess.PIPE,
                                  env=e)
        self.buf = b""
        self.next_id = 100

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send(self, obj):
        self.send_raw(json.dumps(obj) + "\n")

    def read(self, timeout=30):
        deadline = time.time() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no reply within %ss" % timeout)
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if not r:
                continue
            chunk = os.read(self.p.stdout.fileno(), 1 << 20)
            if not chunk:
                raise EOFError("server closed stdout")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, method, params=None, timeout=60):
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        r = self.read(timeout)
        if r.get("id") != self.next_id:
            raise AssertionError("reply id %r for request %r" % (r.get("id"), self.next_id))
        return r

    def initialize(self, version="2025-06-18"):
        r = self.request("initialize", {"protocolVersion": version, "capabilities": {},
                                        "clientInfo": {"name": "test", "version": "0"}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return r

    def call(self, name, args=None, timeout=120):
        params = {"name": name}
        if args is not None:
            params["arguments"] = args
        r = self.request("tools/call", params, timeout)
        if "result" not in r:
            raise AssertionError("tools/call %s: %r" % (name, r))
        return r["result"]

    def close(self, timeout=60):
        """EOF on stdin; returns the exit status."""
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise

    def stderr_text(self):
        try:
            return self.p.stderr.read().decode(errors="replace")
        except Exception:
            return ""


def text_of(result):
    return "".join(c.get("text", "") for c in result.get("content", []))


class Reporter:
    def __init__(self):
        self.failed = 0

    def run(self, name, fn, *a):
        try:
            r = fn(*a)
            if isinstance(r, str) and r.startswith("SKIP"):
                print("SKIP %s: %s" % (name, r[5:]), flush=True)
            else:
                print("PASS %s" % name, flush=True)
        except Exception as ex:  # noqa: BLE001 - report every failure by name
            self.failed += 1
            msg = ("%s: %s" % (type(ex).__name__, ex)).replace("\n", "\\n")
            print("FAIL %s: %s" % (name, msg[:500]), flush=True)
