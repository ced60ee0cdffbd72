#!/usr/bin/env python3
"""e2e.py CLI - every agent tool on a real sandbox (the busybox test rootfs,
and the python image when it is built), driven through the MCP server with
raw JSON lines: success paths, failures, 10 MB and binary files, hostile
names, planted symlinks in the workspace and in the run's outputs
directory, typed state, denied tools in both modes, timeouts that kill,
and the sandbox gone after disconnect.

Prints PASS/FAIL/SKIP lines; exits 1 if any test failed. Everything is
skipped (with the reason) when this host cannot create sessions.

With LCS_E2E_ENGINE=unix:///PATH the same tests run on the Docker backend
against that engine: the busybox rootfs is imported into the image store
(images import of a one-layer OCI layout) and every server is started with
--image and --backend docker instead of --rootfs; test names get the
prefix tools_docker_.
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "mcp"))
from mcpclient import Reporter, Server, text_of  # noqa: E402

CLI = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "llmcore-sandbox"))
TMP = tempfile.mkdtemp(prefix="lcs-tools-e2e-")
os.chmod(TMP, 0o755)  # the rootfs must be reachable by the sandbox's host uid
ROOTFS = os.path.join(TMP, "rootfs")
RUNS = os.path.join(TMP, "runs")
TIMEOUT_BUDGET = 30
ENGINE = os.environ.get("LCS_E2E_ENGINE")
E2E_IMAGE = "lcs-e2e-busybox:1.0.0"
PREFIX = "tools_docker_" if ENGINE else "tools_"


def sandbox_args():
    if ENGINE:
        return ["--image", E2E_IMAGE, "--backend", "docker", "--engine", ENGINE]
    return ["--rootfs", ROOTFS]


def import_rootfs():
    """The busybox rootfs as an image of the store, for an engine."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "images"))
    import mkoci  # noqa: E402
    oci = os.path.join(TMP, "oci")
    mkoci.write(oci, [mkoci.tar_dir(ROOTFS)])
    r = subprocess.run([CLI, "images", "import", oci, "--name", E2E_IMAGE, "--force"],
                       capture_output=True, text=True)
    return None if r.returncode == 0 else "images import: " + (r.stderr or r.stdout).strip()


def remove_import():
    r = subprocess.run([CLI, "images", "inspect", E2E_IMAGE, "--json"], capture_output=True, text=True)
    try:
        d = json.loads(r.stdout)
    except ValueError:
        return
    root = d.get("rootfs") or ""
    if root.endswith("/rootfs") and "/images/lcs-e2e-busybox/" in root:
        shutil.rmtree(os.path.dirname(root), ignore_errors=True)


def start(*extra, mode="restricted", policy=None):
    args = sandbox_args() + ["--runs-dir", RUNS, "--mode", mode] + list(extra)
    if policy is not None:
        p = os.path.join(TMP, "policy-%d.json" % time.monotonic_ns())
        with open(p, "w") as f:
            json.dump(policy, f)
        args += ["--policy", p]
    s = Server(CLI, args)
    s.initialize()
    return s


def ok(r):
    assert r["isError"] is False, "tool error: %s" % text_of(r)
    return r


def err(r, *needles):
    assert r["isError"] is True, "expected an error, got: %s" % text_of(r)
    for n in needles:
        assert n in text_of(r), "%r not in %r" % (n, text_of(r))
    return r


def sh(s, cmd, **kw):
    args = {"command": cmd}
    args.update(kw)
    return s.call("execute_shell", args)


S = None  # the shared restricted-mode server


def t_execute_shell_success_failure_and_working_dir():
    r = ok(sh(S, "echo hello; echo err >&2"))
    assert text_of(r) == "hello\n", repr(text_of(r))
    sc = r["structuredContent"]
    assert sc["exit_code"] == 0 and sc["success"] is True and sc["stderr"] == "err\n", sc
    assert text_of(ok(sh(S, "true"))) == "(command completed successfully with no output)"
    r = err(sh(S, "echo out; echo bad >&2; exit 3"))
    assert text_of(r) == "\u274c EXIT CODE: 3\nSTDOUT:\nout\n\nSTDERR:\nbad\n", repr(text_of(r))
    assert r["structuredContent"]["exit_code"] == 3
    ok(S.call("create_directory", {"path": "sub dir/deeper"}))
    assert text_of(ok(sh(S, "pwd", working_dir="sub dir/deeper"))).strip().endswith("/sub dir/deeper")
    assert text_of(ok(sh(S, "pwd", working_dir="/tmp"))).strip() == "/tmp"
    err(sh(S, "pwd", working_dir="/does/not/exist"))
    err(S.call("execute_shell", {}), "missing required parameter 'command'")
    err(S.call("execute_shell", {"command": "true", "timeout": 0}), "greater than 0")


def t_execute_shell_timeout_kills_the_whole_tree():
    t0 = time.time()
    r = err(sh(S, "sleep 300 & sleep 300; echo never", timeout=1.5))
    took = time.time() - t0
    assert text_of(r).startswith("\u23f0 EXECUTION TIMED OUT\n\u274c EXIT CODE: -1"), repr(text_of(r))
    assert "Command timed out after 1.5 seconds" in text_of(r)
    assert r["structuredContent"]["timed_out"] is True
    assert took < TIMEOUT_BUDGET, took
    # Nothing it started survives, and the sandbox is still usable.
    ps = text_of(ok(sh(S, "ps -o pid,args 2>/dev/null || ps")))
    assert "sleep 300" not in ps, ps


def t_execute_python_on_busybox_reports_missing_python():
    r = err(S.call("execute_python", {"code": "print(1)"}))
    assert "python3" in text_of(r), text_of(r)
    # The temporary file is removed again.
    assert "llmcore_code_" not in text_of(ok(sh(S, "ls -a /tmp")))


def t_files_with_hostile_names_round_trip():
    names = ["with space.txt", "quote'single\".txt", "dollar $HOME `id`.txt",
             "new\nline.txt", "unicod\u00e9 \u20ac \U0001F600.txt", "semi;colon|pipe&.txt",
             "dir with space/nested 'q'/f.txt"]
    for n in names:
        content = "content of %s\nline2 | $x \"q\" \u00e9\n" % n
        r = ok(S.call("save_file", {"path": n, "content": content, "description": "d " + n}))
        assert text_of(r) == "Successfully saved file: %s" % n, text_of(r)
        assert text_of(ok(S.call("load_file", {"path": n}))) == content
        assert text_of(ok(S.call("file_exists", {"path": n}))) == "true"
    # The shell sees exactly the same names (no quoting games).
    listing = text_of(ok(sh(S, "ls")))
    assert "with space.txt" in listing and "dollar $HOME `id`.txt" in listing, listing
    r = ok(S.call("get_recorded_files"))
    rec = text_of(r)
    exact = {f["path"] for f in r["structuredContent"]["files"]}
    for n in names:
        # the text shows a newline as \n (one line per file); the JSON is exact
        assert n.replace("\n", "\\n") in rec and n in exact, (n, rec)
    assert "(%d bytes) - d with space.txt" % len(("content of with space.txt\nline2 | $x \"q\" \u00e9\n").encode()) in rec, rec


def t_ten_megabyte_text_and_binary_files():
    text = ("0123456789abcdef" * 64 + "\n") * 10240  # ~10.5 MB
    ok(S.call("save_file", {"path": "big.txt", "content": text}))
    assert text_of(ok(sh(S, "wc -c < big.txt"))).strip() == str(len(text))
    r = ok(S.call("load_file", {"path": "big.txt"}))
    assert text_of(r) == text, "10 MB text changed (len %d vs %d)" % (len(text_of(r)), len(text))
    blob = os.urandom(10 * 1024 * 1024) + bytes(range(256)) * 4
    ok(S.call("save_file", {"path": "big.bin", "content": base64.b64encode(blob).decode(),
                            "encoding": "base64"}))
    r = ok(S.call("load_file", {"path": "big.bin", "encoding": "base64"}))
    assert hashlib.sha256(base64.b64decode(text_of(r))).hexdigest() == hashlib.sha256(blob).hexdigest()
    assert r["structuredContent"]["size_bytes"] == len(blob)
    err(S.call("load_file", {"path": "big.bin"}), "not UTF-8", "base64")
    err(S.call("save_file", {"path": "x.bin", "content": "@@@", "encoding": "base64"}), "not valid base64")
    # NUL bytes in text survive too.
    ok(S.call("save_file", {"path": "nul.txt", "content": "a\u0000b"}))
    assert text_of(ok(S.call("load_file", {"path": "nul.txt"}))) == "a\u0000b"


def t_replace_append_and_their_failures():
    ok(S.call("save_file", {"path": "r.txt", "content": "x=1\ny=1\nx=1\n"}))
    r = ok(S.call("replace_in_file", {"path": "r.txt", "old_value": "x=1", "new_value": "x=$2|\"q\""}))
    assert text_of(r) == "Successfully replaced 'x=1' with 'x=$2|\"q\"' in r.txt (2 occurrences)", text_of(r)
    assert text_of(ok(S.call("load_file", {"path": "r.txt"}))) == 'x=$2|"q"\ny=1\nx=$2|"q"\n'
    err(S.call("replace_in_file", {"path": "r.txt", "old_value": "zzz", "new_value": "a"}),
        "ERROR: 'zzz' not found in file")
    err(S.call("replace_in_file", {"path": "missing.txt", "old_value": "a", "new_value": "b"}),
        "ERROR: File not found: missing.txt")
    # A large file keeps its tail (upstream truncated at 100 K characters).
    big = "A" * 300000 + "MARK" + "B" * 300000
    ok(S.call("save_file", {"path": "large.txt", "content": big}))
    ok(S.call("replace_in_file", {"path": "large.txt", "old_value": "MARK", "new_value": "m"}))
    assert text_of(ok(S.call("load_file", {"path": "large.txt"}))) == big.replace("MARK", "m")
    r = ok(S.call("append_to_file", {"path": "log.txt", "content": "one\n"}))
    assert text_of(r) == "Successfully appended to file: log.txt"
    ok(S.call("append_to_file", {"path": "log.txt", "content": "two\n"}))
    ok(S.call("append_to_file", {"path": "new dir/log.txt", "content": "x"}))
    assert text_of(ok(S.call("load_file", {"path": "log.txt"}))) == "one\ntwo\n"


def t_list_exists_delete_mkdir():
    ok(S.call("create_directory", {"path": "lst/a/b"}))
    ok(S.call("save_file", {"path": "lst/file.txt", "content": "12345"}))
    ok(sh(S, "touch -d '2001-02-03 04:05:06' lst/file.txt"))
    r = ok(S.call("list_files", {"path": "lst"}))
    lines = text_of(r).split("\n")
    assert lines[0].startswith("a/ (directory, modified "), lines
    assert lines[1].startswith("file.txt (5 bytes, modified 2001-02-03T04:05:06"), lines
    ents = {e["name"]: e for e in r["structuredContent"]["entries"]}
    assert ents["a"]["is_directory"] is True and ents["file.txt"]["size_bytes"] == 5
    assert ents["file.txt"]["modified_at"].startswith("2001-02-03T04:05:06"), ents
    r = ok(S.call("list_files", {"path": "lst", "recursive": True}))
    assert "a/b/ (directory" in text_of(r), text_of(r)
    assert not text_of(r).startswith("lst"), text_of(r)  # the root itself is not listed
    ok(S.call("create_directory", {"path": "empty"}))
    assert text_of(ok(S.call("list_files", {"path": "empty"}))) == "(empty directory)"
    err(S.call("list_files", {"path": "nope"}), "ERROR: Directory not found: nope")
    top = text_of(ok(S.call("list_files", {})))  # default "." = the workspace
    assert "lst/ (directory" in top, top
    assert text_of(ok(S.call("file_exists", {"path": "lst/a"}))) == "true"
    assert text_of(ok(S.call("file_exists", {"path": "lst/zz"}))) == "false"
    r = ok(S.call("delete_file", {"path": "lst/file.txt"}))
    assert text_of(r) == "Successfully deleted: lst/file.txt"
    err(S.call("delete_file", {"path": "lst/file.txt"}), "ERROR: File not found: lst/file.txt")
    err(S.call("delete_file", {"path": "lst/a"}))  # not empty
    ok(S.call("delete_file", {"path": "empty"}))
    # the workspace itself, by any name, and the directories above it are
    # refused; an empty workspace would otherwise be removed
    ok(sh(S, "mkdir -p /tmp/keep && mv /home/sandbox/work/* /tmp/keep/"))
    for p in [".", "./", "lst/..", "/home/sandbox/work", "/home/sandbox/work/.", "/home/sandbox",
              "/", "../work"]:
        err(S.call("delete_file", {"path": p}), "refusing to remove")
    assert text_of(ok(sh(S, "pwd; [ -d /home/sandbox/work ] && echo there"))).split() == [
        "/home/sandbox/work", "there"], "the workspace is gone"
    ok(sh(S, "mv /tmp/keep/* /home/sandbox/work/"))
    r = ok(S.call("create_directory", {"path": "x/y/z"}))
    assert text_of(r) == "Successfully created directory: x/y/z"


def t_symlinks_planted_in_the_workspace_stay_inside():
    secret = os.path.join(TMP, "host-secret.txt")
    with open(secret, "w") as f:
        f.write("HOST SECRET")
    os.chmod(secret, 0o644)
    victim = os.path.join(TMP, "host-victim.txt")
    with open(victim, "w") as f:
        f.write("untouched")
    os.chmod(victim, 0o666)
    ok(sh(S, "ln -s '%s' to-secret; ln -s '%s' to-victim; ln -s / to-root" % (secret, victim)))
    r = S.call("load_file", {"path": "to-secret"})
    assert "HOST SECRET" not in text_of(r), "host file read through a symlink!"
    assert r["isError"] is True
    passwd = text_of(ok(S.call("load_file", {"path": "to-root/etc/passwd"})))
    assert "sandbox:x:1000" in passwd  # the sandbox's own /etc/passwd
    ok(S.call("save_file", {"path": "to-victim", "content": "pwned"}))
    with open(victim) as f:
        assert f.read() == "untouched", "host file written through a symlink!"
    # save_file replaced the link itself.
    assert text_of(ok(sh(S, "cat to-victim"))) == "pwned"
    assert "symlink" in text_of(ok(S.call("list_files", {"path": "."}))).split("to-root")[1].split("\n")[0]


def t_state_round_trips_and_lives_on_the_host():
    val = "a|b|c 'single' \"double\"\nnew line $HOME `x` \u00e9"
    ok(S.call("set_state", {"key": "k|ey", "value": val}))
    assert text_of(ok(S.call("get_state", {"key": "k|ey"}))) == val
    ok(S.call("set_state", {"key": "n", "value": "1e5"}))
    r = ok(S.call("get_state", {"key": "n"}))
    assert text_of(r) == "1e5" and r["structuredContent"]["type"] == "number"
    assert "k|ey" in text_of(ok(S.call("list_state")))
    # Not inside the sandbox: no database file there.
    assert "state.db" not in text_of(ok(sh(S, "find / -name 'state.db' 2>/dev/null; true")))


def t_get_sandbox_info_reports_what_is_enforced():
    r = ok(S.call("get_sandbox_info"))
    t = text_of(r)
    st = r["structuredContent"]["sandbox"]
    assert "Access Level: restricted" in t, t
    assert "Network: none" in t, t
    assert "User: sandbox (uid 1000)" in t or "uid 1000" in t, t
    assert "Limits:" in t and "timeout" in t, t
    assert "Tool Restrictions:" in t
    assert st["policy"]["access_mode"] == "restricted"
    if ENGINE:
        # the engine and what it could not enforce, from the session's report
        assert t.startswith("Provider: docker (") and "Docker Engine API 1." in t, t
        assert r["structuredContent"]["provider"] == "docker"
        assert "Seccomp: enabled" in t and "Capabilities: none" in t, t
        assert "No New Privileges: yes" in t and "Not enforced by this backend:" in t, t
    else:
        assert t.startswith("Provider: native ("), t
        assert r["structuredContent"]["provider"] == "native"
    # Numbers come from the session, not from a template.
    mem = st.get("enforced", {}).get("limits", {}).get("memory_bytes")
    if mem:
        assert "memory %d MiB" % (mem >> 20) in t, t


def t_denied_tools_in_both_modes():
    pol = {"denied": ["delete_file"], "restricted": {"allowed": ["execute_shell", "get_*"]},
           "full": {"allowed": ["*"], "denied": ["execute_python", "set_state"]}}
    s = start(mode="restricted", policy=pol)
    try:
        ok(sh(s, "true"))
        err(s.call("save_file", {"path": "a", "content": "b"}),
            "Tool 'save_file' is not allowed in restricted sandbox mode.")
        err(s.call("set_state", {"key": "a", "value": "b"}),
            "Tool 'set_state' is not allowed in restricted sandbox mode.")
        err(s.call("delete_file", {"path": "a"}), "Tool 'delete_file' is not allowed in restricted")
        ok(s.call("get_state", {"key": "a"}))
    finally:
        s.close()
    s = start(mode="full", policy=pol)
    try:
        info = text_of(ok(s.call("get_sandbox_info")))
        assert "Access Level: full" in info, info
        if ENGINE:
            assert "Network: full (the engine's network; it does not keep this host unreachable)" in info, info
        elif shutil.which("pasta") and shutil.which("nft"):
            assert "Network: full (pasta)" in info and "Unreachable: this host" in info, info
        err(s.call("execute_python", {"code": "1"}), "Tool 'execute_python' is not allowed in full sandbox mode.")
        err(s.call("set_state", {"key": "a", "value": "b"}), "Tool 'set_state' is not allowed in full")
        err(s.call("delete_file", {"path": "a"}), "Tool 'delete_file' is not allowed in full")
        ok(s.call("save_file", {"path": "a", "content": "b"}))
    finally:
        s.close()


def session_ids():
    r = subprocess.run([CLI, "ps", "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    try:
        return {x.get("id") for x in json.loads(r.stdout)}
    except ValueError:
        return None


def t_closing_stdin_cancels_the_running_call_and_ends_the_server():
    s = start()
    ok(sh(s, "true"))  # the session exists
    sid = ok(s.call("get_sandbox_info"))["structuredContent"]["sandbox"]["id"]
    mark = "sleep 3%d" % (os.getpid() % 1000)
    s.send({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": "execute_shell", "arguments": {"command": mark, "timeout": 120}}})
    deadline = time.time() + 10
    while time.time() < deadline and subprocess.run(["pgrep", "-f", mark], stdout=subprocess.DEVNULL).returncode != 0:
        time.sleep(0.05)
    assert subprocess.run(["pgrep", "-f", mark], stdout=subprocess.DEVNULL).returncode == 0, "the call never started"
    t0 = time.time()
    try:
        s.p.stdin.close()
        code = s.p.wait(15)
    except subprocess.TimeoutExpired:
        s.p.kill()
        s.p.wait()
        raise AssertionError("the server still runs 15 s after its stdin was closed")
    took = time.time() - t0
    time.sleep(0.3)
    left = subprocess.run(["pgrep", "-af", mark], capture_output=True, text=True).stdout
    assert not left, "the command still runs: %s" % left
    ids = session_ids()
    assert ids is None or sid not in ids, "session %s still listed" % sid
    assert code == 0 and took < 10, (code, took)


def t_outputs_are_copied_safely_and_the_sandbox_is_gone_after_disconnect():
    shutil.rmtree(RUNS, ignore_errors=True)
    s = start()
    ok(s.call("save_file", {"path": "report.txt", "content": "R", "description": "the report"}))
    ok(s.call("save_file", {"path": "../../../../tmp/escape.txt", "content": "E"}))
    ok(s.call("save_file", {"path": "deep/dir/data.bin", "content": "AAEC", "encoding": "base64"}))
    sid = ok(s.call("get_sandbox_info"))["structuredContent"]["sandbox"]["id"]
    ok(sh(s, "sleep 1000 >/dev/null 2>&1 &"))  # a daemon left running
    run = os.path.join(RUNS, os.listdir(RUNS)[0])
    victim = os.path.join(TMP, "outputs-victim.txt")
    with open(victim, "w") as f:
        f.write("untouched")
    # Plant a symlink where the copy of report.txt would go.
    os.symlink(victim, os.path.join(run, "outputs", "report.txt"))
    ids = session_ids()
    if ids is not None:
        assert sid in ids, (sid, ids)
    assert s.close() == 0
    with open(victim) as f:
        assert f.read() == "untouched", "the tracker wrote through a planted symlink"
    outs = sorted(os.listdir(os.path.join(run, "outputs")))
    assert outs == ["data.bin", "escape.txt", "report (1).txt", "report.txt"], outs
    with open(os.path.join(run, "outputs", "report (1).txt")) as f:
        assert f.read() == "R"
    with open(os.path.join(run, "outputs", "data.bin"), "rb") as f:
        assert f.read() == b"\x00\x01\x02"
    with open(os.path.join(run, "file_manifest.json")) as f:
        man = json.load(f)
    assert {m["path"] for m in man} == {"outputs/report (1).txt", "outputs/escape.txt", "outputs/data.bin"}, man
    with open(os.path.join(run, "metadata.json")) as f:
        meta = json.load(f)
    assert meta["status"] == "completed" and meta["custom_metadata"]["session_id"] == sid, meta
    # The session is gone: not listed, no state left, no processes.
    ids = session_ids()
    if ids is not None:
        assert sid not in ids, "session %s still listed after disconnect" % sid
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "sleep 1000" not in out, "a sandboxed process survived the disconnect"
    cg = subprocess.run(["sh", "-c", "find /sys/fs/cgroup -name '*%s*' 2>/dev/null" % sid[:12]],
                        capture_output=True, text=True).stdout.strip()
    assert cg == "", "cgroups left behind: %s" % cg


def vm_hwm_kb(pid):
    """Peak resident set size of a process, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def t_load_file_of_a_huge_sparse_file_is_capped_and_says_so():
    # A 128 MiB sparse file costs the sandbox nothing; reading it whole cost
    # the MCP server several times its size (text, JSON, the reply).
    s = start()  # the default max_read_bytes
    try:
        size = 128 * 1024 * 1024
        ok(sh(s, "truncate -s %d huge.txt" % size))
        r = ok(s.call("load_file", {"path": "huge.txt"}, timeout=60))
        t = text_of(r)
        note = "(truncated at 1048576 of %d bytes" % size
        assert note in t and len(t) < 2 * 1024 * 1024, t[-300:]
        sc = r["structuredContent"]
        assert sc["truncated"] is True and sc["size_bytes"] == size and sc["returned_bytes"] == 1048576, \
            {k: v for k, v in sc.items() if k != "content"}
        hwm = vm_hwm_kb(s.p.pid)
        # AddressSanitizer's shadow memory and quarantine add ~60 MiB to
        # the sanitizer build; an uncapped read took several GiB.
        bound = (192 if "build-san" in CLI else 64) * 1024
        assert 0 < hwm <= bound, "the MCP server peaked at %d KiB for a capped read" % hwm
        # A cut inside a UTF-8 character ends at the last whole one.
        ok(s.call("save_file", {"path": "accents.txt", "content": "\u00e9" * 600000}))
        r = ok(s.call("load_file", {"path": "accents.txt"}))
        body = text_of(r).split("\n\n(truncated at ")[0]
        assert set(body) == {"\u00e9"} and len(body.encode()) <= 1048576, (len(body), body[-5:])
        assert "(truncated at %d of 1200000 bytes" % len(body.encode()) in text_of(r)
        # replace_in_file needs the whole file: refused, not cut.
        err(s.call("replace_in_file", {"path": "huge.txt", "old_value": "a", "new_value": "b"}),
            "max_read_bytes")
        # small files are whole, and say so
        ok(s.call("save_file", {"path": "small.txt", "content": "all of it"}))
        r = ok(s.call("load_file", {"path": "small.txt"}))
        assert text_of(r) == "all of it" and r["structuredContent"]["truncated"] is False
    finally:
        s.close()


def t_copy_out_keeps_holes_and_stops_at_its_budget():
    shutil.rmtree(RUNS, ignore_errors=True)
    s = start("--max-copy-files", "3", "--max-copy-bytes", "64k")
    # Copied newest first: huge (1 byte of data, then a 1 GiB hole), dense
    # (128 KiB: over the byte budget), a, b (the third file), c (over the
    # file budget).
    for name in ("c.txt", "b.txt", "a.txt"):
        ok(s.call("save_file", {"path": name, "content": name[0]}))
    blob = base64.b64encode(os.urandom(128 * 1024)).decode()
    ok(s.call("save_file", {"path": "dense.bin", "content": blob, "encoding": "base64"}))
    ok(s.call("save_file", {"path": "huge.dat", "content": "x"}))
    ok(sh(s, "truncate -s 1073741824 huge.dat"))
    run = os.path.join(RUNS, os.listdir(RUNS)[0])
    assert s.close() == 0
    outs = sorted(os.listdir(os.path.join(run, "outputs")))
    assert outs == ["a.txt", "b.txt", "huge.dat"], outs
    st = os.stat(os.path.join(run, "outputs", "huge.dat"))
    assert st.st_size == 1 << 30 and st.st_blocks * 512 <= 1 << 20, \
        "huge.dat: %d bytes, %d allocated" % (st.st_size, st.st_blocks * 512)
    with open(os.path.join(run, "outputs", "huge.dat"), "rb") as f:
        assert f.read(2) == b"x\0"
    with open(os.path.join(run, "metadata.json")) as f:
        meta = json.load(f)
    assert meta["outputs_not_copied"] == 2, meta
    with open(os.path.join(run, "logs", "agent.log")) as f:
        log = f.read()
    assert "copy-out budget of 65536 bytes" in log and "copy-out budget of 3 files" in log, log


def t_hostile_names_reach_the_model_and_the_operator_escaped():
    shutil.rmtree(RUNS, ignore_errors=True)
    s = start()
    ok(sh(s, 'mkdir names && cd names && touch "$(printf "esc\\033[2Jx")" '
             '"$(printf "two\\nforged.txt (1 bytes, modified 2020-01-01T00:00:00Z)")" '
             '"$(printf "bad\\377")" "$(printf "a\\342\\200\\256txt.exe")"'))
    r = ok(s.call("list_files", {"path": "names"}))
    t = text_of(r)
    assert len(t.split("\n")) == 4, t
    assert "\x1b" not in t and "\u202e" not in t and "\ufffd" not in t, repr(t)
    assert "a\\u202etxt.exe" in t and "two\\nforged" in t and "bad\\xff" in t, repr(t)
    names = {e["name"] for e in r["structuredContent"]["entries"]}
    assert "a\u202etxt.exe" in names and "bad\ufffd" in names, names
    ok(s.call("save_file", {"path": "rep\u202etxt.exe", "content": "R"}))
    t = text_of(ok(s.call("get_recorded_files")))
    assert "\u202e" not in t and "rep\\u202etxt.exe" in t, repr(t)
    run = os.path.join(RUNS, os.listdir(RUNS)[0])
    assert s.close() == 0
    outs = os.listdir(os.path.join(run, "outputs"))
    assert outs == ["rep_txt.exe"], outs
    with open(os.path.join(run, "file_manifest.json"), encoding="utf-8") as f:
        man = f.read()
    assert "\u202e" not in json.loads(man)[0]["source"], man


def t_python_image_runs_python():
    r = subprocess.run([CLI, "images", "--available", "--json"], capture_output=True, text=True)
    try:
        imgs = [i.get("ref", "") for i in json.loads(r.stdout)]
    except ValueError:
        imgs = []
    py = [i for i in imgs if i.startswith("llmcore-sandbox-python")]
    if not py:
        return "SKIP the python image is not built here (run the images build); execute_python " \
               "was checked on busybox only"
    engine = ["--backend", "docker", "--engine", ENGINE] if ENGINE else []
    s = Server(CLI, ["--image", py[0], "--runs-dir", RUNS] + engine)
    s.initialize()
    try:
        ok(s.call("create_directory", {"path": "work dir"}))
        r = ok(s.call("execute_python", {"code": "import os\nprint(os.getcwd())\nprint(6*7)",
                                         "working_dir": "work dir"}))
        assert text_of(r).split("\n")[1] == "42" and text_of(r).split("\n")[0].endswith("work dir"), text_of(r)
        r = err(s.call("execute_python", {"code": "raise SystemExit(4)"}))
        assert r["structuredContent"]["exit_code"] == 4
        r = err(s.call("execute_python", {"code": "import time\ntime.sleep(60)", "timeout": 1}))
        assert r["structuredContent"]["timed_out"] is True
    finally:
        s.close()


def main():
    rep = Reporter()
    global S
    mk = subprocess.run(["sh", os.path.join(ROOT, "tests", "fixtures", "mkrootfs.sh"), ROOTFS],
                        capture_output=True, text=True)
    tests = [(n, f) for n, f in globals().items() if n.startswith("t_")]
    reason = None
    if mk.returncode != 0:
        reason = "the busybox rootfs could not be made: " + mk.stderr.strip()
    elif ENGINE:
        reason = import_rootfs()
        if reason:
            for name, _ in tests:
                print("FAIL %s%s: %s" % (PREFIX, name[2:], reason))
            shutil.rmtree(TMP, ignore_errors=True)
            return 1
    if not reason:
        # 10 MB files are read whole: a cap above them (the default is 1 MiB).
        S = Server(CLI, sandbox_args() + ["--runs-dir", RUNS, "--mode", "restricted",
                                          "--max-read-bytes", "32m"])
        S.initialize()
        probe = S.call("execute_shell", {"command": "echo ready"})
        if probe["isError"]:
            reason = "no sandbox session on this host: " + text_of(probe).replace("\n", " ")[:300]
    if reason:
        for name, _ in tests:
            print("SKIP %s%s: %s" % (PREFIX, name[2:], reason))
    else:
        for name, fn in tests:
            rep.run(PREFIX + name[2:], fn)
    if S:
        S.close()
    if ENGINE:
        remove_import()
    shutil.rmtree(TMP, ignore_errors=True)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
