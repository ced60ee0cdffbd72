"""Loading of libllmcore-sandbox and the ctypes declarations of its C API.

Everything in this package delegates to the C library; this module is the
only one that touches ctypes.  Rules followed here:

* every function used has its ``argtypes`` and ``restype`` declared;
* a ``char *`` the caller must free is declared ``c_void_p`` (never
  ``c_char_p``, which would copy it to ``bytes`` and leak the original) and
  is released with ``lcs_free`` by :func:`take_string`;
* borrowed ``const char *`` results are declared ``c_char_p``;
* structures are declared only where the API needs one on the Python side,
  with the exact layout of ``include/llmcore/sandbox.h``.

Where the library is looked for, in order:

1. ``$LLMCORE_SANDBOX_LIBRARY`` (an explicit path; when set, nothing else is
   tried);
2. ``llmcore_sandbox/_installed.py`` (``LIBRARY = '...'``, written by
   ``make install``);
3. the in-tree build ``<repo>/build/libllmcore-sandbox.so.0``;
4. ``ctypes.util.find_library("llmcore-sandbox")``.
"""

import ctypes
import ctypes.util
import os

ENV_VAR = "LLMCORE_SANDBOX_LIBRARY"
SONAME = "libllmcore-sandbox.so.0"

# lcs_status
OK = 0
E_INVALID = 1
E_NOT_FOUND = 2
E_PARSE = 3
E_VALIDATION = 4
E_IO = 5
E_NOMEM = 6
E_EXISTS = 7
E_UNSUPPORTED = 8
E_DENIED = 9
E_INTERNAL = 10


class LibraryNotFoundError(ImportError):
    """libllmcore-sandbox could not be found or loaded."""


# ------------------------------------------------------------- structures

class Error(ctypes.Structure):
    """lcs_error"""
    _fields_ = [
        ("code", ctypes.c_int),
        ("sys_errno", ctypes.c_int),
        ("line", ctypes.c_int),
        ("column", ctypes.c_int),
        ("message", ctypes.c_char * 2048),
    ]


class ResourceLimitsC(ctypes.Structure):
    """lcs_resource_limits"""
    _fields_ = [
        ("memory_mb", ctypes.c_uint64),
        ("cpu_cores", ctypes.c_double),
        ("timeout_seconds", ctypes.c_uint32),
        ("max_processes", ctypes.c_uint32),
    ]


class RegistryOptions(ctypes.Structure):
    """lcs_registry_options"""
    _fields_ = [
        ("store_dir", ctypes.c_char_p),
        ("include_builtins", ctypes.c_bool),
        ("scan_store", ctypes.c_bool),
    ]


class ImageInfo(ctypes.Structure):
    """lcs_image_info (pointers kept opaque; read through the JSON form)"""
    _fields_ = [
        ("manifest", ctypes.c_void_p),
        ("ref", ctypes.c_void_p),
        ("builtin", ctypes.c_bool),
        ("available_locally", ctypes.c_bool),
        ("source", ctypes.c_void_p),
        ("rootfs", ctypes.c_void_p),
    ]


class ImageList(ctypes.Structure):
    """lcs_image_list"""
    _fields_ = [
        ("items", ctypes.c_void_p),
        ("count", ctypes.c_size_t),
    ]


class ImageFilter(ctypes.Structure):
    """lcs_image_filter"""
    _fields_ = [
        ("tier", ctypes.c_int),
        ("capabilities", ctypes.c_uint32),
        ("available_only", ctypes.c_bool),
    ]


class Selection(ctypes.Structure):
    """lcs_selection (pointers kept opaque; read through the JSON form)"""
    _fields_ = [
        ("image", ctypes.c_void_p),
        ("manifest", ctypes.c_void_p),
        ("reason", ctypes.c_void_p),
        ("alternatives", ctypes.c_void_p),
        ("n_alternatives", ctypes.c_size_t),
        ("access_mode", ctypes.c_int),
        ("required", ctypes.c_uint32),
    ]


class PolicyOverrides(ctypes.Structure):
    """lcs_policy_overrides"""
    _fields_ = [
        ("access_mode", ctypes.c_int),
        ("network", ctypes.c_int),
        ("memory_mb", ctypes.c_uint64),
        ("cpus", ctypes.c_double),
        ("pids", ctypes.c_uint32),
        ("timeout_seconds", ctypes.c_double),
        ("output_bytes", ctypes.c_uint64),
        ("file_size_mb", ctypes.c_uint64),
        ("open_files", ctypes.c_uint32),
        ("tmp_mb", ctypes.c_uint64),
        ("disk_mb", ctypes.c_uint64),
        ("env", ctypes.POINTER(ctypes.c_char_p)),
        ("cwd", ctypes.c_char_p),
        ("input_dir", ctypes.c_char_p),
        ("output_dir", ctypes.c_char_p),
        ("allow_above_limits", ctypes.c_bool),
        ("allow_degraded", ctypes.c_bool),
    ]


class RunRequest(ctypes.Structure):
    """lcs_run_request"""
    _fields_ = [
        ("image", ctypes.c_char_p),
        ("rootfs", ctypes.c_char_p),
        ("manifest", ctypes.c_void_p),
        ("argv", ctypes.POINTER(ctypes.c_char_p)),
        ("stdin_data", ctypes.c_void_p),
        ("stdin_len", ctypes.c_size_t),
        ("overrides", PolicyOverrides),
        ("seccomp_profile", ctypes.c_char_p),
        ("warm", ctypes.c_bool),
        ("warm_idle_seconds", ctypes.c_double),
        ("backend", ctypes.c_char_p),
        ("engine", ctypes.c_char_p),
    ]


class RunResult(ctypes.Structure):
    """lcs_run_result (owned buffers kept as void pointers: output may hold NULs;
    released by lcs_run_result_clear)"""
    _fields_ = [
        ("verdict", ctypes.c_char * 16),
        ("exit_code", ctypes.c_int),
        ("signal", ctypes.c_int),
        ("stdout_data", ctypes.c_void_p),
        ("stdout_len", ctypes.c_size_t),
        ("stdout_truncated", ctypes.c_bool),
        ("stderr_data", ctypes.c_void_p),
        ("stderr_len", ctypes.c_size_t),
        ("stderr_truncated", ctypes.c_bool),
        ("wall_seconds", ctypes.c_double),
        ("cpu_seconds", ctypes.c_double),
        ("peak_memory_bytes", ctypes.c_uint64),
        ("enforced_json", ctypes.c_void_p),
        ("policy_json", ctypes.c_void_p),
        ("warm", ctypes.c_bool),
    ]


class SessionOptions(ctypes.Structure):
    """lcs_session_options"""
    _fields_ = [
        ("image", ctypes.c_char_p),
        ("rootfs", ctypes.c_char_p),
        ("manifest", ctypes.c_void_p),
        ("overrides", PolicyOverrides),
        ("seccomp_profile", ctypes.c_char_p),
        ("idle_timeout_seconds", ctypes.c_double),
        ("label", ctypes.c_char_p),
        ("backend", ctypes.c_char_p),
        ("engine", ctypes.c_char_p),
    ]


#: void (*on_output)(void *ctx, int stream, const char *data, size_t len)
#: (data as POINTER(c_char): it is not NUL-terminated and may hold NULs)
OUTPUT_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int,
                                   ctypes.POINTER(ctypes.c_char), ctypes.c_size_t)


class ExecOptions(ctypes.Structure):
    """lcs_exec_options"""
    _fields_ = [
        ("argv", ctypes.POINTER(ctypes.c_char_p)),
        ("shell_command", ctypes.c_char_p),
        ("env", ctypes.POINTER(ctypes.c_char_p)),
        ("cwd", ctypes.c_char_p),
        ("timeout_seconds", ctypes.c_double),
        ("output_bytes", ctypes.c_uint64),
        ("stdin_data", ctypes.c_void_p),
        ("stdin_len", ctypes.c_size_t),
        ("on_output", OUTPUT_CALLBACK),
        ("ctx", ctypes.c_void_p),
    ]


class FileInfo(ctypes.Structure):
    """lcs_file_info (strings owned; released by lcs_file_info_clear)"""
    _fields_ = [
        ("path", ctypes.c_void_p),
        ("name", ctypes.c_void_p),
        ("is_directory", ctypes.c_bool),
        ("is_symlink", ctypes.c_bool),
        ("size", ctypes.c_uint64),
        ("mtime", ctypes.c_int64),
        ("mode", ctypes.c_uint32),
    ]


class FileList(ctypes.Structure):
    """lcs_file_list"""
    _fields_ = [
        ("items", ctypes.POINTER(FileInfo)),
        ("count", ctypes.c_size_t),
    ]


class ToolOptions(ctypes.Structure):
    """lcs_tool_options"""
    _fields_ = [
        ("session", ctypes.c_void_p),
        ("registry", ctypes.c_void_p),
        ("session_options", SessionOptions),
        ("access_mode", ctypes.c_int),
        ("policy", ctypes.c_void_p),
        ("track", ctypes.c_bool),
        ("runs_dir", ctypes.c_char_p),
        ("run_id", ctypes.c_char_p),
        ("task_description", ctypes.c_char_p),
        ("copy_recorded_files", ctypes.c_bool),
        ("max_read_bytes", ctypes.c_uint64),
        ("max_copy_bytes", ctypes.c_uint64),
        ("max_copy_files", ctypes.c_size_t),
    ]


class ToolResultC(ctypes.Structure):
    """lcs_tool_result"""
    _fields_ = [
        ("is_error", ctypes.c_bool),
        ("text", ctypes.c_void_p),
        ("text_len", ctypes.c_size_t),
        ("json", ctypes.c_void_p),
    ]


# ------------------------------------------------------------- prototypes

_P = ctypes.c_void_p          # opaque handles and owned char*
_S = ctypes.c_char_p          # input strings and borrowed results
_E = ctypes.POINTER(Error)
_I = ctypes.c_int
_B = ctypes.c_bool
_Z = ctypes.c_size_t
_U32 = ctypes.c_uint32

PROTOTYPES = {
    # errors, version, memory
    "lcs_status_name": (_S, [_I]),
    "lcs_error_clear": (None, [_E]),
    "lcs_version": (_S, []),
    "lcs_free": (None, [_P]),
    # enums
    "lcs_tier_name": (_S, [_I]),
    "lcs_access_mode_name": (_S, [_I]),
    "lcs_capability_name": (_S, [_I]),
    "lcs_tier_parse": (_I, [_S, ctypes.POINTER(_I)]),
    "lcs_access_mode_parse": (_I, [_S, ctypes.POINTER(_I)]),
    "lcs_capability_parse": (_I, [_S, ctypes.POINTER(_I)]),
    "lcs_tier_default_limits": (None, [_I, ctypes.POINTER(ResourceLimitsC)]),
    # manifests
    "lcs_manifest_load_file": (_P, [_S, _E]),
    "lcs_manifest_load_string": (_P, [_S, _E]),
    "lcs_manifest_validate": (_I, [_P, _E]),
    "lcs_manifest_to_json": (_P, [_P, _E]),
    "lcs_manifest_save_file": (_I, [_P, _S, _E]),
    "lcs_manifest_free": (None, [_P]),
    "lcs_manifest_json_normalize": (_P, [_S, _E]),
    "lcs_builtin_count": (_Z, []),
    "lcs_builtin_manifest": (_P, [_Z, _E]),
    "lcs_builtin_manifest_get": (_P, [_S, _E]),
    # registry
    "lcs_registry_options_init": (None, [ctypes.POINTER(RegistryOptions)]),
    "lcs_registry_new": (_P, [ctypes.POINTER(RegistryOptions), _E]),
    "lcs_registry_free": (None, [_P]),
    "lcs_registry_store_dir": (_S, [_P]),
    "lcs_registry_refresh": (_I, [_P, _E]),
    "lcs_registry_get": (_I, [_P, _S, ctypes.POINTER(ImageInfo), _E]),
    "lcs_registry_has": (_B, [_P, _S]),
    "lcs_registry_list": (_I, [_P, ctypes.POINTER(ImageFilter), ctypes.POINTER(ImageList), _E]),
    "lcs_registry_find": (_I, [_P, _U32, _B, ctypes.POINTER(ImageList), _E]),
    "lcs_registry_register": (_I, [_P, _P, _B, _E]),
    "lcs_registry_unregister": (_I, [_P, _S, _E]),
    "lcs_registry_count": (_Z, [_P]),
    "lcs_registry_warning_count": (_Z, [_P]),
    "lcs_registry_warning": (_S, [_P, _Z]),
    "lcs_image_info_clear": (None, [ctypes.POINTER(ImageInfo)]),
    "lcs_image_list_clear": (None, [ctypes.POINTER(ImageList)]),
    "lcs_image_info_to_json": (_P, [ctypes.POINTER(ImageInfo), _E]),
    "lcs_image_list_to_json": (_P, [ctypes.POINTER(ImageList), _E]),
    # selector
    "lcs_selector_new_json": (_P, [_P, _S, _E]),
    "lcs_selector_free": (None, [_P]),
    "lcs_select_for_task": (_I, [_P, _S, _S, _U32, ctypes.POINTER(Selection), _E]),
    "lcs_select_for_runtime": (_I, [_P, _S, ctypes.POINTER(Selection), _E]),
    "lcs_select_for_capabilities": (_I, [_P, _U32, ctypes.POINTER(Selection), _E]),
    "lcs_selection_clear": (None, [ctypes.POINTER(Selection)]),
    "lcs_selection_to_json": (_P, [ctypes.POINTER(Selection), _E]),
    "lcs_selector_add_task_mapping": (_I, [_P, _S, _S, _E]),
    "lcs_selector_add_runtime_mapping": (_I, [_P, _S, _S, _E]),
    "lcs_selector_image_for_task": (_S, [_P, _S]),
    "lcs_selector_image_for_runtime": (_S, [_P, _S]),
    "lcs_selector_task_types": (_P, [_P]),
    "lcs_selector_runtimes": (_P, [_P]),
    "lcs_strv_free": (None, [_P]),
    "lcs_selector_config_json": (_P, [_P, _E]),
    "lcs_selection_tables_json": (_P, [_E]),
    # policy, running
    "lcs_policy_overrides_init": (None, [ctypes.POINTER(PolicyOverrides)]),
    "lcs_run_request_init": (None, [ctypes.POINTER(RunRequest)]),
    "lcs_run": (_I, [_P, ctypes.POINTER(RunRequest), ctypes.POINTER(RunResult), _E]),
    "lcs_run_result_clear": (None, [ctypes.POINTER(RunResult)]),
    "lcs_run_result_to_json": (_P, [ctypes.POINTER(RunResult), _E]),
    # sessions
    "lcs_session_options_init": (None, [ctypes.POINTER(SessionOptions)]),
    "lcs_session_create": (_I, [_P, ctypes.POINTER(SessionOptions), ctypes.POINTER(_P), _E]),
    "lcs_session_open": (_P, [_S, _E]),
    "lcs_session_id": (_S, [_P]),
    "lcs_session_close": (None, [_P]),
    "lcs_exec_options_init": (None, [ctypes.POINTER(ExecOptions)]),
    "lcs_session_exec": (_I, [_P, ctypes.POINTER(ExecOptions), ctypes.POINTER(RunResult), _E]),
    "lcs_session_write_file": (_I, [_P, _S, _I, _U32, _E]),
    "lcs_session_write_data": (_I, [_P, _S, _P, _Z, _B, _E]),
    "lcs_session_read_file": (_I, [_P, _S, _I, _E]),
    "lcs_session_read_data": (_I, [_P, _S, ctypes.POINTER(_P), ctypes.POINTER(_Z), _E]),
    "lcs_session_read_prefix": (_I, [_P, _S, _Z, ctypes.POINTER(_P), ctypes.POINTER(_Z),
                                     ctypes.POINTER(ctypes.c_uint64), _E]),
    "lcs_session_read_file_max": (_I, [_P, _S, _I, ctypes.c_uint64,
                                       ctypes.POINTER(ctypes.c_uint64), _E]),
    "lcs_session_list_files": (_I, [_P, _S, _B, ctypes.POINTER(FileList), _E]),
    "lcs_session_stat": (_I, [_P, _S, ctypes.POINTER(FileInfo), _E]),
    "lcs_session_remove": (_I, [_P, _S, _B, _E]),
    "lcs_session_mkdir": (_I, [_P, _S, _B, _E]),
    "lcs_file_info_clear": (None, [ctypes.POINTER(FileInfo)]),
    "lcs_file_list_clear": (None, [ctypes.POINTER(FileList)]),
    "lcs_session_status_json": (_P, [_P, _E]),
    "lcs_session_export": (_I, [_P, _S, _I, _E]),
    "lcs_session_export_max": (_I, [_P, _S, _I, ctypes.c_uint64, _E]),
    "lcs_session_destroy": (_I, [_P, _S, _E]),
    "lcs_session_destroy_keep": (_I, [_P, _S, ctypes.c_uint64, _E]),
    "lcs_sessions_list_json": (_P, [_E]),
    "lcs_sessions_cleanup_stale": (_I, [_E]),
    # doctor
    "lcs_doctor_json": (_P, [_E]),
    # agent tools
    "lcs_tool_policy_new": (_P, [_E]),
    "lcs_tool_policy_from_json": (_P, [_S, _E]),
    "lcs_tool_policy_load_file": (_P, [_S, _E]),
    "lcs_tool_policy_free": (None, [_P]),
    "lcs_tool_policy_to_json": (_P, [_P, _E]),
    "lcs_tool_name": (_S, [_Z]),
    "lcs_tool_schemas_json": (_P, [_S, _P, _I, _E]),
    "lcs_tool_output_text": (_P, [ctypes.POINTER(RunResult), _E]),
    "lcs_tool_execution_json": (_P, [ctypes.POINTER(RunResult), _E]),
    "lcs_tool_options_init": (None, [ctypes.POINTER(ToolOptions)]),
    "lcs_tool_context_new": (_P, [ctypes.POINTER(ToolOptions), _E]),
    "lcs_tool_call_json": (_P, [_P, _S, _S, _E]),
    "lcs_tool_context_access_mode": (_I, [_P]),
    "lcs_tool_context_run_dir": (_S, [_P]),
    "lcs_tool_context_close": (_I, [_P, _E]),
}


# ---------------------------------------------------------------- loading

def _package_dir():
    return os.path.dirname(os.path.abspath(__file__))


def candidates():
    """The places searched, in order, as (description, path or None)."""
    explicit = os.environ.get(ENV_VAR, "")
    if explicit:
        return [("$%s" % ENV_VAR, explicit)]
    found = []
    try:
        from . import _installed  # written by `make install`
        found.append(("llmcore_sandbox/_installed.py", getattr(_installed, "LIBRARY", None)))
    except ImportError:
        found.append(("llmcore_sandbox/_installed.py", None))
    intree = os.path.normpath(os.path.join(_package_dir(), "..", "..", "build", SONAME))
    found.append(("in-tree build", intree))
    found.append(('ctypes.util.find_library("llmcore-sandbox")',
                  ctypes.util.find_library("llmcore-sandbox")))
    return found


def _declare(lib, path):
    for name, (restype, argtypes) in PROTOTYPES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise LibraryNotFoundError(
                "libllmcore-sandbox at %s lacks the function %s: it is older than this "
                "Python package; rebuild it (run `make` in the source tree) or point $%s "
                "at a current build" % (path, name, ENV_VAR)) from None
        fn.restype = restype
        fn.argtypes = argtypes


def load():
    tried = []
    for what, path in candidates():
        if not path:
            tried.append("%s: not available" % what)
            continue
        if os.path.sep in path and not os.path.exists(path):
            tried.append("%s: %s does not exist" % (what, path))
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s: %s cannot be loaded (%s)" % (what, path, e))
            continue
        _declare(lib, path)
        return lib, path
    raise LibraryNotFoundError(
        "cannot find libllmcore-sandbox; tried:\n  - " + "\n  - ".join(tried) +
        "\nRun `make` in the llmcore-sandbox source tree (or `make install`), or set $%s "
        "to the path of %s." % (ENV_VAR, SONAME))


lib, path = load()


# ---------------------------------------------------------------- helpers

def new_error():
    return Error()


def take_string(ptr):
    """Copy an owned ``char *`` into a Python str and free it (lcs_free)."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        lib.lcs_free(ptr)


def take_strv(ptr):
    """Copy an owned NULL-terminated ``char **`` and free it (lcs_strv_free)."""
    if not ptr:
        return None
    try:
        arr = ctypes.cast(ptr, ctypes.POINTER(ctypes.c_char_p))
        out = []
        i = 0
        while arr[i] is not None:
            out.append(arr[i].decode("utf-8"))
            i += 1
        return out
    finally:
        lib.lcs_strv_free(ptr)


def borrowed(s):
    """Decode a borrowed ``const char *`` result (c_char_p gives bytes)."""
    return None if s is None else s.decode("utf-8")


def encode(s, what="argument"):
    """A str (or bytes / path-like) as a NUL-free C string."""
    if isinstance(s, bytes):
        b = s
    elif isinstance(s, str):
        b = s.encode("utf-8")
    elif hasattr(s, "__fspath__"):
        b = os.fsencode(s)
    else:
        raise TypeError("%s must be a string, not %s" % (what, type(s).__name__))
    if b"\0" in b:
        raise ValueError("%s must not contain a NUL character" % what)
    return b


def version():
    return borrowed(lib.lcs_version())


def status_name(code):
    return borrowed(lib.lcs_status_name(code))
