"""ImageSelector: picks the image (and access mode) for a task type, a
runtime or a set of capabilities, over the C ``lcs_selector``.

The rules live in the library (docs/selection.md); so do the builtin tables,
which this module exposes read-only as TASK_CAPABILITY_MAP, TASK_IMAGE_MAP
and RUNTIME_IMAGE_MAP.
"""

import ctypes
import json
import types
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional

from . import _lib
from .errors import ImageRegistryError, ImageSelectionError, raise_error
from .models import AccessMode, ImageCapability, ImageManifest, capset
from .registry import ImageRegistry

__all__ = [
    "ImageSelector", "SelectionConfig", "SelectionResult", "TASK_CAPABILITY_MAP",
    "TASK_IMAGE_MAP", "RUNTIME_IMAGE_MAP", "ImageSelectionError",
]

L = _lib.lib


def _tables():
    err = _lib.new_error()
    s = _lib.take_string(L.lcs_selection_tables_json(ctypes.byref(err)))
    if s is None:
        raise_error(err, "selector")
    return json.loads(s)


_T = _tables()
#: task type -> frozenset of the ImageCapability it requires (read-only).
TASK_CAPABILITY_MAP = types.MappingProxyType(
    {k: frozenset(ImageCapability(c) for c in v) for k, v in _T["task_capabilities"].items()})
#: task type -> image of the builtin task table (read-only).
TASK_IMAGE_MAP = types.MappingProxyType(dict(_T["task_images"]))
#: runtime -> image of the builtin runtime table (read-only).
RUNTIME_IMAGE_MAP = types.MappingProxyType(dict(_T["runtime_images"]))
del _T


def _library_defaults():
    """The selection defaults of the library (a default selector's config)."""
    opts = _lib.RegistryOptions()
    L.lcs_registry_options_init(ctypes.byref(opts))
    opts.include_builtins = False
    opts.scan_store = False
    err = _lib.new_error()
    reg = L.lcs_registry_new(ctypes.byref(opts), ctypes.byref(err))
    if not reg:
        raise_error(err, "registry")
    try:
        sel = L.lcs_selector_new_json(reg, None, ctypes.byref(err))
        if not sel:
            raise_error(err, "selector")
        try:
            s = _lib.take_string(L.lcs_selector_config_json(sel, ctypes.byref(err)))
            if s is None:
                raise_error(err, "selector")
            return json.loads(s)
        finally:
            L.lcs_selector_free(sel)
    finally:
        L.lcs_registry_free(reg)


_DEFAULTS = _library_defaults()


@dataclass
class SelectionConfig:
    """Selection settings (defaults are the library's)."""
    default_image: str = _DEFAULTS["default_image"]
    prefer_local: bool = _DEFAULTS["prefer_local"]
    prefer_task_images: bool = _DEFAULTS["prefer_task_images"]
    task_overrides: Dict[str, str] = field(default_factory=dict)
    runtime_overrides: Dict[str, str] = field(default_factory=dict)
    restricted_patterns: List[str] = field(
        default_factory=lambda: list(_DEFAULTS["restricted_patterns"]))
    full_access_patterns: List[str] = field(
        default_factory=lambda: list(_DEFAULTS["full_access_patterns"]))

    def to_dict(self):
        return {
            "default_image": self.default_image,
            "prefer_local": bool(self.prefer_local),
            "prefer_task_images": bool(self.prefer_task_images),
            "task_overrides": dict(self.task_overrides or {}),
            "runtime_overrides": dict(self.runtime_overrides or {}),
            "restricted_patterns": list(self.restricted_patterns or []),
            "full_access_patterns": list(self.full_access_patterns or []),
        }

    @classmethod
    def from_dict(cls, d):
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class SelectionResult:
    """The outcome of a selection."""
    image: str
    manifest: Optional[ImageManifest] = None  # None if the registry lacks the image
    reason: str = "default"  # task_mapping:<t>, runtime_mapping:<r>, capability_match:<caps>, default
    alternatives: List[str] = field(default_factory=list)  # other qualifying images, best first
    access_mode: AccessMode = AccessMode.RESTRICTED
    required_capabilities: FrozenSet[ImageCapability] = frozenset()

    def to_dict(self):
        return {
            "image": self.image,
            "reason": self.reason,
            "access_mode": AccessMode(self.access_mode).value,
            "alternatives": list(self.alternatives),
            "required_capabilities": [c.value for c in ImageCapability
                                      if c in self.required_capabilities],
            "manifest": self.manifest.to_dict() if self.manifest is not None else None,
        }

    @classmethod
    def _from_json_dict(cls, d):
        m = d.get("manifest")
        return cls(
            image=d["image"],
            manifest=ImageManifest._from_normalized(m) if m is not None else None,
            reason=d["reason"],
            alternatives=list(d["alternatives"]),
            access_mode=AccessMode(d["access_mode"]),
            required_capabilities=frozenset(ImageCapability(c)
                                            for c in d["required_capabilities"]),
        )


def _key(value, what):
    if not isinstance(value, str):
        raise TypeError("%s must be a string, not %s" % (what, type(value).__name__))
    return _lib.encode(value, what)


class ImageSelector:
    """Chooses images from a registry.

    registry: an ImageRegistry (None: a new default one).  The selector keeps
    a reference to it: the C selector points into the C registry.
    config: a SelectionConfig (None: the defaults).
    """

    def __init__(self, registry=None, config=None):
        self._handle = None
        self._free = L.lcs_selector_free  # kept for __del__ at interpreter exit
        if registry is None:
            registry = ImageRegistry()
        if not isinstance(registry, ImageRegistry):
            raise TypeError("registry must be an ImageRegistry, not %s"
                            % type(registry).__name__)
        if config is None:
            config = SelectionConfig()
        elif isinstance(config, dict):
            config = SelectionConfig.from_dict(config)
        self._registry = registry
        self._lock = registry._lock  # the selector reads the registry
        text = _lib.encode(json.dumps(config.to_dict()), "config")
        with self._lock:
            err = _lib.new_error()
            h = L.lcs_selector_new_json(registry._h(), text, ctypes.byref(err))
            if not h:
                raise_error(err, "selector")
            self._handle = h

    # ------------------------------------------------------------ lifetime

    def close(self):
        """Free the C selector (idempotent)."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            h, self._handle = self._handle, None
            if h:
                self._free(h)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _h(self):
        if self._handle is None:
            raise ImageSelectionError("the selector is closed", _lib.E_INVALID)
        if self._registry.closed:
            raise ImageRegistryError("the selector's registry has been closed", _lib.E_INVALID)
        return self._handle

    # ------------------------------------------------------------ settings

    @property
    def registry(self):
        return self._registry

    @property
    def config(self):
        """The effective configuration (a fresh SelectionConfig; overrides
        include the mappings added with add_task/runtime_mapping)."""
        with self._lock:
            err = _lib.new_error()
            s = _lib.take_string(L.lcs_selector_config_json(self._h(), ctypes.byref(err)))
            if s is None:
                raise_error(err, "selector")
        return SelectionConfig.from_dict(json.loads(s))

    def add_task_mapping(self, task_type, image):
        """Map a task type to an image; takes precedence over the builtin
        table and is trusted as given."""
        t, i = _key(task_type, "task type"), _key(image, "image")
        with self._lock:
            err = _lib.new_error()
            if L.lcs_selector_add_task_mapping(self._h(), t, i, ctypes.byref(err)) != 0:
                raise_error(err, "selector")

    def add_runtime_mapping(self, runtime, image):
        """Map a runtime to an image (see add_task_mapping)."""
        r, i = _key(runtime, "runtime"), _key(image, "image")
        with self._lock:
            err = _lib.new_error()
            if L.lcs_selector_add_runtime_mapping(self._h(), r, i, ctypes.byref(err)) != 0:
                raise_error(err, "selector")

    def get_task_types(self):
        """Every known task type, sorted."""
        with self._lock:
            v = _lib.take_strv(L.lcs_selector_task_types(self._h()))
        if v is None:
            raise MemoryError("out of memory")
        return v

    def get_runtimes(self):
        """Every mapped runtime, sorted."""
        with self._lock:
            v = _lib.take_strv(L.lcs_selector_runtimes(self._h()))
        if v is None:
            raise MemoryError("out of memory")
        return v

    def get_image_for_task(self, task_type):
        """The image a task type maps to (case and blanks ignored), or None."""
        with self._lock:
            return _lib.borrowed(L.lcs_selector_image_for_task(self._h(),
                                                               _key(task_type, "task type")))

    def get_image_for_runtime(self, runtime):
        """The image a runtime maps to (case and blanks ignored), or None."""
        with self._lock:
            return _lib.borrowed(L.lcs_selector_image_for_runtime(self._h(),
                                                                  _key(runtime, "runtime")))

    # ----------------------------------------------------------- selection

    def _run(self, fn, *args):
        with self._lock:
            sel = _lib.Selection()
            err = _lib.new_error()
            if fn(self._h(), *args, ctypes.byref(sel), ctypes.byref(err)) != 0:
                raise_error(err, "selector")
            try:
                s = _lib.take_string(L.lcs_selection_to_json(ctypes.byref(sel),
                                                             ctypes.byref(err)))
                if s is None:
                    raise_error(err, "selector")
            finally:
                L.lcs_selection_clear(ctypes.byref(sel))
        return SelectionResult._from_json_dict(json.loads(s))

    def select_for_task(self, task_type, runtime=None, capabilities=None):
        """The image for a task type (case and blanks ignored).

        runtime: a runtime to fall back on when the task has no mapping.
        capabilities: extra required capabilities (ImageCapability members or
        names; unknown ones raise ValueError).
        """
        mask = capset(capabilities)
        t = _key(task_type, "task type")
        r = None if runtime is None else _key(runtime, "runtime")
        return self._run(L.lcs_select_for_task, t, r, mask)

    def select_for_runtime(self, runtime):
        """The image for a runtime ("python", "node", "bash", ...)."""
        return self._run(L.lcs_select_for_runtime, _key(runtime, "runtime"))

    def select_for_capabilities(self, capabilities):
        """The best image having every capability (or the default image)."""
        return self._run(L.lcs_select_for_capabilities, capset(capabilities))

    def __repr__(self):
        return "<ImageSelector registry=%r>" % (self._registry,)
