"""Sandboxes: one-shot runs (``run``), sessions (``Sandbox``), the agent tools
(``Sandbox.tools()``, ``get_tool_schemas``) and ``ExecutionResult``.

Everything delegates to the C library: ``lcs_run``, the ``lcs_session_*``
API, the tool layer (``lcs_tool_context_*``, ``lcs_tool_call_json``,
``lcs_tool_schemas_json``) and upstream's result texts
(``lcs_tool_output_text``, ``lcs_tool_execution_json``).  Python only moves
arguments in and results out.

A session is a sandbox that lives across calls (and processes): create it,
run commands in it (their files persist), move files in and out, destroy it::

    with Sandbox.create(rootfs="/path/to/rootfs", timeout=30) as sb:
        sb.write_file("data.txt", "hello\\n")
        r = sb.exec("wc -c data.txt")
        print(r.stdout, r.to_tool_output())

Lifetime: ``destroy()`` removes the sandbox (``with`` does it on exit);
``close()`` only detaches this object (the session keeps running; reattach
with ``Sandbox.open(id)``).  A Sandbox that is garbage-collected without
either is detached (its idle timeout, if any, reaps it) and a
ResourceWarning is emitted when this object created it.  After destroy or
close every method raises :class:`SandboxClosedError`.

Thread safety: calls on one Sandbox (and on its tools objects) are
serialised by a lock; using the sandbox from inside its own ``on_output``
callback raises :class:`SandboxError` instead of deadlocking.
"""

import copy
import ctypes
import json
import os
import shutil
import tempfile
import threading
import uuid
import warnings
import weakref
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import _lib
from .errors import (SandboxClosedError, SandboxDeniedError, SandboxError, SandboxNotFoundError,
                     make_error)
from .models import AccessMode, CManifest, to_access_mode

__all__ = [
    "Sandbox", "SandboxTools", "ExecutionResult", "FileInfo", "ToolResult", "run",
    "get_tool_schemas", "tool_names", "list_sessions", "cleanup_stale_sessions", "doctor",
]

L = _lib.lib

STDOUT = 1
STDERR = 2
_STREAM_NAMES = {STDOUT: "stdout", STDERR: "stderr"}


# ------------------------------------------------------------------ helpers

def _raise(err):
    raise make_error(err, "sandbox")


def _json_call(fn, *args):
    """Call a C function returning an owned JSON string; the parsed value."""
    err = _lib.new_error()
    s = _lib.take_string(fn(*args, ctypes.byref(err)))
    if s is None:
        _raise(err)
    return json.loads(s)


def _path(value, what="path"):
    if hasattr(value, "__fspath__"):
        value = os.fspath(value)
    return _lib.encode(value, what)


def _opt_path(value, what):
    return None if value is None else _path(value, what)


def _strv(items, what):
    """A NULL-terminated ``char *[]`` (kept alive by the caller)."""
    enc = [_lib.encode(i, what) for i in items]
    return (ctypes.c_char_p * (len(enc) + 1))(*enc, None)


def _env_list(env):
    """env as "NAME=VALUE" strings (from a mapping or an iterable of strings)."""
    if env is None:
        return None
    if isinstance(env, dict):
        out = []
        for k, v in env.items():
            if not isinstance(k, str) or not k or "=" in k:
                raise ValueError("environment variable name %r is not valid" % (k,))
            if not isinstance(v, str):
                v = str(v)
            out.append("%s=%s" % (k, v))
        return out
    if isinstance(env, (str, bytes)):
        raise TypeError("env must be a mapping or a list of NAME=VALUE strings")
    return list(env)


def _data(data, what="data"):
    """bytes-like or str (UTF-8) as bytes."""
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError("%s must be bytes or str, not %s" % (what, type(data).__name__))


def _positive(value, what, integer=False):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("%s must be a number, not %s" % (what, type(value).__name__))
    if integer and value != int(value):
        raise ValueError("%s must be a whole number, not %r" % (what, value))
    if not value > 0:
        raise ValueError("%s must be positive, not %r" % (what, value))
    return value


def _mode_index(mode):
    return list(AccessMode).index(to_access_mode(mode))


def _network_value(network):
    if network is None:
        return -1
    if isinstance(network, bool):
        return 1 if network else 0
    if network in ("none", "full"):
        return 0 if network == "none" else 1
    raise ValueError("network must be 'none', 'full' (or a bool), not %r" % (network,))


def _fill_overrides(o, keep, mode=None, network=None, memory_mb=None, cpus=None, pids=None,
                    timeout=None, output_bytes=None, env=None, workdir=None, input_dir=None,
                    output_dir=None, allow_above_limits=False, allow_degraded=False,
                    disk_mb=None):
    """Fill an initialised lcs_policy_overrides; objects that must outlive the
    C call are appended to ``keep``."""
    if mode is not None:
        o.access_mode = _mode_index(mode)
    o.network = _network_value(network)
    if _positive(memory_mb, "memory_mb", integer=True) is not None:
        o.memory_mb = int(memory_mb)
    if _positive(cpus, "cpus") is not None:
        o.cpus = float(cpus)
    if _positive(pids, "pids", integer=True) is not None:
        if pids > 0xFFFFFFFF:
            raise ValueError("pids %r is too large" % (pids,))
        o.pids = int(pids)
    if _positive(timeout, "timeout") is not None:
        o.timeout_seconds = float(timeout)
    if _positive(output_bytes, "output_bytes", integer=True) is not None:
        o.output_bytes = int(output_bytes)
    if _positive(disk_mb, "disk_mb", integer=True) is not None:
        o.disk_mb = int(disk_mb)
    env = _env_list(env)
    if env:
        arr = _strv(env, "environment entry")
        keep.append(arr)
        o.env = ctypes.cast(arr, ctypes.POINTER(ctypes.c_char_p))
    for name, value in (("cwd", workdir), ("input_dir", input_dir),
                        ("output_dir", output_dir)):
        if value is not None:
            b = _path(value, name)
            keep.append(b)
            setattr(o, name, b)
    o.allow_above_limits = bool(allow_above_limits)
    o.allow_degraded = bool(allow_degraded)


class _Registry:
    """The registry handle to pass to C (and a lock held around the call)."""

    def __init__(self, registry, needed):
        from .registry import ImageRegistry
        self.owned = None
        if registry is None and needed:
            registry = self.owned = ImageRegistry()
        if registry is not None and not isinstance(registry, ImageRegistry):
            raise TypeError("registry must be an ImageRegistry, not %s"
                            % type(registry).__name__)
        self.registry = registry

    def __enter__(self):
        if self.registry is not None:
            self.registry._lock.acquire()
            try:
                return self.registry._h()
            except BaseException:
                self.registry._lock.release()
                raise
        return None

    def __exit__(self, *exc):
        if self.registry is not None:
            self.registry._lock.release()
        if self.owned is not None:
            self.owned.close()


def _select(registry, task, runtime):
    """The SelectionResult for a task and/or runtime (via ImageSelector)."""
    from .selector import ImageSelector
    sel = ImageSelector(registry)
    try:
        if task is not None:
            return sel.select_for_task(task, runtime=runtime)
        return sel.select_for_runtime(runtime)
    finally:
        sel.close()


def _image_source(image, rootfs, task, runtime, registry):
    """(image, mode-from-selection or None, selection) after resolving
    task/runtime; exactly one source must be given."""
    given = (image is not None) + (rootfs is not None) + (task is not None or runtime is not None)
    if given > 1:
        raise ValueError("give only one of image, rootfs, or task/runtime")
    if given == 0:
        task = "code_execution"  # as the MCP server does
    if task is not None or runtime is not None:
        result = _select(registry, task, runtime)
        return result.image, result.access_mode, result
    return image, None, None


# ------------------------------------------------------------------ results

@dataclass
class ExecutionResult:
    """The result of a command (upstream llmcore's ExecutionResult).

    ``exit_code`` is the command's, 128+N when killed by signal N, and -1 on
    timeout; ``stdout``/``stderr`` are text (invalid UTF-8 replaced by
    U+FFFD; stderr ends with a note saying why a command was stopped);
    ``stdout_bytes``/``stderr_bytes`` hold the raw output.  ``metadata`` has
    the verdict ("ok", "exit", "signal", "timeout", "memory", "pids",
    "output", "seccomp", "internal"), signal, per-stream truncation and byte counts,
    cpu_seconds, peak_memory_bytes, ``start`` ("cold", or "warm" for a
    ``run(..., warm=True)`` served by a sandbox started in advance), and
    ``enforced`` (what this host applied) and ``policy`` (what was asked for).
    """
    exit_code: int
    stdout: str
    stderr: str
    execution_time_seconds: float = 0.0
    truncated: bool = False
    timed_out: bool = False
    metadata: Dict[str, Any] = field(default_factory=dict)
    stdout_bytes: Optional[bytes] = field(default=None, repr=False, compare=False)
    stderr_bytes: Optional[bytes] = field(default=None, repr=False, compare=False)
    _tool_output: Optional[str] = field(default=None, init=False, repr=False, compare=False)
    _snapshot: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def success(self):
        return self.exit_code == 0 and not self.timed_out

    @property
    def verdict(self):
        v = self.metadata.get("verdict")
        if v:
            return v
        return "timeout" if self.timed_out else ("ok" if self.exit_code == 0 else "exit")

    def to_dict(self):
        """upstream's to_dict(): exit_code, stdout, stderr,
        execution_time_seconds, truncated, timed_out, success, metadata."""
        return {
            "exit_code": self.exit_code,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "execution_time_seconds": self.execution_time_seconds,
            "truncated": self.truncated,
            "timed_out": self.timed_out,
            "success": self.success,
            "metadata": copy.deepcopy(self.metadata),
        }

    def _key(self):
        return (self.exit_code, self.stdout, self.stderr, self.truncated, self.timed_out,
                self.execution_time_seconds, self.metadata.get("verdict"))

    def to_tool_output(self):
        """The text an agent sees (upstream's to_tool_output), produced by the
        C library (lcs_tool_output_text)."""
        if self._tool_output is not None and self._snapshot == self._key():
            return self._tool_output
        return _tool_output_of_fields(self)

    @classmethod
    def _from_c(cls, res):
        """From a filled lcs_run_result (not cleared here)."""
        d = _json_call(L.lcs_tool_execution_json, ctypes.byref(res))
        err = _lib.new_error()
        text = _lib.take_string(L.lcs_tool_output_text(ctypes.byref(res), ctypes.byref(err)))
        if text is None:
            _raise(err)
        meta = dict(d.get("metadata") or {})
        meta["exit_status"] = res.exit_code  # -1 unless the command exited
        meta["enforced"] = _owned_json(res.enforced_json)
        meta["policy"] = _owned_json(res.policy_json)
        meta["start"] = "warm" if res.warm else "cold"
        r = cls(exit_code=d["exit_code"], stdout=d["stdout"], stderr=d["stderr"],
                execution_time_seconds=d["execution_time_seconds"], truncated=d["truncated"],
                timed_out=d["timed_out"], metadata=meta,
                stdout_bytes=_bytes_at(res.stdout_data, res.stdout_len),
                stderr_bytes=_bytes_at(res.stderr_data, res.stderr_len))
        r._tool_output = text
        r._snapshot = r._key()
        return r


def _bytes_at(ptr, n):
    return ctypes.string_at(ptr, n) if ptr and n else b""


def _owned_json(ptr):
    """A JSON document owned by a run result (freed with the result)."""
    if not ptr:
        return None
    try:
        return json.loads(ctypes.string_at(ptr).decode("utf-8", "replace"))
    except ValueError:
        return None


_TIMEOUT_NOTE = "Command timed out after "


def _tool_output_of_fields(r):
    """lcs_tool_output_text for an ExecutionResult built or changed in Python:
    an lcs_run_result is assembled from its fields."""
    res = _lib.RunResult()
    verdict = r.verdict
    if r.timed_out:
        verdict = "timeout"
    elif verdict == "timeout":
        verdict = "ok" if r.exit_code == 0 else "exit"
    res.verdict = verdict.encode("ascii", "replace")[:15]
    res.exit_code = -1 if r.timed_out else int(r.exit_code)
    res.signal = 0
    out = (r.stdout or "").encode("utf-8", "surrogateescape")
    errs = r.stderr or ""
    if r.timed_out and errs.rstrip("\n").rsplit("\n", 1)[-1].startswith(_TIMEOUT_NOTE):
        errs = errs.rstrip("\n").rsplit("\n", 1)  # the library adds the note again
        errs = errs[0] if len(errs) == 2 else ""
    errs = errs.encode("utf-8", "surrogateescape")
    out_buf = ctypes.create_string_buffer(out, len(out) + 1)
    err_buf = ctypes.create_string_buffer(errs, len(errs) + 1)
    res.stdout_data = ctypes.cast(out_buf, ctypes.c_void_p)
    res.stdout_len = len(out)
    res.stderr_data = ctypes.cast(err_buf, ctypes.c_void_p)
    res.stderr_len = len(errs)
    res.stdout_truncated = bool(r.truncated)
    res.wall_seconds = float(r.execution_time_seconds or 0.0)
    err = _lib.new_error()
    text = _lib.take_string(L.lcs_tool_output_text(ctypes.byref(res), ctypes.byref(err)))
    if text is None:
        _raise(err)
    return text  # res is not cleared: its buffers belong to Python


@dataclass
class FileInfo:
    """One entry of a sandbox directory (lcs_file_info)."""
    path: str
    name: str
    is_directory: bool = False
    is_symlink: bool = False
    size: int = 0
    mtime: int = 0
    mode: int = 0

    @property
    def is_file(self):
        return not self.is_directory and not self.is_symlink

    @property
    def type(self):
        return "directory" if self.is_directory else "symlink" if self.is_symlink else "file"

    def to_dict(self):
        return {"path": self.path, "name": self.name, "type": self.type,
                "is_directory": self.is_directory, "is_symlink": self.is_symlink,
                "size": self.size, "mtime": self.mtime, "mode": self.mode}

    @classmethod
    def _from_c(cls, fi):
        def s(p):
            return ctypes.string_at(p).decode("utf-8", "surrogateescape") if p else ""
        return cls(path=s(fi.path), name=s(fi.name), is_directory=bool(fi.is_directory),
                   is_symlink=bool(fi.is_symlink), size=int(fi.size), mtime=int(fi.mtime),
                   mode=int(fi.mode))


@dataclass
class ToolResult:
    """The outcome of an agent tool call: upstream's text result, whether the
    tool failed, and the structured result (a dict)."""
    text: str
    is_error: bool = False
    result: Dict[str, Any] = field(default_factory=dict)

    def __str__(self):
        return self.text


# ------------------------------------------------------------------ one-shot

def run(command, image=None, rootfs=None, task=None, runtime=None, *, mode=None, network=None,
        memory_mb=None, cpus=None, pids=None, timeout=None, output_bytes=None, env=None,
        workdir=None, input_dir=None, output_dir=None, stdin=None, allow_above_limits=False,
        allow_degraded=False, registry=None, manifest=None, seccomp_profile=None, disk_mb=None,
        warm=False, warm_idle=None, backend=None, engine=None):
    """Run one command in a fresh sandbox, torn down afterwards (lcs_run).

    ``backend``: "native" (default: $LLMCORE_SANDBOX_BACKEND, else native)
    or "docker" (Docker or Podman through the Docker Engine API, at
    ``engine``, ``unix:///PATH``; default $DOCKER_HOST, else Docker's
    socket, else Podman's).

    command: an argv list (argv[0] found through the sandbox's PATH) or a
    string, run as ``/bin/sh -c COMMAND``.  The image comes from ``image``
    (a registry reference; it must be built), ``rootfs`` (a directory;
    ``manifest`` then gives the policy, default the builtin base image's) or
    ``task``/``runtime`` (ImageSelector; the selection's access mode applies
    unless ``mode`` is given); none of them: the task "code_execution".
    ``warm=True``: take a sandbox started in advance for exactly this
    policy (fresh, used by this run only) and start the next one in the
    background, which waits ``warm_idle`` seconds (default 60) for the next
    such run; without one ready the run is cold (``metadata["start"]``).
    Returns an ExecutionResult whatever the verdict; raises when no sandbox
    could be made (SandboxNotFoundError for an unknown or unbuilt image,
    SandboxUnsupportedError when the host lacks a protection, ...).
    """
    argv = _argv(command)
    image, sel_mode, _ = _image_source(image, rootfs, task, runtime, registry)
    if mode is None:
        mode = sel_mode
    keep = []
    req = _lib.RunRequest()
    L.lcs_run_request_init(ctypes.byref(req))
    req.image = None if image is None else _lib.encode(image, "image")
    req.rootfs = _opt_path(rootfs, "rootfs")
    arr = _strv(argv, "argument")
    keep.append(arr)
    req.argv = ctypes.cast(arr, ctypes.POINTER(ctypes.c_char_p))
    if stdin is not None:
        data = _data(stdin, "stdin")
        buf = ctypes.create_string_buffer(data, len(data))
        keep.append(buf)
        req.stdin_data = ctypes.cast(buf, ctypes.c_void_p)
        req.stdin_len = len(data)
    req.seccomp_profile = _opt_path(seccomp_profile, "seccomp_profile")
    req.warm = bool(warm)
    req.backend = None if backend is None else _lib.encode(backend, "backend")
    req.engine = None if engine is None else _lib.encode(engine, "engine")
    if warm_idle is not None:
        req.warm_idle_seconds = float(_positive(warm_idle, "warm_idle"))
    _fill_overrides(req.overrides, keep, mode, network, memory_mb, cpus, pids, timeout,
                    output_bytes, env, workdir, input_dir, output_dir, allow_above_limits,
                    allow_degraded, disk_mb)
    cm = CManifest(manifest) if manifest is not None else None
    try:
        if cm is not None:
            req.manifest = cm.handle
        with _Registry(registry, image is not None) as reg:
            res = _lib.RunResult()
            err = _lib.new_error()
            rc = L.lcs_run(reg, ctypes.byref(req), ctypes.byref(res), ctypes.byref(err))
            try:
                if rc != 0:
                    _raise(err)
                return ExecutionResult._from_c(res)
            finally:
                L.lcs_run_result_clear(ctypes.byref(res))
    finally:
        if cm is not None:
            cm.close()


def _argv(command):
    if isinstance(command, (str, bytes)):
        return ["/bin/sh", "-c", command]
    argv = list(command)
    if not argv:
        raise ValueError("the command is empty")
    return argv


# ------------------------------------------------------------------ module

def list_sessions():
    """Every session of this user (what ``llmcore-sandbox ps`` shows) as a
    list of dicts; sessions whose monitor died are cleaned up first."""
    return _json_call(L.lcs_sessions_list_json)


def cleanup_stale_sessions():
    """Remove what sessions with a dead monitor left behind; how many."""
    err = _lib.new_error()
    n = L.lcs_sessions_cleanup_stale(ctypes.byref(err))
    if n < 0:
        _raise(err)
    return n


def doctor():
    """What this host can enforce: {"ok", "checks": [{"name", "ok", "detail",
    "fix"}], "cgroups": {...}}."""
    return _json_call(L.lcs_doctor_json)


def tool_names():
    """The 15 agent tools, in upstream's order."""
    out = []
    i = 0
    while True:
        n = L.lcs_tool_name(i)
        if n is None:
            return out
        out.append(n.decode("utf-8"))
        i += 1


class _Policy:
    """A C lcs_tool_policy from None, a dict, JSON text or a file path."""

    def __init__(self, policy):
        self.handle = None
        if policy is None:
            return
        err = _lib.new_error()
        if isinstance(policy, dict):
            h = L.lcs_tool_policy_from_json(_lib.encode(json.dumps(policy), "policy"),
                                            ctypes.byref(err))
        elif isinstance(policy, str) and policy.lstrip().startswith("{"):
            h = L.lcs_tool_policy_from_json(_lib.encode(policy, "policy"), ctypes.byref(err))
        elif isinstance(policy, (str, bytes)) or hasattr(policy, "__fspath__"):
            h = L.lcs_tool_policy_load_file(_path(policy, "policy file"), ctypes.byref(err))
        else:
            raise TypeError("policy must be a dict, JSON text or a file path, not %s"
                            % type(policy).__name__)
        if not h:
            _raise(err)
        self.handle = h

    def close(self):
        h, self.handle = self.handle, None
        if h:
            L.lcs_tool_policy_free(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def get_tool_schemas(format="openai", policy=None, mode=None):
    """The agent tools' definitions for agent frameworks (lcs_tool_schemas_json).

    format "openai": ``[{"type": "function", "function": {name, description,
    parameters}}]``; "mcp": ``[{name, title, description, inputSchema,
    annotations}]``.  With a policy (dict, JSON text or file path) only the
    tools it allows in ``mode`` (default restricted) are listed.
    """
    m = _mode_index(mode if mode is not None else AccessMode.RESTRICTED)
    with _Policy(policy) as p:
        return _json_call(L.lcs_tool_schemas_json, _lib.encode(format, "format"), p.handle, m)


# ------------------------------------------------------------------ sessions

class _Callback:
    """Wraps a Python on_output(stream, data) for C: exceptions are caught
    (ctypes cannot propagate them), remembered and re-raised after the call;
    the user function is not called again after one."""

    def __init__(self, fn):
        self.fn = fn
        self.error = None
        self.c = _lib.OUTPUT_CALLBACK(self._call)

    def _call(self, ctx, stream, data, n):
        if self.error is not None:
            return
        try:
            self.fn(_STREAM_NAMES.get(stream, str(stream)), ctypes.string_at(data, n))
        except BaseException as e:  # noqa: B902 - nothing may cross into C
            self.error = e


class Sandbox:
    """A session: a sandbox that stays up across calls (lcs_session).

    Make one with :meth:`create` or attach to a running one with
    :meth:`open`; do not call the constructor.
    """

    def __init__(self, _handle=None, _owned=False):
        self._handle = None
        self._lock = threading.RLock()
        self._busy = False
        self._state = "open"
        self._tools = weakref.WeakSet()
        self._close_fn = L.lcs_session_close  # kept for __del__ at interpreter exit
        if _handle is None:
            raise TypeError("use Sandbox.create(...) or Sandbox.open(id)")
        self._handle = _handle
        self._id = _lib.borrowed(L.lcs_session_id(_handle))
        self._owned = _owned
        self.selection = None

    # ------------------------------------------------------------ creation

    @classmethod
    def create(cls, image=None, task=None, runtime=None, rootfs=None, mode=None,
               memory_mb=None, cpus=None, pids=None, timeout=None, env=None, workdir=None,
               input_dir=None, output_dir=None, allow_above_limits=False, allow_degraded=False,
               idle_timeout=None, label=None, registry=None, *, network=None,
               output_bytes=None, manifest=None, seccomp_profile=None, disk_mb=None,
               backend=None, engine=None):
        """Start a session; returns once the sandbox is ready.

        ``backend``/``engine``: as for run() ("docker": a container of
        Docker or Podman through the Docker Engine API).

        Image: ``image`` (registry reference, must be built), ``rootfs`` (a
        directory; ``manifest`` gives its policy, default the builtin base
        image's), or ``task``/``runtime`` chosen by ImageSelector over
        ``registry`` (default: a new ImageRegistry), whose access mode
        applies unless ``mode`` is given.  None of them: the task
        "code_execution".  ``timeout`` is the default per exec; ``env`` a
        mapping or NAME=VALUE list; ``workdir`` an absolute path inside;
        ``input_dir``/``output_dir`` host directories mounted read-only /
        read-write; ``disk_mb`` caps what the sandbox writes outside /tmp
        (its writable layer, kept in memory; default 1024); ``idle_timeout`` destroys the session after that long
        unused.  Raises SandboxNotFoundError (unknown or unbuilt image),
        SandboxUnsupportedError (a protection this host lacks; the message
        names the fix, ``allow_degraded=True`` runs anyway),
        SandboxDeniedError (limits above the image's without
        ``allow_above_limits``), SandboxInvalidError.
        """
        image, sel_mode, selection = _image_source(image, rootfs, task, runtime, registry)
        if mode is None:
            mode = sel_mode
        keep = []
        so = _lib.SessionOptions()
        L.lcs_session_options_init(ctypes.byref(so))
        so.image = None if image is None else _lib.encode(image, "image")
        so.rootfs = _opt_path(rootfs, "rootfs")
        so.seccomp_profile = _opt_path(seccomp_profile, "seccomp_profile")
        if idle_timeout is not None:
            so.idle_timeout_seconds = float(_positive(idle_timeout, "idle_timeout"))
        if label is not None:
            so.label = _lib.encode(label, "label")
        so.backend = None if backend is None else _lib.encode(backend, "backend")
        so.engine = None if engine is None else _lib.encode(engine, "engine")
        _fill_overrides(so.overrides, keep, mode, network, memory_mb, cpus, pids, timeout,
                        output_bytes, env, workdir, input_dir, output_dir, allow_above_limits,
                        allow_degraded, disk_mb)
        cm = CManifest(manifest) if manifest is not None else None
        try:
            if cm is not None:
                so.manifest = cm.handle
            with _Registry(registry, image is not None) as reg:
                h = ctypes.c_void_p()
                err = _lib.new_error()
                if L.lcs_session_create(reg, ctypes.byref(so), ctypes.byref(h),
                                        ctypes.byref(err)) != 0:
                    _raise(err)
        finally:
            if cm is not None:
                cm.close()
        sb = cls(h.value, _owned=True)
        sb.selection = selection
        return sb

    @classmethod
    def open(cls, id):
        """Attach to a running session by id (or a unique prefix of it);
        SandboxNotFoundError if there is none."""
        err = _lib.new_error()
        h = L.lcs_session_open(_lib.encode(id, "session id"), ctypes.byref(err))
        if not h:
            _raise(err)
        return cls(h, _owned=False)

    # ------------------------------------------------------------ lifetime

    @property
    def id(self):
        return self._id

    @property
    def closed(self):
        return self._handle is None

    def _use(self):
        return _Use(self)

    def close(self):
        """Detach: free this handle, the session keeps running (idempotent)."""
        with self._lock:
            if self._busy:
                raise SandboxError("cannot close the sandbox from inside its own callback",
                                   _lib.E_INVALID)
            self._close_tools()
            h, self._handle = self._handle, None
            if h:
                self._state = "closed"
                self._close_fn(h)

    def destroy(self, keep_workspace=None, max_bytes=None):
        """Kill everything and remove every trace of the session.  With
        ``keep_workspace`` (a host directory) the workspace is copied there
        first (streamed, holes kept; at most ``max_bytes`` of file data,
        None: no limit); if that copy fails the session is kept (and still
        usable) and the error is raised.  Idempotent once destroyed."""
        limit = 0 if max_bytes is None else int(_positive(max_bytes, "max_bytes", integer=True))
        with self._lock:
            if self._state == "destroyed":
                return
            if self._busy:
                raise SandboxError("cannot destroy the sandbox from inside its own callback",
                                   _lib.E_INVALID)
            h = self._h()
            keep = None
            if keep_workspace is not None:
                keep = _path(keep_workspace, "keep_workspace")
                os.makedirs(keep, exist_ok=True)
            self._close_tools()
            err = _lib.new_error()
            rc = L.lcs_session_destroy_keep(h, keep, limit, ctypes.byref(err))
            if rc != 0 and keep is not None and _destroy_kept_session(err):
                _raise(err)  # the session (and this handle) are still there
            self._handle = None
            self._state = "destroyed"
            if rc != 0:
                _raise(err)

    def _close_tools(self):
        for t in list(self._tools):
            t.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._state == "open":
            self.destroy()
        else:
            self.close()

    def __del__(self):
        try:
            if getattr(self, "_handle", None) is not None:
                if self._owned:
                    warnings.warn("Sandbox %s was neither destroyed nor closed; detaching "
                                  "(the session keeps running)" % self._id, ResourceWarning,
                                  source=self)
                self.close()
        except Exception:
            pass

    def _h(self):
        if self._handle is None:
            raise SandboxClosedError("sandbox %s has been %s" % (self._id, self._state),
                                     _lib.E_INVALID)
        return self._handle

    def __repr__(self):
        return "<Sandbox %s (%s)>" % (self._id, self._state)

    # ------------------------------------------------------------ status

    def status(self):
        """{"id", "image", "label", "state", "created", "monitor_pid",
        "policy", "enforced", "execs", "memory_bytes", "pids"}."""
        with self._use() as h:
            return _json_call(L.lcs_session_status_json, h)

    # ------------------------------------------------------------ execution

    def exec(self, command, timeout=None, env=None, cwd=None, stdin=None, on_output=None,
             output_bytes=None):
        """Run a command in the session: an argv list, or a string run as
        ``/bin/sh -c COMMAND``.  ``env`` (mapping or NAME=VALUE list) is added
        to the session's; ``cwd`` defaults to the session's working
        directory; ``timeout`` (seconds) to the session's; ``stdin`` (bytes
        or str) is fed to the command.  ``on_output(stream, data)`` is
        called as output arrives (stream "stdout" or "stderr", data bytes);
        an exception it raises is re-raised after the command ends.  A
        timeout kills the command's whole process tree and leaves the
        session usable.  Returns an ExecutionResult."""
        keep = []
        o = _lib.ExecOptions()
        L.lcs_exec_options_init(ctypes.byref(o))
        if isinstance(command, (str, bytes)):
            o.shell_command = _lib.encode(command, "command")
        else:
            arr = _strv(_argv(command), "argument")
            keep.append(arr)
            o.argv = ctypes.cast(arr, ctypes.POINTER(ctypes.c_char_p))
        env = _env_list(env)
        if env:
            arr = _strv(env, "environment entry")
            keep.append(arr)
            o.env = ctypes.cast(arr, ctypes.POINTER(ctypes.c_char_p))
        if cwd is not None:
            o.cwd = _path(cwd, "cwd")
        if _positive(timeout, "timeout") is not None:
            o.timeout_seconds = float(timeout)
        if _positive(output_bytes, "output_bytes", integer=True) is not None:
            o.output_bytes = int(output_bytes)
        if stdin is not None:
            data = _data(stdin, "stdin")
            buf = ctypes.create_string_buffer(data, len(data))
            keep.append(buf)
            o.stdin_data = ctypes.cast(buf, ctypes.c_void_p)
            o.stdin_len = len(data)
        cb = None
        if on_output is not None:
            if not callable(on_output):
                raise TypeError("on_output must be callable")
            cb = _Callback(on_output)
            o.on_output = cb.c  # cb (and so cb.c) lives until the call returns
        with self._use() as h:
            res = _lib.RunResult()
            err = _lib.new_error()
            self._busy = True
            try:
                rc = L.lcs_session_exec(h, ctypes.byref(o), ctypes.byref(res),
                                        ctypes.byref(err))
            finally:
                self._busy = False
            try:
                if rc != 0:
                    _raise(err)
                result = ExecutionResult._from_c(res)
            finally:
                L.lcs_run_result_clear(ctypes.byref(res))
        if cb is not None and cb.error is not None:
            e = cb.error
            cb.error = None
            try:
                e.execution_result = result
            except Exception:
                pass
            raise e
        return result

    def run_python(self, code, timeout=None, env=None, cwd=None, stdin=None, on_output=None,
                   python="python3"):
        """Run Python code: it is put in a unique ``/tmp/llmcore_code_<random>.py``
        (fed through the command's stdin to ``cat``, never through a shell
        command line), run with ``python3`` (``python``) and removed
        afterwards.  Returns the ExecutionResult of the Python run."""
        path = "/tmp/llmcore_code_%s.py" % uuid.uuid4().hex
        # Written by a command (not write_file) so that it lands in the /tmp
        # the commands see (the sandbox's own tmpfs).
        w = self.exec(["sh", "-c", 'umask 077 && cat > "$1"', "sh", path], stdin=_data(code),
                      cwd="/")
        if not w.success:
            raise SandboxError("cannot write the Python code to %s in sandbox %s: %s"
                               % (path, self._id, w.to_tool_output()), _lib.E_IO)
        try:
            return self.exec([python, path], timeout=timeout, env=env, cwd=cwd, stdin=stdin,
                             on_output=on_output)
        finally:
            try:
                self.exec(["rm", "-f", path], cwd="/")
            except SandboxError:
                pass

    # ------------------------------------------------------------ files

    def write_file(self, path, data, append=False, parents=False):
        """Write bytes (or str, as UTF-8) to a file inside the sandbox
        (relative paths are relative to the working directory); binary-safe,
        any size.  ``append`` adds to the end; ``parents`` creates missing
        parent directories (else a missing one is SandboxNotFoundError)."""
        b = _data(data)
        p = _path(path)
        if parents:
            parent = os.path.dirname(p)
            if parent and parent != b"/":
                self.mkdir(parent, parents=True)
        buf = ctypes.create_string_buffer(b, len(b))
        with self._use() as h:
            err = _lib.new_error()
            if L.lcs_session_write_data(h, p, ctypes.cast(buf, ctypes.c_void_p), len(b),
                                        bool(append), ctypes.byref(err)) != 0:
                _raise(err)

    def read_file(self, path, max_bytes=None):
        """The content of a file inside the sandbox, as bytes
        (SandboxNotFoundError if it does not exist).  Files above 1 GiB are
        refused; with ``max_bytes`` at most that many bytes are read (the
        memory a file the sandbox made huge, e.g. sparse, can take) and a
        larger file raises SandboxDeniedError naming its size."""
        p = _path(path)
        limit = None if max_bytes is None else int(_positive(max_bytes, "max_bytes", integer=True))
        with self._use() as h:
            ptr = ctypes.c_void_p()
            n = ctypes.c_size_t()
            size = ctypes.c_uint64()
            err = _lib.new_error()
            if limit is None:
                rc = L.lcs_session_read_data(h, p, ctypes.byref(ptr), ctypes.byref(n),
                                             ctypes.byref(err))
            else:
                rc = L.lcs_session_read_prefix(h, p, limit, ctypes.byref(ptr), ctypes.byref(n),
                                               ctypes.byref(size), ctypes.byref(err))
            if rc != 0:
                _raise(err)
            try:
                if limit is not None and size.value > n.value:
                    raise SandboxDeniedError(
                        "%s is %d bytes, more than max_bytes=%d" % (path, size.value, limit),
                        _lib.E_DENIED)
                return ctypes.string_at(ptr.value, n.value) if ptr.value else b""
            finally:
                L.lcs_free(ptr)

    def read_text(self, path, encoding="utf-8", errors="strict"):
        return self.read_file(path).decode(encoding, errors)

    def upload(self, path, source, mode=0o644):
        """Copy a host file (a path, or a file object with a fileno) into the
        sandbox, streamed."""
        if hasattr(source, "fileno"):
            if hasattr(source, "flush"):
                source.flush()
            self._write_fd(path, source.fileno(), mode)
            return
        with open(os.fspath(source), "rb") as f:
            self._write_fd(path, f.fileno(), mode)

    def _write_fd(self, path, fd, mode):
        p = _path(path)
        with self._use() as h:
            err = _lib.new_error()
            if L.lcs_session_write_file(h, p, fd, int(mode), ctypes.byref(err)) != 0:
                _raise(err)

    def download(self, path, target, max_bytes=None):
        """Copy a file out of the sandbox to a host path or a writable file
        object, streamed.  Returns the number of bytes.  Holes of a sparse
        file stay holes in a host file.  A path is replaced only by a
        complete copy (written to a temporary file next to it, then
        renamed), so a failed download leaves it as it was.  ``max_bytes``:
        the most the host writes (holes are free; None: no limit); past it
        SandboxError names the budget."""
        limit = 0 if max_bytes is None else int(_positive(max_bytes, "max_bytes", integer=True))

        def fn(h, fd, err):
            return L.lcs_session_read_file_max(h, _path(path), fd, limit, None, err)

        if isinstance(target, (str, bytes)) or hasattr(target, "__fspath__"):
            dest = os.fspath(target)
            if isinstance(dest, bytes):
                dest = os.fsdecode(dest)
            if os.path.isdir(dest):
                raise SandboxError("cannot download to %s: it is a directory" % dest,
                                   _lib.E_INVALID)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(dest)) or ".",
                                       prefix=".llmcore-sandbox-download.")
            try:
                with self._use() as h:
                    err = _lib.new_error()
                    if fn(h, fd, ctypes.byref(err)) != 0:
                        _raise(err)
                n = os.fstat(fd).st_size
                os.fchmod(fd, 0o666 & ~_umask())
                os.close(fd)
                fd = -1
                os.replace(tmp, dest)
                return n
            except BaseException:
                if fd >= 0:
                    os.close(fd)
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        return self._to_file(fn, target)

    def _to_file(self, fn, fileobj):
        """Run fn(handle, fd, err) into a temporary file, then copy it to
        fileobj (any writable file object); returns the byte count."""
        with tempfile.TemporaryFile() as tmp:
            with self._use() as h:
                err = _lib.new_error()
                if fn(h, tmp.fileno(), ctypes.byref(err)) != 0:
                    _raise(err)
            tmp.seek(0, os.SEEK_END)
            n = tmp.tell()
            tmp.seek(0)
            if fileobj is not None:
                shutil.copyfileobj(tmp, fileobj)
                return n
            return tmp.read()

    def list_files(self, path=".", recursive=False):
        """Entries of a directory inside the sandbox as FileInfo (symlinks are
        listed as such, never followed)."""
        p = _path(path)
        with self._use() as h:
            lst = _lib.FileList()
            err = _lib.new_error()
            if L.lcs_session_list_files(h, p, bool(recursive), ctypes.byref(lst),
                                        ctypes.byref(err)) != 0:
                _raise(err)
            try:
                return [FileInfo._from_c(lst.items[i]) for i in range(lst.count)]
            finally:
                L.lcs_file_list_clear(ctypes.byref(lst))

    def stat(self, path):
        """FileInfo of one path (not following a final symlink);
        SandboxNotFoundError if missing."""
        p = _path(path)
        with self._use() as h:
            fi = _lib.FileInfo()
            err = _lib.new_error()
            if L.lcs_session_stat(h, p, ctypes.byref(fi), ctypes.byref(err)) != 0:
                _raise(err)
            try:
                return FileInfo._from_c(fi)
            finally:
                L.lcs_file_info_clear(ctypes.byref(fi))

    def exists(self, path):
        try:
            self.stat(path)
            return True
        except SandboxNotFoundError:
            return False

    def remove(self, path, recursive=False):
        """Remove a file, symlink or empty directory (a whole tree with
        ``recursive``); SandboxNotFoundError if missing."""
        p = _path(path)
        with self._use() as h:
            err = _lib.new_error()
            if L.lcs_session_remove(h, p, bool(recursive), ctypes.byref(err)) != 0:
                _raise(err)

    def mkdir(self, path, parents=True):
        p = _path(path)
        with self._use() as h:
            err = _lib.new_error()
            if L.lcs_session_mkdir(h, p, bool(parents), ctypes.byref(err)) != 0:
                _raise(err)

    def export(self, path=None, fileobj=None, max_bytes=None):
        """A tar archive of a directory of the sandbox (default: the
        workspace); symlinks archived as links, files with holes as sparse
        members.  Returns the bytes, or writes them to ``fileobj`` and
        returns the byte count.  ``max_bytes``: the most file data the
        archive carries (None: no limit); past it SandboxError."""
        p = _opt_path(path, "path")
        limit = 0 if max_bytes is None else int(_positive(max_bytes, "max_bytes", integer=True))
        return self._to_file(lambda h, fd, err: L.lcs_session_export_max(h, p, fd, limit, err),
                             fileobj)

    # ------------------------------------------------------------ tools

    def tools(self, policy=None, mode=None, track=True, runs_dir=None, run_id=None,
              task_description=None, copy_recorded_files=True, max_read_bytes=None):
        """The 15 agent tools on this session (see :class:`SandboxTools`)."""
        return SandboxTools(self, policy=policy, mode=mode, track=track, runs_dir=runs_dir,
                            run_id=run_id, task_description=task_description,
                            copy_recorded_files=copy_recorded_files,
                            max_read_bytes=max_read_bytes)


def _umask():
    """The process's umask, read without changing it (os.umask would, for a
    moment, for every thread)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def _destroy_kept_session(err):
    """True when lcs_session_destroy failed before destroying (keep_workspace
    copy failed): the library then keeps the session and does not free it."""
    m = err.message.decode("utf-8", "replace")
    return "kept (copying its workspace out failed)" in m or m.startswith(
        "memfd for the workspace") or m.startswith("create ")


class _Use:
    """Holds a sandbox's lock around one C call; refuses re-entry from the
    sandbox's own on_output callback."""

    def __init__(self, sb):
        self.sb = sb

    def __enter__(self):
        sb = self.sb
        sb._lock.acquire()
        try:
            if sb._busy:
                raise SandboxError("the sandbox cannot be used from inside its own on_output "
                                   "callback", _lib.E_INVALID)
            return sb._h()
        except BaseException:
            sb._lock.release()
            raise

    def __exit__(self, *exc):
        self.sb._lock.release()


class SandboxTools:
    """The agent tools on a session (lcs_tool_context over a borrowed session).

    ``call(name, **args)`` runs a tool and returns a ToolResult (upstream's
    text, ``is_error``, the structured result).  policy: a tool access
    policy (dict, JSON text or file path; None: the defaults).  mode: the
    access mode checked (None: the session's).  track: keep the state store
    and a run directory on disk (in ``runs_dir``); False keeps state in
    memory.  ``close()`` (or ``with``, or destroying the sandbox) finishes
    the run; the session itself is never destroyed by it.
    """

    def __init__(self, sandbox, policy=None, mode=None, track=True, runs_dir=None, run_id=None,
                 task_description=None, copy_recorded_files=True, max_read_bytes=None):
        self._handle = None
        self._close_fn = L.lcs_tool_context_close
        if not isinstance(sandbox, Sandbox):
            raise TypeError("sandbox must be a Sandbox")
        self._sandbox = sandbox
        keep = []
        o = _lib.ToolOptions()
        L.lcs_tool_options_init(ctypes.byref(o))
        if mode is not None:
            o.access_mode = _mode_index(mode)
        o.track = bool(track)
        o.copy_recorded_files = bool(copy_recorded_files)
        for name, value in (("runs_dir", runs_dir), ("run_id", run_id),
                            ("task_description", task_description)):
            if value is not None:
                b = _path(value, name)
                keep.append(b)
                setattr(o, name, b)
        if max_read_bytes is not None:
            o.max_read_bytes = int(_positive(max_read_bytes, "max_read_bytes", integer=True))
        self._policy_json = None
        with _Policy(policy) as p:
            if p.handle:
                self._policy_json = _json_call(L.lcs_tool_policy_to_json, p.handle)
                o.policy = p.handle  # copied by the context
            with sandbox._use() as h:
                o.session = h
                err = _lib.new_error()
                c = L.lcs_tool_context_new(ctypes.byref(o), ctypes.byref(err))
                if not c:
                    _raise(err)
                self._handle = c
                sandbox._tools.add(self)

    def _h(self):
        if self._handle is None:
            raise SandboxClosedError("the tools object has been closed", _lib.E_INVALID)
        return self._handle

    def call(self, name, arguments=None, /, **kwargs):
        """Run a tool: ``call("execute_shell", command="ls")`` (or the
        arguments as a dict).  Tool failures, denials and invalid arguments
        are results with ``is_error`` set; an unknown tool raises
        SandboxNotFoundError."""
        args = dict(arguments or {})
        args.update(kwargs)
        text = _lib.encode(json.dumps(args), "arguments")
        with self._sandbox._use():
            d = _json_call(L.lcs_tool_call_json, self._h(), _lib.encode(name, "tool name"), text)
        return ToolResult(text=d.get("text", ""), is_error=bool(d.get("is_error")),
                          result=d.get("result") or {})

    def __getattr__(self, name):
        # sb.tools().execute_shell(command="ls") as a shorthand for call()
        if name.startswith("_") or name not in _TOOL_NAMES:
            raise AttributeError(name)
        return lambda arguments=None, **kw: self.call(name, arguments, **kw)

    @property
    def mode(self):
        with self._sandbox._use():
            return list(AccessMode)[L.lcs_tool_context_access_mode(self._h())]

    @property
    def run_dir(self):
        """The run directory (None when not tracking)."""
        with self._sandbox._use():
            return _lib.borrowed(L.lcs_tool_context_run_dir(self._h()))

    def schemas(self, format="openai"):
        """The definitions of the tools this context allows."""
        return get_tool_schemas(format, self._policy_json, self.mode)

    def close(self):
        """Copy recorded files out, save the final state, finish the run
        (idempotent; the session keeps running)."""
        h, self._handle = self._handle, None
        if h:
            try:
                self._sandbox._tools.discard(self)
            except Exception:
                pass
            err = _lib.new_error()
            with self._sandbox._lock:
                rc = self._close_fn(h, ctypes.byref(err))
            if rc != 0:
                _raise(err)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


_TOOL_NAMES = frozenset(tool_names())
