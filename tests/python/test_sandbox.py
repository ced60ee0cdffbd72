"""Sandbox, run(), ExecutionResult, the agent tools and their errors.

Tests that start real sandboxes need root and a static busybox
(busybox-static): they build the fixture rootfs with
tests/fixtures/mkrootfs.sh in a private directory under /tmp (mode 0755, so
host uid 100000 can search it) and remove it at the end.  Without root they
are skipped with the reason.
"""

import ctypes
import gc
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
import unittest
import warnings

import lcs_testsupport as ts

import llmcore_sandbox as lcs
from llmcore_sandbox import _lib

MKROOTFS = os.path.join(ts.REPO, "tests", "fixtures", "mkrootfs.sh")
_FIXTURE = {"dir": None, "rootfs": None, "skip": None}


def _busybox_is_static():
    bb = os.environ.get("BUSYBOX", "/bin/busybox")
    if not os.access(bb, os.X_OK):
        return False
    try:
        out = subprocess.run(["file", "-L", bb], stdout=subprocess.PIPE,
                             universal_newlines=True).stdout
    except OSError:
        return True  # no file(1): mkrootfs.sh will say
    return "dynamically linked" not in out


def fixture_rootfs():
    """The busybox rootfs (built once), or raise SkipTest with the reason."""
    if _FIXTURE["rootfs"]:
        return _FIXTURE["rootfs"]
    if _FIXTURE["skip"]:
        raise unittest.SkipTest(_FIXTURE["skip"])
    reason = None
    if os.geteuid() != 0:
        reason = "real sandboxes need root (run the tests as root)"
    elif not _busybox_is_static():
        reason = "needs a static busybox: apt-get install busybox-static"
    if reason is None:
        d = tempfile.mkdtemp(prefix="lcs-pytest-rootfs-", dir="/tmp")
        os.chmod(d, 0o755)
        rootfs = os.path.join(d, "rootfs")
        p = subprocess.run(["sh", MKROOTFS, rootfs], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        if p.returncode != 0:
            shutil.rmtree(d, ignore_errors=True)
            reason = "mkrootfs.sh failed: " + p.stdout.strip()
        else:
            _FIXTURE["dir"], _FIXTURE["rootfs"] = d, rootfs
            return rootfs
    _FIXTURE["skip"] = reason
    raise unittest.SkipTest(reason)


def tearDownModule():
    d = _FIXTURE["dir"]
    _FIXTURE["dir"] = _FIXTURE["rootfs"] = None
    if d:
        shutil.rmtree(d, ignore_errors=True)


def session_ids():
    return [s["id"] for s in lcs.list_sessions()]


# ------------------------------------------------------------ without root

class ExportTests(unittest.TestCase):
    def test_sandbox_api_is_exported_from_both_import_paths(self):
        import llmcore.agents.sandbox as upstream
        for name in ("Sandbox", "ExecutionResult", "FileInfo", "ToolResult", "SandboxTools",
                     "run", "get_tool_schemas", "SandboxError", "SandboxNotFoundError",
                     "SandboxUnsupportedError", "SandboxDeniedError", "SandboxClosedError"):
            self.assertIn(name, lcs.__all__)
            self.assertIs(getattr(upstream, name), getattr(lcs, name), name)

    def test_errors_are_sandbox_errors(self):
        for cls in (lcs.SandboxNotFoundError, lcs.SandboxUnsupportedError,
                    lcs.SandboxDeniedError, lcs.SandboxInvalidError, lcs.SandboxClosedError,
                    lcs.SandboxIOError, lcs.SandboxExistsError):
            self.assertTrue(issubclass(cls, lcs.SandboxError), cls)
        self.assertEqual(lcs.SandboxNotFoundError("x").status, "not_found")
        self.assertEqual(lcs.SandboxUnsupportedError("x").status, "unsupported")
        self.assertEqual(lcs.SandboxDeniedError("x").status, "denied")

    def test_error_mapping_of_the_sandbox_domain(self):
        from llmcore_sandbox.errors import make_error
        cases = {_lib.E_NOT_FOUND: lcs.SandboxNotFoundError,
                 _lib.E_UNSUPPORTED: lcs.SandboxUnsupportedError,
                 _lib.E_DENIED: lcs.SandboxDeniedError, _lib.E_INVALID: lcs.SandboxInvalidError,
                 _lib.E_PARSE: lcs.SandboxInvalidError, _lib.E_IO: lcs.SandboxIOError,
                 _lib.E_EXISTS: lcs.SandboxExistsError, _lib.E_INTERNAL: lcs.SandboxError}
        for code, cls in cases.items():
            err = _lib.new_error()
            err.code = code
            err.message = b"the message"
            e = make_error(err, "sandbox")
            self.assertIs(type(e), cls, code)
            self.assertEqual((e.code, str(e)), (code, "the message"))
        err = _lib.new_error()
        err.code = _lib.E_NOMEM
        self.assertIsInstance(make_error(err, "sandbox"), MemoryError)

    def test_constructor_is_not_public(self):
        with self.assertRaises(TypeError):
            lcs.Sandbox()


class SchemaTests(unittest.TestCase):
    def test_openai_schemas_list_the_15_tools(self):
        schemas = lcs.get_tool_schemas()
        self.assertEqual(len(schemas), 15)
        names = [s["function"]["name"] for s in schemas]
        self.assertEqual(names, lcs.tool_names())
        self.assertEqual(names[0], "execute_shell")
        for s in schemas:
            self.assertEqual(s["type"], "function")
            self.assertIn("parameters", s["function"])
        shell = schemas[0]["function"]["parameters"]
        self.assertEqual(shell["required"], ["command"])

    def test_mcp_schemas(self):
        schemas = lcs.get_tool_schemas("mcp")
        self.assertEqual(len(schemas), 15)
        self.assertTrue(all("inputSchema" in s and "name" in s for s in schemas))

    def test_schemas_with_a_policy_list_only_allowed_tools(self):
        policy = {"restricted": {"allowed": ["load_file", "list_files", "get_*"]}}
        names = sorted(s["function"]["name"] for s in lcs.get_tool_schemas(policy=policy))
        self.assertEqual(names, ["get_recorded_files", "get_sandbox_info", "get_state",
                                 "list_files", "load_file"])
        full = lcs.get_tool_schemas(policy=json.dumps({"denied": ["execute_*"]}), mode="full")
        self.assertEqual(len(full), 13)

    def test_policy_from_a_file(self):
        d = tempfile.mkdtemp(prefix="lcs-pytest-policy-")
        try:
            p = os.path.join(d, "policy.json")
            with open(p, "w") as f:
                json.dump({"denied": ["delete_file"]}, f)
            names = [s["name"] for s in lcs.get_tool_schemas("mcp", policy=p)]
            self.assertEqual(len(names), 14)
            self.assertNotIn("delete_file", names)
        finally:
            shutil.rmtree(d)

    def test_bad_policy_and_format_raise(self):
        with self.assertRaises(lcs.SandboxInvalidError):
            lcs.get_tool_schemas(policy={"no_such_key": []})
        with self.assertRaises(lcs.SandboxError):
            lcs.get_tool_schemas("yaml")
        with self.assertRaises(TypeError):
            lcs.get_tool_schemas(policy=42)


class ExecutionResultTests(unittest.TestCase):
    """ExecutionResult built in Python: the text still comes from the library."""

    def test_success_text(self):
        r = lcs.ExecutionResult(0, "hello\n", "")
        self.assertTrue(r.success)
        self.assertEqual(r.to_tool_output(), "hello\n")
        self.assertEqual(lcs.ExecutionResult(0, "  \n", "").to_tool_output(),
                         "(command completed successfully with no output)")

    def test_failure_text(self):
        r = lcs.ExecutionResult(2, "out", "bad thing")
        self.assertFalse(r.success)
        self.assertEqual(r.to_tool_output(), "❌ EXIT CODE: 2\nSTDOUT:\nout\nSTDERR:\nbad thing")

    def test_timeout_and_truncation_text(self):
        r = lcs.ExecutionResult(-1, "", "Command timed out after 5 seconds", 5.0, truncated=True,
                                timed_out=True)
        self.assertFalse(r.success)
        self.assertEqual(r.to_tool_output(),
                         "⏰ EXECUTION TIMED OUT\n❌ EXIT CODE: -1\nSTDERR:\n"
                         "Command timed out after 5 seconds\n\n"
                         "⚠️ (output was truncated due to size limits)")

    def test_to_dict_keys(self):
        d = lcs.ExecutionResult(0, "a", "b", 1.5, metadata={"verdict": "ok"}).to_dict()
        self.assertEqual(d, {"exit_code": 0, "stdout": "a", "stderr": "b",
                             "execution_time_seconds": 1.5, "truncated": False,
                             "timed_out": False, "success": True,
                             "metadata": {"verdict": "ok"}})

    def test_the_text_is_not_reimplemented_in_python(self):
        import inspect
        from llmcore_sandbox import sandbox
        src = inspect.getsource(sandbox)
        self.assertNotIn("EXECUTION TIMED OUT", src)
        self.assertNotIn("EXIT CODE", src)
        self.assertIn("lcs_tool_output_text", src)


class ArgumentTests(unittest.TestCase):
    def test_missing_rootfs_is_not_found(self):
        with self.assertRaises(lcs.SandboxNotFoundError):
            lcs.run(["true"], rootfs="/nonexistent/rootfs")
        with self.assertRaises(lcs.SandboxNotFoundError):
            lcs.Sandbox.create(rootfs="/nonexistent/rootfs")

    def test_bad_limits_are_refused_before_c(self):
        for kw in ({"pids": -1}, {"memory_mb": 0}, {"cpus": "2"}, {"timeout": -3},
                   {"memory_mb": 1.5}):
            with self.subTest(**kw), self.assertRaises((ValueError, TypeError)):
                lcs.run(["true"], rootfs="/nonexistent", **kw)

    def test_one_image_source_only(self):
        with self.assertRaises(ValueError):
            lcs.Sandbox.create(image="x", rootfs="/tmp")
        with self.assertRaises(ValueError):
            lcs.run(["true"], image="x", task="research")

    def test_unknown_mode_and_network(self):
        with self.assertRaises(ValueError):
            lcs.run(["true"], rootfs="/nonexistent", mode="godmode")
        with self.assertRaises(ValueError):
            lcs.run(["true"], rootfs="/nonexistent", network="some")

    def test_task_selection_reaches_the_library(self):
        # An empty image store: the selected image is known but not built.
        store = ts.TempStore()
        try:
            reg = lcs.ImageRegistry(store_dir=store.dir)
            with self.assertRaises(lcs.SandboxNotFoundError) as cm:
                lcs.Sandbox.create(task="research", registry=reg)
            self.assertIn("llmcore-sandbox-research", str(cm.exception))
            self.assertIn("build it first", str(cm.exception))
            with self.assertRaises(lcs.SandboxNotFoundError) as cm:
                lcs.run(["true"], runtime="python", registry=reg)
            self.assertIn("llmcore-sandbox-python", str(cm.exception))
            reg.close()
        finally:
            store.cleanup()

    def test_open_unknown_session(self):
        with self.assertRaises(lcs.SandboxNotFoundError):
            lcs.Sandbox.open("ffffffffffffffff")
        with self.assertRaises(lcs.SandboxInvalidError):
            lcs.Sandbox.open("a/b")


# ------------------------------------------------------------ with root

class RunTests(unittest.TestCase):
    """One-shot lcs_run."""

    @classmethod
    def setUpClass(cls):
        cls.rootfs = fixture_rootfs()

    def test_ok(self):
        r = lcs.run(["sh", "-c", "echo hello; echo warn >&2"], rootfs=self.rootfs)
        self.assertEqual((r.verdict, r.exit_code, r.stdout, r.stderr),
                         ("ok", 0, "hello\n", "warn\n"))
        self.assertTrue(r.success)
        self.assertEqual(r.to_tool_output(), "hello\n")
        self.assertEqual(r.metadata["policy"]["access_mode"], "restricted")
        self.assertEqual(r.metadata["enforced"]["degraded"], [])
        self.assertGreater(r.execution_time_seconds, 0)

    def test_exit(self):
        r = lcs.run("echo out; exit 7", rootfs=self.rootfs)
        self.assertEqual((r.verdict, r.exit_code, r.success), ("exit", 7, False))
        self.assertEqual(r.to_tool_output(), "❌ EXIT CODE: 7\nSTDOUT:\nout\n")

    def test_timeout(self):
        r = lcs.run(["sleep", "30"], rootfs=self.rootfs, timeout=1)
        self.assertEqual(r.verdict, "timeout")
        self.assertTrue(r.timed_out)
        self.assertEqual(r.exit_code, -1)
        self.assertLess(r.execution_time_seconds, 10)
        self.assertTrue(r.to_tool_output().startswith("⏰ EXECUTION TIMED OUT\n"))
        # unchanged fields: the library's own text; rebuilt: the same text
        text = r.to_tool_output()
        r2 = lcs.ExecutionResult(r.exit_code, r.stdout, r.stderr, r.execution_time_seconds,
                                 r.truncated, r.timed_out, dict(r.metadata))
        self.assertEqual(r2.to_tool_output(), text)

    def test_warm_runs_are_fresh(self):
        # a policy of its own (the environment is part of it), gone 2 s unused
        kw = dict(rootfs=self.rootfs, env={"WARM_TEST": str(os.getpid())}, warm=True,
                  warm_idle=2)
        r1 = lcs.run("ls /home/sandbox/work; echo x > /home/sandbox/work/m", **kw)
        self.assertEqual((r1.metadata["start"], r1.stdout), ("cold", ""))
        time.sleep(1)
        r2 = lcs.run("ls /home/sandbox/work; echo $WARM_TEST", **kw)
        self.assertEqual((r2.metadata["start"], r2.stdout), ("warm", "%d\n" % os.getpid()))
        self.assertEqual(lcs.run("true", rootfs=self.rootfs).metadata["start"], "cold")
        with self.assertRaises(ValueError):
            lcs.run("true", rootfs=self.rootfs, warm=True, warm_idle=0)

    def test_stdin_env_workdir_and_binary_output(self):
        r = lcs.run(["sh", "-c", "cat; echo \"$GREETING\"; pwd; printf 'a\\000b\\377'"],
                    rootfs=self.rootfs, stdin=b"in\n", env={"GREETING": "hi there"},
                    workdir="/tmp")
        self.assertEqual(r.exit_code, 0, r.stderr)
        self.assertEqual(r.stdout_bytes, b"in\nhi there\n/tmp\na\x00b\xff")

    def test_denied_limits(self):
        with self.assertRaises(lcs.SandboxDeniedError):
            lcs.run(["true"], rootfs=self.rootfs, memory_mb=1 << 20)
        r = lcs.run(["true"], rootfs=self.rootfs, memory_mb=1024, allow_above_limits=True)
        self.assertEqual(r.metadata["policy"]["memory_mb"], 1024)


class SessionTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rootfs = fixture_rootfs()

    def new_sandbox(self, **kw):
        kw.setdefault("rootfs", self.rootfs)
        sb = lcs.Sandbox.create(**kw)
        self.addCleanup(self._destroy, sb)
        return sb

    @staticmethod
    def _destroy(sb):
        if not sb.closed:
            sb.destroy()


class SessionTests(SessionTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sb = lcs.Sandbox.create(rootfs=cls.rootfs, label="python tests", timeout=20)

    @classmethod
    def tearDownClass(cls):
        cls.sb.destroy()

    def test_status(self):
        st = self.sb.status()
        self.assertEqual(st["id"], self.sb.id)
        self.assertEqual(st["label"], "python tests")
        self.assertEqual(st["state"], "running")
        self.assertIn(self.sb.id, session_ids())

    def test_exec_and_state_persists(self):
        self.sb.exec("echo 41 > counter")
        r = self.sb.exec(["sh", "-c", "echo $(( $(cat counter) + 1 ))"])
        self.assertEqual(r.stdout, "42\n")
        r = self.sb.exec("pwd; id -u", cwd="/tmp", env={"A": "1"})
        self.assertEqual(r.stdout, "/tmp\n1000\n")
        self.assertEqual(self.sb.exec("cat", stdin="piped").stdout, "piped")
        self.sb.remove("counter")

    def test_exec_verdicts(self):
        r = self.sb.exec("exit 3")
        self.assertEqual((r.verdict, r.exit_code), ("exit", 3))
        r = self.sb.exec("sleep 30", timeout=1)
        self.assertEqual((r.verdict, r.timed_out, r.exit_code), ("timeout", True, -1))
        self.assertEqual(self.sb.exec("echo still usable").stdout, "still usable\n")
        r = self.sb.exec("no-such-program")
        self.assertEqual(r.exit_code, 127)
        r = self.sb.exec("yes | head -c 100000", output_bytes=1000)
        self.assertTrue(r.truncated)
        self.assertIn("truncated", r.to_tool_output())

    def test_binary_round_trip_of_5_mb(self):
        data = os.urandom(5 * 1024 * 1024) + b"\x00\x00end"
        self.sb.write_file("big.bin", data)
        self.assertEqual(self.sb.read_file("big.bin"), data)
        self.assertEqual(self.sb.stat("big.bin").size, len(data))
        r = self.sb.exec("wc -c < big.bin")
        self.assertEqual(int(r.stdout), len(data))
        self.sb.write_file("big.bin", b"tail", append=True)
        self.assertEqual(self.sb.read_file("big.bin"), data + b"tail")
        self.sb.remove("big.bin")

    def test_awkward_names(self):
        names = ["with space.txt", "quote'single", 'quote"double', "dollar$HOME",
                 "new\nline", "unicodé-日本語-🙂", "back\\slash", "-starts-with-dash"]
        self.sb.mkdir("odd dir/sub $x")
        for i, name in enumerate(names):
            with self.subTest(name=name):
                path = "odd dir/sub $x/" + name
                self.sb.write_file(path, "content %d" % i)
                self.assertTrue(self.sb.exists(path))
                self.assertEqual(self.sb.read_text(path), "content %d" % i)
        listed = sorted(f.name for f in self.sb.list_files("odd dir/sub $x"))
        self.assertEqual(listed, sorted(names))
        r = self.sb.exec(["ls", "/home/sandbox/work/odd dir/sub $x"])
        self.assertIn("with space.txt", r.stdout)
        self.sb.remove("odd dir", recursive=True)
        self.assertFalse(self.sb.exists("odd dir"))

    def test_list_files_types_and_sizes(self):
        self.sb.mkdir("lt/sub")
        self.sb.write_file("lt/ten.bin", b"0123456789")
        self.sb.write_file("lt/sub/empty", b"")
        self.sb.exec("ln -s ten.bin lt/link")
        entries = {f.name: f for f in self.sb.list_files("lt")}
        self.assertEqual(sorted(entries), ["link", "sub", "ten.bin"])
        self.assertEqual((entries["ten.bin"].type, entries["ten.bin"].size), ("file", 10))
        self.assertTrue(entries["ten.bin"].is_file)
        self.assertEqual(entries["sub"].type, "directory")
        self.assertEqual(entries["link"].type, "symlink")
        self.assertEqual(entries["ten.bin"].path, "/home/sandbox/work/lt/ten.bin")
        deep = {f.path for f in self.sb.list_files("lt", recursive=True)}
        self.assertIn("/home/sandbox/work/lt/sub/empty", deep)
        self.assertTrue(self.sb.stat("lt/link").is_symlink)  # not followed
        self.sb.remove("lt", recursive=True)

    def test_missing_paths(self):
        with self.assertRaises(lcs.SandboxNotFoundError):
            self.sb.remove("no-such-file")
        with self.assertRaises(lcs.SandboxNotFoundError):
            self.sb.read_file("no-such-file")
        with self.assertRaises(lcs.SandboxNotFoundError):
            self.sb.stat("no/such/file")
        with self.assertRaises(lcs.SandboxNotFoundError):
            self.sb.list_files("no-such-dir")
        with self.assertRaises(lcs.SandboxNotFoundError):
            self.sb.write_file("no-such-dir/f", "x")
        self.assertFalse(self.sb.exists("no-such-file"))
        self.sb.write_file("made/by/parents/f", "x", parents=True)
        self.assertEqual(self.sb.read_text("made/by/parents/f"), "x")
        self.sb.remove("made", recursive=True)

    def test_paths_cannot_escape_the_sandbox(self):
        with open(os.path.join(self.rootfs, "etc", "passwd"), "rb") as f:
            sandbox_passwd = f.read()
        self.sb.exec("ln -s /etc/passwd escape")
        self.assertEqual(self.sb.read_file("escape"), sandbox_passwd)
        self.assertEqual(self.sb.read_file("../../../../../etc/passwd"), sandbox_passwd)
        self.sb.remove("escape")

    def test_streaming_callback(self):
        chunks = []
        r = self.sb.exec("echo one; echo two >&2; echo three",
                         on_output=lambda stream, data: chunks.append((stream, data)))
        out = b"".join(d for s, d in chunks if s == "stdout")
        err = b"".join(d for s, d in chunks if s == "stderr")
        self.assertEqual((out, err), (b"one\nthree\n", b"two\n"))
        self.assertEqual(r.stdout, "one\nthree\n")

    def test_callback_exception_is_raised_after_the_call(self):
        calls = []

        def bad(stream, data):
            calls.append(data)
            raise KeyError("from the callback")

        with self.assertRaises(KeyError) as cm:
            self.sb.exec("echo a; sleep 0.2; echo b", on_output=bad)
        self.assertEqual(len(calls), 1)  # not called again after raising
        self.assertEqual(cm.exception.execution_result.stdout, "a\nb\n")
        self.assertEqual(self.sb.exec("echo ok").stdout, "ok\n")

    def test_callback_cannot_reenter_the_sandbox(self):
        errors = []

        def reenter(stream, data):
            try:
                self.sb.exec("true")
            except lcs.SandboxError as e:
                errors.append(e)

        self.sb.exec("echo x", on_output=reenter)
        self.assertEqual(len(errors), 1)
        self.assertIn("callback", str(errors[0]))

    def test_calls_from_threads_are_serialised(self):
        out = []

        def work(i):
            self.sb.write_file("t%d" % i, str(i))
            out.append(self.sb.exec("cat t%d" % i).stdout)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(out), ["0", "1", "2", "3"])
        for i in range(4):
            self.sb.remove("t%d" % i)

    def test_export(self):
        self.sb.mkdir("ex")
        self.sb.write_file("ex/a.txt", "A")
        data = self.sb.export("ex")
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            names = tf.getnames()
            member = [m for m in tf.getmembers() if m.name.endswith("a.txt")][0]
            self.assertEqual(tf.extractfile(member).read(), b"A")
        self.assertTrue(any(n.endswith("a.txt") for n in names), names)
        buf = io.BytesIO()
        n = self.sb.export(fileobj=buf)
        self.assertEqual(n, len(buf.getvalue()))
        self.assertGreater(n, 0)
        self.sb.remove("ex", recursive=True)

    def test_upload_and_download(self):
        d = tempfile.mkdtemp(prefix="lcs-pytest-io-")
        try:
            src = os.path.join(d, "src")
            data = b"\x00payload\xff" * 100000
            with open(src, "wb") as f:
                f.write(data)
            self.sb.upload("up.bin", src)
            self.assertEqual(self.sb.stat("up.bin").size, len(data))
            dst = os.path.join(d, "dst")
            self.assertEqual(self.sb.download("up.bin", dst), len(data))
            with open(dst, "rb") as f:
                self.assertEqual(f.read(), data)
            buf = io.BytesIO()
            self.sb.download("up.bin", buf)
            self.assertEqual(buf.getvalue(), data)
            self.sb.remove("up.bin")
        finally:
            shutil.rmtree(d)

    def test_download_keeps_holes_and_never_destroys_the_target(self):
        # The sandbox makes a 1 GiB sparse file (it costs it nothing): the
        # host copy holds its data only; a download from a path the sandbox
        # turned into a directory, or over the budget, leaves the target.
        d = tempfile.mkdtemp(prefix="lcs-pytest-sparse-")
        try:
            self.sb.exec("truncate -s 1073741824 sparse.bin")
            dst = os.path.join(d, "dst")
            self.assertEqual(self.sb.download("sparse.bin", dst), 1 << 30)
            st = os.stat(dst)
            self.assertEqual(st.st_size, 1 << 30)
            self.assertLessEqual(st.st_blocks * 512, 1 << 20)
            with open(dst, "w") as f:
                f.write("precious")
            self.sb.mkdir("adir")
            with self.assertRaises(lcs.SandboxError):
                self.sb.download("adir", dst)
            self.sb.write_file("dense.bin", os.urandom(8192))
            with self.assertRaises(lcs.SandboxError) as cm:
                self.sb.download("dense.bin", dst, max_bytes=1024)
            self.assertIn("copy budget of 1024 bytes", str(cm.exception))
            with open(dst) as f:
                self.assertEqual(f.read(), "precious")
            self.assertEqual(sorted(os.listdir(d)), ["dst"])  # no temporary file left
            tar = self.sb.export()
            self.assertLess(len(tar), 1 << 20)
            # into memory: bounded by max_bytes, whatever the file's size
            with self.assertRaises(lcs.SandboxDeniedError) as cm:
                self.sb.read_file("sparse.bin", max_bytes=4096)
            self.assertIn("1073741824 bytes", str(cm.exception))
            self.assertEqual(self.sb.read_file("dense.bin", max_bytes=8192),
                             self.sb.read_file("dense.bin"))
            self.sb.remove("sparse.bin")
            self.sb.remove("dense.bin")
            self.sb.remove("adir")
        finally:
            shutil.rmtree(d)

    def test_run_python_uses_a_temporary_file(self):
        r = self.sb.run_python("print(1)")  # busybox has no python3
        self.assertEqual(r.exit_code, 127)
        self.assertEqual([f.name for f in self.sb.list_files("/tmp")
                          if f.name.startswith("llmcore_code_")], [])
        r = self.sb.run_python("echo from sh; echo $0", python="sh")
        self.assertEqual(r.stdout.splitlines()[0], "from sh", r.stderr)
        self.assertTrue(r.stdout.splitlines()[1].startswith("/tmp/llmcore_code_"))

    def test_files_api_and_commands_see_the_same_tmp(self):
        # lcs_session_write_data must write where the sandbox's commands
        # look: /tmp is a tmpfs inside the sandbox.  (The execute_python tool
        # relies on it: it writes /tmp/llmcore_code_*.py with the file API.)
        self.sb.write_file("/tmp/from-the-api.txt", "api")
        r = self.sb.exec("cat /tmp/from-the-api.txt")
        self.sb.remove("/tmp/from-the-api.txt")
        self.assertEqual(r.stdout, "api", "a file written to /tmp with the file API is not "
                         "visible to commands: " + r.stderr.strip())


class LifetimeTests(SessionTestCase):
    def test_context_manager_destroys(self):
        with lcs.Sandbox.create(rootfs=self.rootfs) as sb:
            sid = sb.id
            self.assertIn(sid, session_ids())
            sb.exec("true")
        self.assertNotIn(sid, session_ids())
        with self.assertRaises(lcs.SandboxClosedError):
            sb.exec("true")
        with self.assertRaises(lcs.SandboxNotFoundError):
            lcs.Sandbox.open(sid)

    def test_context_manager_destroys_on_exception(self):
        with self.assertRaises(RuntimeError):
            with lcs.Sandbox.create(rootfs=self.rootfs) as sb:
                sid = sb.id
                raise RuntimeError("boom")
        self.assertNotIn(sid, session_ids())

    def test_open_from_a_second_object(self):
        sb = self.new_sandbox()
        sb.write_file("shared.txt", "from the first object\n")
        other = lcs.Sandbox.open(sb.id)
        self.assertEqual(other.id, sb.id)
        self.assertEqual(other.read_text("shared.txt"), "from the first object\n")
        other.exec("echo more >> shared.txt")
        other.close()  # detach only
        other.close()  # idempotent
        with self.assertRaises(lcs.SandboxClosedError):
            other.read_file("shared.txt")
        self.assertEqual(sb.read_text("shared.txt"), "from the first object\nmore\n")
        prefix = lcs.Sandbox.open(sb.id[:8])
        self.assertEqual(prefix.id, sb.id)
        with prefix:  # a context manager on an opened sandbox destroys it too
            pass
        self.assertNotIn(sb.id, session_ids())
        with self.assertRaises(lcs.SandboxError):
            sb.exec("true")  # the session is gone; the handle reports it
        sb.destroy()  # the monitor is gone: cleaned up, no error

    def test_destroy_is_idempotent_and_close_after_destroy_is_harmless(self):
        sb = lcs.Sandbox.create(rootfs=self.rootfs)
        sb.destroy()
        sb.destroy()
        sb.close()
        self.assertTrue(sb.closed)
        self.assertIn("destroyed", repr(sb))
        for call in (sb.status, lambda: sb.read_file("x"), lambda: sb.list_files(),
                     lambda: sb.tools(track=False)):
            with self.assertRaises(lcs.SandboxClosedError):
                call()

    def test_destroy_keeping_the_workspace(self):
        sb = lcs.Sandbox.create(rootfs=self.rootfs)
        sb.write_file("keep me.txt", "kept")
        d = tempfile.mkdtemp(prefix="lcs-pytest-keep-")
        try:
            sid = sb.id
            sb.destroy(keep_workspace=os.path.join(d, "ws"))
            with open(os.path.join(d, "ws", "keep me.txt")) as f:
                self.assertEqual(f.read(), "kept")
            self.assertNotIn(sid, session_ids())
        finally:
            shutil.rmtree(d)

    def test_garbage_collected_sandbox_detaches_with_a_warning(self):
        sb = lcs.Sandbox.create(rootfs=self.rootfs)
        sid = sb.id
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            del sb
            gc.collect()
        self.assertTrue(any(issubclass(x.category, ResourceWarning) for x in w))
        self.assertIn(sid, session_ids())  # still running: reattach and destroy
        lcs.Sandbox.open(sid).destroy()
        self.assertNotIn(sid, session_ids())

    def test_opened_sandbox_is_detached_silently(self):
        sb = self.new_sandbox()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            for _ in range(20):
                lcs.Sandbox.open(sb.id)
            gc.collect()
        self.assertEqual([x for x in w if issubclass(x.category, ResourceWarning)], [])
        self.assertEqual(sb.exec("echo alive").stdout, "alive\n")

    def test_options_reach_the_policy(self):
        sb = self.new_sandbox(memory_mb=256, pids=32, timeout=7, env={"X_TEST": "yes"},
                              workdir="/tmp", idle_timeout=600, label="opts", disk_mb=8)
        pol = sb.status()["policy"]
        self.assertEqual((pol["memory_mb"], pol["pids"], pol["timeout_seconds"], pol["cwd"],
                          pol["disk_mb"]), (256, 32, 7.0, "/tmp", 8))
        # the layer cap is real: a 16 MiB write into the workspace fails
        r = sb.exec("dd if=/dev/zero of=/home/sandbox/work/f bs=1M count=16 2>&1")
        self.assertEqual(r.exit_code, 1)
        self.assertIn("No space left on device", r.stdout)
        self.assertIn("X_TEST=yes", pol["env"])
        self.assertEqual(sb.exec("echo $X_TEST; pwd").stdout, "yes\n/tmp\n")

    def test_input_and_output_dirs(self):
        d = tempfile.mkdtemp(prefix="lcs-pytest-io-", dir="/tmp")
        try:
            os.chmod(d, 0o755)
            inp, outp = os.path.join(d, "in"), os.path.join(d, "out")
            os.mkdir(inp)
            os.mkdir(outp)
            os.chmod(inp, 0o755)
            os.chown(outp, 101000, 101000)
            with open(os.path.join(inp, "data"), "w") as f:
                f.write("input")
            os.chmod(os.path.join(inp, "data"), 0o644)
            sb = self.new_sandbox(input_dir=inp, output_dir=outp)
            r = sb.exec("cat /home/sandbox/input/data > /home/sandbox/output/copy; "
                        "echo x > /home/sandbox/input/no 2>/dev/null || echo ro")
            self.assertEqual(r.stdout, "ro\n", r.stderr)
            with open(os.path.join(outp, "copy")) as f:
                self.assertEqual(f.read(), "input")
        finally:
            shutil.rmtree(d)


class MountedDirFileTests(SessionTestCase):
    def test_files_api_sees_input_and_output_dirs(self):
        # The file API must see what commands see at /home/sandbox/input and
        # /home/sandbox/output (host directories bind-mounted in the sandbox).
        d = tempfile.mkdtemp(prefix="lcs-pytest-io-", dir="/tmp")
        try:
            os.chmod(d, 0o755)
            inp, outp = os.path.join(d, "in"), os.path.join(d, "out")
            os.mkdir(inp, 0o755)
            os.mkdir(outp)
            os.chown(outp, 101000, 101000)
            with open(os.path.join(inp, "data"), "w") as f:
                f.write("input")
            os.chmod(os.path.join(inp, "data"), 0o644)
            sb = self.new_sandbox(input_dir=inp, output_dir=outp)
            self.assertEqual(sb.exec("cat /home/sandbox/input/data").stdout, "input")
            self.assertEqual(sb.read_file("/home/sandbox/input/data"), b"input")
            sb.write_file("/home/sandbox/output/api.txt", "from the api")
            self.assertEqual(os.listdir(outp), ["api.txt"])
        finally:
            shutil.rmtree(d)


class ToolTests(SessionTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sb = lcs.Sandbox.create(rootfs=cls.rootfs)
        cls.runs = tempfile.mkdtemp(prefix="lcs-pytest-runs-")
        os.chmod(cls.runs, 0o700)
        cls.tools = cls.sb.tools(runs_dir=cls.runs, task_description="python tests")

    @classmethod
    def tearDownClass(cls):
        cls.sb.destroy()
        shutil.rmtree(cls.runs, ignore_errors=True)

    def test_execute_shell_text_is_the_tool_output(self):
        r = self.tools.call("execute_shell", command="echo hi")
        self.assertEqual((r.text, r.is_error), ("hi\n", False))
        self.assertEqual(r.result["exit_code"], 0)
        self.assertTrue(r.result["success"])
        r = self.tools.call("execute_shell", command="echo out; echo err >&2; exit 4")
        self.assertTrue(r.is_error)
        self.assertEqual(r.text, "❌ EXIT CODE: 4\nSTDOUT:\nout\n\nSTDERR:\nerr\n")
        same = self.sb.exec("echo out; echo err >&2; exit 4")
        self.assertEqual(same.to_tool_output(), r.text)
        r = self.tools.call("execute_shell", {"command": "true"})
        self.assertEqual(r.text, "(command completed successfully with no output)")
        r = self.tools.execute_shell(command="sleep 10", timeout=1)
        self.assertTrue(r.text.startswith("⏰ EXECUTION TIMED OUT"), r.text)

    def test_save_and_load_file(self):
        content = "line 1\nquote ' \" $HOME `x` | pipe\nünïcödé\n"
        r = self.tools.call("save_file", path="notes/a b.txt", content=content,
                            description="test file")
        self.assertEqual(r.text, "Successfully saved file: notes/a b.txt")
        self.assertFalse(r.is_error)
        r = self.tools.call("load_file", path="notes/a b.txt")
        self.assertEqual((r.text, r.is_error), (content, False))
        self.assertEqual(self.sb.read_text("notes/a b.txt"), content)
        r = self.tools.call("get_recorded_files")
        self.assertIn("notes/a b.txt", r.text)
        r = self.tools.call("load_file", path="missing.txt")
        self.assertTrue(r.is_error)
        self.assertTrue(r.text.startswith("ERROR: File not found or could not be read: "
                                          "missing.txt"), r.text)

    def test_state_round_trips_awkward_values(self):
        for value in ["a|b|c", "it's \"quoted\"", "multi\nline\n\ttab", "$HOME `id` \\",
                      "ünïcödé 🙂", "|"]:
            with self.subTest(value=value):
                r = self.tools.call("set_state", key="k", value=value)
                self.assertEqual(r.text, "State 'k' updated")
                r = self.tools.call("get_state", key="k")
                self.assertEqual(r.text, value)
        self.tools.call("set_state", key="n", value="5")
        r = self.tools.call("get_state", key="n")
        self.assertEqual((r.text, r.result.get("type")), ("5", "number"))
        self.assertEqual(self.tools.call("get_state", key="unset").text, "(not set)")
        self.assertIn("k", self.tools.call("list_state").text.splitlines())

    def test_denied_tool_by_policy(self):
        policy = {"restricted": {"allowed": ["load_file", "list_files", "get_*"]}}
        with self.sb.tools(policy=policy, track=False) as t:
            r = t.call("execute_shell", command="echo no")
            self.assertTrue(r.is_error)
            self.assertTrue(r.text.startswith(
                "ERROR: Tool 'execute_shell' is not allowed in restricted sandbox mode."),
                r.text)
            self.assertFalse(t.call("list_files").is_error)
            self.assertEqual(len(t.schemas()), 5)
            self.assertEqual(t.mode, lcs.AccessMode.RESTRICTED)
        with self.assertRaises(lcs.SandboxClosedError):
            t.call("list_files")
        self.assertEqual(self.sb.exec("echo session alive").stdout, "session alive\n")

    def test_unknown_tool_and_bad_arguments(self):
        with self.assertRaises(lcs.SandboxNotFoundError):
            self.tools.call("no_such_tool")
        r = self.tools.call("execute_shell")  # command missing
        self.assertTrue(r.is_error)
        self.assertIn("command", r.text)
        with self.assertRaises(AttributeError):
            self.tools.no_such_tool

    def test_sandbox_info_and_run_directory(self):
        r = self.tools.call("get_sandbox_info")
        self.assertFalse(r.is_error)
        self.assertIn("restricted", r.text.lower())
        run_dir = self.tools.run_dir
        self.assertTrue(run_dir.startswith(self.runs), run_dir)
        self.assertTrue(os.path.isfile(os.path.join(run_dir, "metadata.json")))

    def test_closing_tools_keeps_the_session_and_destroy_closes_tools(self):
        sb = self.new_sandbox()
        t = sb.tools(track=False)
        t.call("save_file", path="x.txt", content="x")
        t.close()
        t.close()
        self.assertEqual(sb.read_text("x.txt"), "x")
        t2 = sb.tools(track=False)
        sb.destroy()
        with self.assertRaises(lcs.SandboxClosedError):
            t2.call("list_files")


class MemoryTests(SessionTestCase):
    """Owned C memory of sandbox calls (results, file lists, JSON, tool
    contexts) is released: the C heap stays flat over many calls."""

    def test_repeated_sandbox_calls_do_not_grow_the_c_heap(self):
        try:
            f = ctypes.CDLL(None).mallinfo2
        except (OSError, AttributeError):
            self.skipTest("glibc mallinfo2 is not available")

        class MallInfo2(ctypes.Structure):
            _fields_ = [(n, ctypes.c_size_t) for n in (
                "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                "uordblks", "fordblks", "keepcost")]
        f.restype = MallInfo2
        f.argtypes = []

        def used():
            gc.collect()
            m = f()
            return m.uordblks + m.hblkhd

        sb = self.new_sandbox()
        sb.write_file("f.txt", "x" * 1000)

        def workload():
            sb.exec("echo out; echo err >&2", on_output=lambda s, d: None)
            sb.read_file("f.txt")
            sb.list_files(".")
            sb.stat("f.txt")
            sb.status()
            try:
                sb.remove("missing")
            except lcs.SandboxNotFoundError:
                pass
            with sb.tools(track=False) as t:
                t.call("execute_shell", command="echo hi")
                t.call("set_state", key="k", value="v")
            lcs.get_tool_schemas()
            other = lcs.Sandbox.open(sb.id)
            other.close()

        for _ in range(10):
            workload()
        before = used()
        n = 60
        for _ in range(n):
            workload()
        growth = used() - before
        self.assertLess(growth, n * 64, "C heap grew by %d bytes" % growth)


class LayoutTests(unittest.TestCase):
    """The new ctypes structures have the header's layout."""

    def test_structures_match_the_header(self):
        cc = ts.c_compiler()
        if not cc:
            self.skipTest("no C compiler to read the header's layout")
        structs = {"lcs_policy_overrides": _lib.PolicyOverrides,
                   "lcs_run_request": _lib.RunRequest, "lcs_run_result": _lib.RunResult,
                   "lcs_session_options": _lib.SessionOptions,
                   "lcs_exec_options": _lib.ExecOptions, "lcs_file_info": _lib.FileInfo,
                   "lcs_file_list": _lib.FileList, "lcs_tool_options": _lib.ToolOptions,
                   "lcs_tool_result": _lib.ToolResultC}
        layout = ts.c_layout(cc, structs)
        for cname, py in structs.items():
            with self.subTest(struct=cname):
                self.assertEqual(ctypes.sizeof(py), layout[(cname, "#size")])
                for fname, _ in py._fields_:
                    self.assertEqual(getattr(py, fname).offset, layout[(cname, fname)], fname)


if __name__ == "__main__":
    unittest.main()
