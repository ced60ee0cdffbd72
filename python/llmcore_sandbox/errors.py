"""Exceptions, and the one place where a C ``lcs_error`` becomes one.

Hierarchy::

    SandboxError                      every error reported by the C library
    +-- ManifestError
    |   +-- ManifestNotFoundError     LCS_E_NOT_FOUND for a manifest
    |   +-- ManifestParseError        LCS_E_PARSE (.line, .column)
    |   +-- ManifestValidationError   LCS_E_VALIDATION (.problems)
    +-- ImageRegistryError
    |   +-- ImageNotFoundError        LCS_E_NOT_FOUND for an image (.image, .available)
    |   +-- ImageExistsError          LCS_E_EXISTS (e.g. registering over a builtin)
    +-- ImageSelectionError           selector failures
    +-- SandboxInvalidError           LCS_E_INVALID / _PARSE / _VALIDATION for a
    |                                 sandbox, run, exec, file or tool call
    |   +-- SandboxClosedError        a destroyed or closed Sandbox was used
    +-- SandboxNotFoundError          LCS_E_NOT_FOUND: no such session, file,
    |                                 directory, tool, or unbuilt image
    +-- SandboxExistsError            LCS_E_EXISTS
    +-- SandboxIOError                LCS_E_IO (sys_errno set)
    +-- SandboxUnsupportedError       LCS_E_UNSUPPORTED: this host lacks a
    |                                 protection; the message names it and the fix
    +-- SandboxDeniedError            LCS_E_DENIED: a policy forbids it (limits above
                                      the image's, a tool denied by policy, ...)

Every instance carries ``code`` (the lcs_status number), ``status`` (its name,
e.g. "not_found"), ``sys_errno`` and ``message``.  Out of memory is raised as
:class:`MemoryError`.
"""

import re

from . import _lib

__all__ = [
    "SandboxError", "ManifestError", "ManifestNotFoundError", "ManifestParseError",
    "ManifestValidationError", "ImageRegistryError", "ImageNotFoundError",
    "ImageExistsError", "ImageSelectionError", "SandboxInvalidError", "SandboxClosedError",
    "SandboxNotFoundError", "SandboxExistsError", "SandboxIOError", "SandboxUnsupportedError",
    "SandboxDeniedError", "raise_error",
]


class SandboxError(Exception):
    """Base of the errors raised by llmcore_sandbox."""

    def __init__(self, message="", code=_lib.E_INTERNAL, sys_errno=0):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = _lib.status_name(code)
        self.sys_errno = sys_errno


class ManifestError(SandboxError):
    """A manifest could not be loaded, parsed, validated or saved."""


class ManifestNotFoundError(ManifestError):
    """The manifest (file or builtin) does not exist."""

    def __init__(self, message="", code=_lib.E_NOT_FOUND, sys_errno=0):
        super().__init__(message, code, sys_errno)


class ManifestParseError(ManifestError):
    """The manifest is not valid JSON; ``line`` and ``column`` locate the error."""

    def __init__(self, message="", line=0, column=0, code=_lib.E_PARSE, sys_errno=0):
        super().__init__(message, code, sys_errno)
        self.line = line
        self.column = column


def problems_of(message):
    """The problem lines of a C validation message.

    The library formats them as ``"<what>: N problems:\\n  - a\\n  - b"``.
    """
    lines = message.split("\n")
    out = []
    for line in lines[1:]:
        if line.startswith("  - "):
            out.append(line[4:])
        elif out:  # a problem whose text itself contained a newline
            out[-1] += "\n" + line
    # lcs_error.message holds at most 2047 bytes: with many problems the tail
    # is cut.  Say so instead of silently returning a shorter list.
    m = re.search(r": (\d+) problems?:$", lines[0])
    if m and len(out) < int(m.group(1)):
        missing = int(m.group(1)) - len(out)
        if len(message.encode("utf-8", "replace")) >= 2040 and out:
            out.pop()  # the last one is probably cut in the middle
            missing += 1
        out.append("... and %d more problem%s (the library's error message was truncated)"
                   % (missing, "" if missing == 1 else "s"))
    return out


class ManifestValidationError(ManifestError):
    """Well-formed manifest that breaks the rules; ``problems`` lists every one."""

    def __init__(self, message="", problems=None, code=_lib.E_VALIDATION, sys_errno=0):
        super().__init__(message, code, sys_errno)
        self.problems = list(problems) if problems is not None else problems_of(message)


class ImageRegistryError(SandboxError):
    """A registry operation failed."""


class ImageNotFoundError(ImageRegistryError):
    """No image matches the reference; ``available`` lists the known ones."""

    def __init__(self, image, available=None, message=None, code=_lib.E_NOT_FOUND, sys_errno=0):
        self.image = image
        self.available = list(available) if available is not None else []
        if message is None:
            message = "Image not found: %s" % image
            if self.available:
                message += ". Available: %s" % ", ".join(self.available)
        super().__init__(message, code, sys_errno)


class ImageExistsError(ImageRegistryError):
    """Refusing to overwrite an image (builtin images are immutable)."""

    def __init__(self, message="", code=_lib.E_EXISTS, sys_errno=0):
        super().__init__(message, code, sys_errno)


class ImageSelectionError(SandboxError):
    """A selection or selector configuration failed."""


class SandboxInvalidError(SandboxError):
    """Bad argument or malformed input for a sandbox operation (a relative
    working directory, a malformed env entry, invalid tool-policy JSON, ...);
    ``line`` and ``column`` locate a JSON syntax error (else 0)."""

    def __init__(self, message="", code=_lib.E_INVALID, sys_errno=0, line=0, column=0):
        super().__init__(message, code, sys_errno)
        self.line = line
        self.column = column


class SandboxClosedError(SandboxInvalidError):
    """The Sandbox (or its tools object) was destroyed or closed."""


class SandboxNotFoundError(SandboxError):
    """No such session, path inside the sandbox, tool, or built image."""

    def __init__(self, message="", code=_lib.E_NOT_FOUND, sys_errno=0):
        super().__init__(message, code, sys_errno)


class SandboxExistsError(SandboxError):
    """Refusing to overwrite something."""

    def __init__(self, message="", code=_lib.E_EXISTS, sys_errno=0):
        super().__init__(message, code, sys_errno)


class SandboxIOError(SandboxError):
    """An operating-system call failed (``sys_errno`` is its errno)."""

    def __init__(self, message="", code=_lib.E_IO, sys_errno=0):
        super().__init__(message, code, sys_errno)


class SandboxUnsupportedError(SandboxError):
    """This host cannot provide a protection the sandbox needs; the message
    names it and the fix (``allow_degraded=True`` runs anyway and lists the
    downgrade in the result's ``metadata["enforced"]["degraded"]``)."""

    def __init__(self, message="", code=_lib.E_UNSUPPORTED, sys_errno=0):
        super().__init__(message, code, sys_errno)


class SandboxDeniedError(SandboxError):
    """A policy forbids the operation (limits above the image's without
    ``allow_above_limits``, a tool the tool policy denies, ...)."""

    def __init__(self, message="", code=_lib.E_DENIED, sys_errno=0):
        super().__init__(message, code, sys_errno)


_SANDBOX_BY_CODE = {
    _lib.E_INVALID: SandboxInvalidError,
    _lib.E_NOT_FOUND: SandboxNotFoundError,
    _lib.E_EXISTS: SandboxExistsError,
    _lib.E_IO: SandboxIOError,
    _lib.E_UNSUPPORTED: SandboxUnsupportedError,
    _lib.E_DENIED: SandboxDeniedError,
}


def _sandbox_error(err, code, message):
    if code in (_lib.E_PARSE, _lib.E_VALIDATION):
        return SandboxInvalidError(message, code, err.sys_errno, err.line, err.column)
    if code == _lib.OK:  # a failure without details: a library bug
        return SandboxError(message or "the C library reported a failure without an error",
                            _lib.E_INTERNAL, err.sys_errno)
    cls = _SANDBOX_BY_CODE.get(code)
    if cls is None:
        return SandboxError(message, code, err.sys_errno)
    return cls(message, code, err.sys_errno)


_DOMAIN_BASE = {
    "manifest": ManifestError,
    "registry": ImageRegistryError,
    "selector": ImageSelectionError,
}


def make_error(err, domain, image=None, available=None):
    """The exception for a filled ``lcs_error`` in a domain
    ("manifest", "registry", "selector" or "sandbox": sessions, runs, files
    and agent tools)."""
    code = err.code
    message = err.message.decode("utf-8", "replace")
    if code == _lib.E_NOMEM:
        return MemoryError(message or "out of memory")
    if domain == "sandbox":
        return _sandbox_error(err, code, message)
    if code == _lib.E_PARSE:
        return ManifestParseError(message, err.line, err.column, code, err.sys_errno)
    if code == _lib.E_VALIDATION:
        return ManifestValidationError(message, None, code, err.sys_errno)
    if code == _lib.E_NOT_FOUND:
        if domain == "manifest":
            return ManifestNotFoundError(message, code, err.sys_errno)
        return ImageNotFoundError(image, available() if callable(available) else available,
                                  message, code, err.sys_errno)
    if code == _lib.E_EXISTS and domain == "registry":
        return ImageExistsError(message, code, err.sys_errno)
    if code == _lib.OK:  # a failure without details: a library bug
        message = message or "the C library reported a failure without an error"
        code = _lib.E_INTERNAL
    return _DOMAIN_BASE[domain](message, code, err.sys_errno)


def raise_error(err, domain, image=None, available=None):
    """Raise the exception for ``err`` (see :func:`make_error`)."""
    raise make_error(err, domain, image, available)
