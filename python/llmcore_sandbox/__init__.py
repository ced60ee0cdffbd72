"""Python binding of libllmcore-sandbox.

Sandboxes (one-shot ``run``, sessions with ``Sandbox``, the agent tools) and
the image system: capability manifests, the image registry and the image
selector, mirroring the upstream ``llmcore.agents.sandbox`` API.  Everything delegates to
the C library (loaded with ctypes; see ``_lib.py`` for where it is looked
for); the Python objects are independent copies of the library's data.

Upstream's module-level builtin manifests (BUILTIN_MANIFESTS,
PYTHON_IMAGE_MANIFEST, ...) are provided as attributes that return a fresh
copy on every access, so they can never be shared mutable singletons.
"""

from . import _lib
from .errors import (ImageExistsError, ImageNotFoundError, ImageRegistryError,
                     ImageSelectionError, ManifestError, ManifestNotFoundError,
                     ManifestParseError, ManifestValidationError, SandboxClosedError,
                     SandboxDeniedError, SandboxError, SandboxExistsError, SandboxInvalidError,
                     SandboxIOError, SandboxNotFoundError, SandboxUnsupportedError)
from .models import (AccessMode, ImageCapability, ImageManifest, ImageMetadata, ImageTier,
                     ResourceLimits)
from .manifest import (MANIFEST_PATH_IN_CONTAINER, get_builtin_manifest, list_builtin_manifests,
                       load_manifest_from_file, load_manifest_from_string, parse_manifest,
                       save_manifest_to_file, validate_manifest)
from .registry import ImageRegistry
from .selector import (RUNTIME_IMAGE_MAP, TASK_CAPABILITY_MAP, TASK_IMAGE_MAP, ImageSelector,
                       SelectionConfig, SelectionResult)
from .sandbox import (ExecutionResult, FileInfo, Sandbox, SandboxTools, ToolResult,
                      cleanup_stale_sessions, doctor, get_tool_schemas, list_sessions, run,
                      tool_names)

__version__ = "0.1.0"

#: Version of the loaded C library, and where it was loaded from.
LIBRARY_VERSION = _lib.version()
LIBRARY_PATH = _lib.path

_BUILTIN_NAMES = {
    "BASE_IMAGE_MANIFEST": "llmcore-sandbox-base",
    "PYTHON_IMAGE_MANIFEST": "llmcore-sandbox-python",
    "NODEJS_IMAGE_MANIFEST": "llmcore-sandbox-nodejs",
    "SHELL_IMAGE_MANIFEST": "llmcore-sandbox-shell",
    "RESEARCH_IMAGE_MANIFEST": "llmcore-sandbox-research",
    "WEBSEARCH_IMAGE_MANIFEST": "llmcore-sandbox-websearch",
}


#: Attributes computed on access (fresh copies); never bind them once.
LAZY_ATTRIBUTES = frozenset(["BUILTIN_MANIFESTS"] + list(_BUILTIN_NAMES))


def builtin_attribute(name):
    """Value of an upstream builtin-manifest constant (a fresh copy)."""
    if name == "BUILTIN_MANIFESTS":
        return list_builtin_manifests()
    if name in _BUILTIN_NAMES:
        return get_builtin_manifest(_BUILTIN_NAMES[name])
    raise AttributeError(name)


def __getattr__(name):
    try:
        return builtin_attribute(name)
    except AttributeError:
        raise AttributeError("module %r has no attribute %r" % (__name__, name)) from None


__all__ = [
    # enums and data classes
    "AccessMode", "ImageCapability", "ImageTier", "ImageManifest", "ImageMetadata",
    "ResourceLimits",
    # builtin manifests (fresh copies on access)
    "BUILTIN_MANIFESTS", "BASE_IMAGE_MANIFEST", "PYTHON_IMAGE_MANIFEST", "NODEJS_IMAGE_MANIFEST",
    "SHELL_IMAGE_MANIFEST", "RESEARCH_IMAGE_MANIFEST", "WEBSEARCH_IMAGE_MANIFEST",
    # manifests
    "MANIFEST_PATH_IN_CONTAINER", "get_builtin_manifest", "list_builtin_manifests",
    "load_manifest_from_file", "load_manifest_from_string", "parse_manifest",
    "save_manifest_to_file", "validate_manifest",
    # registry and selector
    "ImageRegistry", "ImageSelector", "SelectionConfig", "SelectionResult",
    "RUNTIME_IMAGE_MAP", "TASK_CAPABILITY_MAP", "TASK_IMAGE_MAP",
    # errors
    "SandboxError", "ManifestError", "ManifestNotFoundError", "ManifestParseError",
    "ManifestValidationError", "ImageRegistryError", "ImageNotFoundError", "ImageExistsError",
    "ImageSelectionError", "SandboxInvalidError", "SandboxClosedError", "SandboxNotFoundError",
    "SandboxExistsError", "SandboxIOError", "SandboxUnsupportedError", "SandboxDeniedError",
    # sandboxes and agent tools
    "Sandbox", "SandboxTools", "ExecutionResult", "FileInfo", "ToolResult", "run",
    "get_tool_schemas", "tool_names", "list_sessions", "cleanup_stale_sessions", "doctor",
    "LIBRARY_VERSION", "LIBRARY_PATH",
]
