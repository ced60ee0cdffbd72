#!/usr/bin/env python3
"""protocol.py CLI - the MCP server's protocol layer, driven with raw JSON
lines: initialization and version negotiation, tools/list, ping, the
JSON-RPC error replies for malformed input (never a crash), notifications,
message size bounds, host-side tools, the run directory, clean shutdown on
EOF and on SIGTERM. No sandbox is needed: tool calls that need one are not
made here (tests/tools/e2e.py does that).

Prints PASS/FAIL lines; exits 1 if any test failed.
"""
import json
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mcpclient import Reporter, Server, text_of  # noqa: E402

CLI = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/llmcore-sandbox")
TMP = tempfile.mkdtemp(prefix="lcs-mcp-proto-")
RUNS = os.path.join(TMP, "runs")
# --rootfs of a directory that does not exist: the sandbox is only made
# on the first tool call that needs one, which these tests never make.
BASE = ["--rootfs", os.path.join(TMP, "no-rootfs"), "--runs-dir", RUNS]


def server(*extra):
    return Server(CLI, BASE + list(extra))


def expect_error(reply, code, id_=None, text=None):
    assert "error" in reply, "expected an error, got %r" % reply
    assert reply["error"]["code"] == code, "code %r != %r: %r" % (reply["error"]["code"], code, reply)
    assert reply.get("id") == id_, "id %r != %r" % (reply.get("id"), id_)
    assert reply.get("jsonrpc") == "2.0"
    if text:
        assert text in reply["error"]["message"], reply["error"]["message"]


def t_initialize_negotiates_version():
    for asked, got in [("2025-06-18", "2025-06-18"), ("2025-11-25", "2025-11-25"),
                       ("2024-11-05", "2024-11-05"), ("2025-03-26", "2025-03-26"),
                       ("1999-01-01", "2025-11-25")]:
        s = server()
        r = s.initialize(asked)["result"]
        assert r["protocolVersion"] == got, (asked, r)
        assert r["capabilities"] == {"tools": {"listChanged": False}}, r
        assert r["serverInfo"]["name"] == "llmcore-sandbox"
        assert r["serverInfo"]["version"]
        assert s.close() == 0


def t_initialize_needs_protocol_version_and_happens_once():
    s = server()
    expect_error(s.request("initialize", {}), -32602, s.next_id, "protocolVersion")
    s.initialize()
    expect_error(s.request("initialize", {"protocolVersion": "2025-06-18"}), -32600, s.next_id,
                 "already")
    assert s.close() == 0


def t_requests_before_initialize_are_refused_but_ping_works():
    s = server()
    expect_error(s.request("tools/list"), -32600, s.next_id, "initialize")
    assert s.request("ping")["result"] == {}
    s.initialize()
    assert s.request("ping")["result"] == {}
    assert s.close() == 0


def t_tools_list_has_fifteen_tools_with_schemas():
    s = server()
    s.initialize()
    tools = s.request("tools/list")["result"]["tools"]
    names = [t["name"] for t in tools]
    assert names == ["execute_shell", "execute_python", "save_file", "load_file",
                     "replace_in_file", "append_to_file", "list_files", "file_exists",
                     "delete_file", "create_directory", "get_state", "set_state", "list_state",
                     "get_sandbox_info", "get_recorded_files"], names
    for t in tools:
        assert t["inputSchema"]["type"] == "object", t
        assert t["description"], t
        assert "annotations" in t
    by = {t["name"]: t for t in tools}
    assert by["execute_shell"]["inputSchema"]["required"] == ["command"]
    assert by["replace_in_file"]["inputSchema"]["required"] == ["path", "old_value", "new_value"]
    assert "required" not in by["list_files"]["inputSchema"]
    assert s.close() == 0


def t_tools_list_hides_denied_tools():
    pol = os.path.join(TMP, "pol.json")
    with open(pol, "w") as f:
        json.dump({"denied": ["execute_*"], "restricted": {"allowed": ["*"], "denied": ["delete_file"]}}, f)
    s = server("--mode", "restricted", "--policy", pol)
    s.initialize()
    names = [t["name"] for t in s.request("tools/list")["result"]["tools"]]
    assert "execute_shell" not in names and "delete_file" not in names and "load_file" in names, names
    assert len(names) == 12, names
    # Calling a hidden tool anyway: a tool error naming the tool and the mode.
    r = s.call("execute_shell", {"command": "id"})
    assert r["isError"] is True
    assert "Tool 'execute_shell' is not allowed in restricted sandbox mode." in text_of(r), r
    r = s.call("delete_file", {"path": "x"})
    assert "Tool 'delete_file' is not allowed in restricted sandbox mode." in text_of(r), r
    assert s.close() == 0
    s = server("--mode", "restricted", "--policy", pol, "--list-denied-tools")
    s.initialize()
    assert len(s.request("tools/list")["result"]["tools"]) == 15
    assert s.close() == 0
    # FULL mode: the deny list still applies.
    s = server("--mode", "full", "--policy", pol)
    s.initialize()
    names = [t["name"] for t in s.request("tools/list")["result"]["tools"]]
    assert "execute_python" not in names and "delete_file" in names, names
    r = s.call("execute_python", {"code": "print(1)"})
    assert "Tool 'execute_python' is not allowed in full sandbox mode." in text_of(r), r
    assert s.close() == 0


def t_malformed_input_gets_error_replies_and_the_server_survives():
    s = server()
    s.initialize()
    cases = [
        (b"{not json\n", -32700, None),
        (b"[]\n", -32600, None),
        (b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]\n', -32600, None),
        (b'"a string"\n', -32600, None),
        (b"42\n", -32600, None),
        (b'{"id": 7, "method": "ping"}\n', -32600, 7),
        (b'{"jsonrpc": "1.0", "id": 8, "method": "ping"}\n', -32600, 8),
        (b'{"jsonrpc": "2.0", "id": 9, "method": 5}\n', -32600, 9),
        (b'{"jsonrpc": "2.0", "id": {"x": 1}, "method": "ping"}\n', -32600, None),
        (b'{"jsonrpc": "2.0", "id": 10}\n', -32600, 10),
        (b'{"jsonrpc": "2.0", "id": 11, "method": "resources/list"}\n', -32601, 11),
        (b'{"jsonrpc": "2.0", "id": 12, "method": "tools/call", "params": [1]}\n', -32602, 12),
        (b'{"jsonrpc": "2.0", "id": 13, "method": "tools/call", "params": {}}\n', -32602, 13),
        (b'{"jsonrpc": "2.0", "id": 14, "method": "tools/call", "params": {"name": "nope"}}\n', -32602, 14),
        (b'{"jsonrpc": "2.0", "id": 15, "method": "tools/call", "params": {"name": "get_state", "arguments": [1]}}\n', -32602, 15),
        (b"\xff\xfe\x00garbage\n", -32700, None),
        (b'{"jsonrpc": "2.0", "id": "s", "method": "ping"', None, None),  # completed below
    ]
    for raw, code, id_ in cases[:-1]:
        s.send_raw(raw)
        expect_error(s.read(), code, id_)
    # A message split across writes is reassembled.
    s.send_raw(cases[-1][0])
    time.sleep(0.05)
    s.send_raw(b"}\n")
    r = s.read()
    assert r == {"jsonrpc": "2.0", "id": "s", "result": {}}, r
    # String ids are echoed as given.
    s.send_raw(b'{"jsonrpc":"2.0","id":"abc-1","method":"ping"}\r\n')
    assert s.read()["id"] == "abc-1"
    assert s.request("ping")["result"] == {}
    assert s.close() == 0


def t_notifications_and_responses_get_no_reply():
    s = server()
    s.initialize()
    s.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}})
    s.send({"jsonrpc": "2.0", "method": "unknown/notification"})
    s.send({"jsonrpc": "2.0", "id": 99, "result": {}})  # a response to nothing
    s.send_raw(b"\n   \n")
    r = s.request("ping")
    assert r["result"] == {}, r  # the first reply is the ping's
    assert s.close() == 0


def t_oversized_messages_are_refused_and_skipped():
    s = server("--max-message-size", "4k")
    s.initialize()
    s.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"' + b"a" * 100000 + b'"}}\n')
    expect_error(s.read(), -32700, None, "exceeds the limit")
    # Arriving in pieces.
    for _ in range(10):
        s.send_raw(b"b" * 2000)
    s.send_raw(b"\n")
    expect_error(s.read(), -32700, None, "limit")
    assert s.request("ping")["result"] == {}
    # Pieces each larger than the limit, arriving apart (one read each):
    # still one error for the one message.
    for _ in range(3):
        s.send_raw(b"c" * 6000)
        time.sleep(0.1)
    s.send_raw(b"\n")
    expect_error(s.read(), -32700, None, "limit")
    assert s.request("ping")["result"] == {}
    # Just under the limit is fine.
    r = s.call("set_state", {"key": "k", "value": "v" * 3000})
    assert r["isError"] is False, r
    assert s.close() == 0


def t_host_side_tools_and_structured_content():
    s = server()
    s.initialize("2025-06-18")
    val = 'pipe|quote"single\'dollar$HOME\nnewline\ttab \u00e9\u20ac\U0001F600 nul\u0000end'
    r = s.call("set_state", {"key": "k", "value": val})
    assert r == {"content": [{"type": "text", "text": "State 'k' updated"}],
                 "structuredContent": {"ok": True, "key": "k", "type": "string"},
                 "isError": False}, r
    r = s.call("get_state", {"key": "k"})
    assert r["structuredContent"]["value"] == val, r
    assert text_of(r) == val, r
    r = s.call("set_state", {"key": "cfg", "value": '{"a": [1, 2.5, null]}'})
    r = s.call("get_state", {"key": "cfg"})
    assert r["structuredContent"]["type"] == "json"
    assert r["structuredContent"]["value"] == {"a": [1, 2.5, None]}, r
    r = s.call("list_state")
    assert text_of(r) == "cfg\nk", r
    r = s.call("get_state", {"key": 3})
    assert r["isError"] is True and "must be a string" in text_of(r), r
    r = s.call("get_recorded_files", {})
    assert text_of(r) == "(no files recorded)"
    assert s.close() == 0
    # Older protocol versions get no structuredContent.
    s = server()
    s.initialize("2025-03-26")
    r = s.call("list_state")
    assert "structuredContent" not in r and r["isError"] is False, r
    assert s.close() == 0


def t_run_directory_is_private_and_finished_on_eof():
    shutil.rmtree(RUNS, ignore_errors=True)
    s = server()
    s.initialize()
    s.call("set_state", {"key": "x", "value": "1"})
    runs = os.listdir(RUNS)
    assert len(runs) == 1, runs
    run = os.path.join(RUNS, runs[0])
    assert os.stat(RUNS).st_mode & 0o777 == 0o700
    assert os.stat(run).st_mode & 0o777 == 0o700
    assert os.stat(os.path.join(run, "state", "state.db")).st_mode & 0o777 == 0o600
    with open(os.path.join(run, "metadata.json")) as f:
        assert json.load(f)["status"] == "running"
    assert s.close() == 0
    with open(os.path.join(run, "metadata.json")) as f:
        meta = json.load(f)
    assert meta["status"] == "completed" and meta["execution_count"] == 1, meta
    with open(os.path.join(run, "logs", "execution.log")) as f:
        entry = json.loads(f.readline())
    assert entry["tool_name"] == "set_state" and entry["success"] is True, entry
    with open(os.path.join(run, "state", "final_state.json")) as f:
        assert json.load(f)["state"]["x"]["value"] == 1
    # --no-track keeps nothing on disk.
    shutil.rmtree(RUNS, ignore_errors=True)
    s = server("--no-track")
    s.initialize()
    s.call("set_state", {"key": "x", "value": "1"})
    assert text_of(s.call("get_state", {"key": "x"})) == "1"
    assert s.close() == 0
    assert not os.path.exists(RUNS) or not os.listdir(RUNS)


def t_sigterm_and_sighup_end_the_server_cleanly():
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        s = server()
        s.initialize()
        s.p.send_signal(sig)
        rc = s.p.wait(20)
        assert rc == 0, "exit %r after %s: %s" % (rc, sig, s.stderr_text())


def t_eof_without_anything_exits_zero():
    s = server()
    assert s.close() == 0


def t_usage_errors():
    import subprocess
    # an invalid option value is invalid input (4); a usage error stays 2
    r = subprocess.run([CLI, "mcp", "--mode", "superuser"], capture_output=True, text=True)
    assert r.returncode == 4 and "restricted or full" in r.stderr, r
    r = subprocess.run([CLI, "mcp", "--image", "a", "--rootfs", "b"], capture_output=True, text=True)
    assert r.returncode == 2, r
    r = subprocess.run([CLI, "mcp", "--policy", "/nonexistent.json"], capture_output=True, text=True)
    assert r.returncode == 3 and "tool policy file not found" in r.stderr, r
    r = subprocess.run([CLI, "mcp", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "mcpServers" in r.stdout


def t_tools_schema_command():
    import subprocess
    r = subprocess.run([CLI, "tools", "--schema"], capture_output=True, text=True)
    assert r.returncode == 0, r
    a = json.loads(r.stdout)
    assert len(a) == 15 and a[0]["type"] == "function" and a[0]["function"]["name"] == "execute_shell"
    r = subprocess.run([CLI, "tools", "--schema", "--format", "mcp"], capture_output=True, text=True)
    a = json.loads(r.stdout)
    assert a[3]["name"] == "load_file" and a[3]["inputSchema"]["required"] == ["path"]
    pol = os.path.join(TMP, "pol2.json")
    with open(pol, "w") as f:
        json.dump({"restricted": {"allowed": ["load_file"]}}, f)
    r = subprocess.run([CLI, "tools", "--schema", "--policy", pol, "--mode", "restricted"],
                       capture_output=True, text=True)
    assert [t["function"]["name"] for t in json.loads(r.stdout)] == ["load_file"], r.stdout
    r = subprocess.run([CLI, "tools", "--schema", "--format", "xml"], capture_output=True, text=True)
    assert r.returncode == 4, r
    r = subprocess.run([CLI, "tools", "policy"], capture_output=True, text=True)
    assert "sudo_execute" in json.loads(r.stdout)["denied"]
    r = subprocess.run([CLI, "tools", "runs", "--runs-dir", RUNS, "--json"], capture_output=True, text=True)
    assert r.returncode == 0 and isinstance(json.loads(r.stdout), list), r


def main():
    rep = Reporter()
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("t_")]
    for name, fn in tests:
        rep.run("mcp_" + name[2:], fn)
    shutil.rmtree(TMP, ignore_errors=True)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
