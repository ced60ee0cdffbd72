"""Enums and data classes of the image system.

The classes are plain Python values (independent copies: mutating one never
changes a registry or the builtin manifests).  Parsing, normalisation and
validation are done by the C library: :meth:`ImageManifest.from_dict` and
:meth:`ResourceLimits.from_dict` send JSON through
``lcs_manifest_json_normalize``.
"""

import ctypes
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Dict, FrozenSet, List, Optional

from . import _lib
from .errors import ManifestError, raise_error

__all__ = [
    "ImageTier", "ImageCapability", "AccessMode", "ResourceLimits", "ImageManifest",
    "ImageMetadata", "to_capability", "to_capabilities", "capset",
]

L = _lib.lib


class ImageTier(str, Enum):
    BASE = "base"
    SPECIALIZED = "specialized"
    TASK = "task"

    def __str__(self):
        return self.value


class ImageCapability(str, Enum):
    """The capability vocabulary, in the library's canonical order."""
    SHELL = "shell"
    NETWORK = "network"
    FILESYSTEM = "filesystem"
    PYTHON = "python"
    NODEJS = "nodejs"
    RUST = "rust"
    GIT = "git"
    CURL = "curl"
    JQ = "jq"
    PANDOC = "pandoc"
    PDF_TOOLS = "pdf_tools"
    BROWSER = "browser"
    DATA_ANALYSIS = "data_analysis"
    VISUALIZATION = "visualization"
    RESEARCH = "research"
    WEBSEARCH = "websearch"
    DOCGEN = "docgen"
    TESTING = "testing"
    CODE_ANALYSIS = "code_analysis"

    def __str__(self):
        return self.value


class AccessMode(str, Enum):
    RESTRICTED = "restricted"
    FULL = "full"

    def __str__(self):
        return self.value


# The enums must agree with the library they drive.
def _check_enums():
    names = []
    i = 0
    while True:
        n = L.lcs_capability_name(i)
        if n is None:
            break
        names.append(n.decode())
        i += 1
    if names != [c.value for c in ImageCapability]:
        raise ImportError("libllmcore-sandbox at %s has the capabilities %s, this package "
                          "expects %s; rebuild the library or reinstall the package"
                          % (_lib.path, names, [c.value for c in ImageCapability]))
    for i, t in enumerate(ImageTier):
        if L.lcs_tier_name(i).decode() != t.value:
            raise ImportError("libllmcore-sandbox tier names disagree with this package")
    for i, m in enumerate(AccessMode):
        if L.lcs_access_mode_name(i).decode() != m.value:
            raise ImportError("libllmcore-sandbox access modes disagree with this package")


_check_enums()
_CAPS = list(ImageCapability)
_TIERS = list(ImageTier)
_MODES = list(AccessMode)


def _parse_enum(parse_fn, members, value, what):
    if isinstance(value, members[0].__class__):
        return value
    if not isinstance(value, str):
        raise ValueError("unknown %s %r" % (what, value))
    out = ctypes.c_int()
    if parse_fn(_lib.encode(value, what), ctypes.byref(out)) != 0:
        raise ValueError("unknown %s %r (expected one of: %s)"
                         % (what, value, ", ".join(m.value for m in members)))
    return members[out.value]


def to_tier(value):
    return _parse_enum(L.lcs_tier_parse, _TIERS, value, "tier")


def to_access_mode(value):
    return _parse_enum(L.lcs_access_mode_parse, _MODES, value, "access mode")


def to_capability(value):
    """An ImageCapability from a member or a name (case and blanks ignored)."""
    return _parse_enum(L.lcs_capability_parse, _CAPS, value, "capability")


def to_capabilities(values):
    """A frozenset of ImageCapability from members and/or names.

    ``None`` is the empty set; a single member or name is a one-element set.
    Unknown names raise ValueError naming all of them.
    """
    if values is None:
        return frozenset()
    if isinstance(values, (str, ImageCapability)):
        values = [values]
    out, unknown = set(), []
    for v in values:
        try:
            out.add(to_capability(v))
        except ValueError:
            unknown.append(v)
    if unknown:
        raise ValueError("unknown capabilit%s: %s (known: %s)"
                         % ("y" if len(unknown) == 1 else "ies",
                            ", ".join(repr(u) for u in unknown),
                            ", ".join(c.value for c in ImageCapability)))
    return frozenset(out)


def capset(values):
    """The lcs_capset bit mask of capabilities (see to_capabilities)."""
    mask = 0
    for c in to_capabilities(values):
        mask |= 1 << _CAPS.index(c)
    return mask


def _canonical(caps):
    return [c for c in _CAPS if c in caps]


def _json_default(o):
    if isinstance(o, (set, frozenset)):
        return [c.value if isinstance(c, Enum) else c for c in o]
    if isinstance(o, ResourceLimits):
        return o.to_dict()
    raise TypeError("%s is not JSON serialisable" % type(o).__name__)


def normalize_json(text):
    """Parse, validate and normalise manifest JSON text in the C library;
    returns the normalised document as a dict."""
    err = _lib.new_error()
    out = _lib.take_string(L.lcs_manifest_json_normalize(_lib.encode(text, "manifest text"),
                                                         ctypes.byref(err)))
    if out is None:
        raise_error(err, "manifest")
    return json.loads(out)


def normalize_dict(d):
    if not isinstance(d, dict):
        raise ManifestError("a manifest must be a dict (a JSON object), not %s"
                            % type(d).__name__, _lib.E_INVALID)
    return normalize_json(json.dumps(d, default=_json_default))


def _tier_limits(tier):
    out = _lib.ResourceLimitsC()
    L.lcs_tier_default_limits(_TIERS.index(to_tier(tier)), ctypes.byref(out))
    return out


def _number(x):
    """Whole floats as int (the way the library serialises cpu_cores)."""
    return int(x) if float(x).is_integer() else float(x)


_BASE_LIMITS = _tier_limits(ImageTier.BASE)


@dataclass
class ResourceLimits:
    """Resource limits of an image (the shipped schema).

    Defaults are the base tier's limits from the library.  ``memory_limit``,
    ``cpu_limit`` and ``pids_limit`` give the upstream names.
    """
    memory_mb: int = _BASE_LIMITS.memory_mb
    cpu_cores: float = _BASE_LIMITS.cpu_cores
    timeout_seconds: int = _BASE_LIMITS.timeout_seconds
    max_processes: int = _BASE_LIMITS.max_processes

    @property
    def memory_limit(self):
        """Memory as a container-engine size: "512m", "1g"."""
        mb = int(self.memory_mb)
        return "%dg" % (mb // 1024) if mb and mb % 1024 == 0 else "%dm" % mb

    @property
    def cpu_limit(self):
        return float(self.cpu_cores)

    @property
    def pids_limit(self):
        return int(self.max_processes)

    def to_dict(self):
        return {
            "memory_mb": int(self.memory_mb),
            "cpu_cores": _number(self.cpu_cores),
            "timeout_seconds": int(self.timeout_seconds),
            "max_processes": int(self.max_processes),
        }

    @classmethod
    def for_tier(cls, tier):
        """The library's default limits of a tier."""
        c = _tier_limits(tier)
        return cls(int(c.memory_mb), float(c.cpu_cores), int(c.timeout_seconds),
                   int(c.max_processes))

    @classmethod
    def from_dict(cls, d, tier=ImageTier.BASE):
        """Limits from either schema ({memory_mb, cpu_cores, timeout_seconds,
        max_processes} or {memory_limit, cpu_limit, timeout_seconds,
        pids_limit}), validated by the library.  Missing keys take the
        tier's defaults.  Raises ManifestValidationError."""
        if isinstance(d, ResourceLimits):
            return cls(d.memory_mb, d.cpu_cores, d.timeout_seconds, d.max_processes)
        tier = to_tier(tier)
        probe = {"name": "llmcore-sandbox-limits", "version": "1.0.0", "tier": tier.value,
                 "capabilities": [], "default_access_mode": "restricted", "resource_limits": d}
        if tier != ImageTier.BASE:
            probe["parent_image"] = "llmcore-sandbox-base:1.0.0"
        return cls._from_normalized(normalize_dict(probe)["resource_limits"])

    @classmethod
    def _from_normalized(cls, d):
        return cls(int(d["memory_mb"]), float(d["cpu_cores"]), int(d["timeout_seconds"]),
                   int(d["max_processes"]))


@dataclass
class ImageManifest:
    """A capability manifest (the contents of capabilities.json)."""
    name: str
    version: str
    tier: ImageTier = ImageTier.BASE
    description: str = ""
    parent_image: Optional[str] = None
    capabilities: FrozenSet[ImageCapability] = frozenset()
    tools: List[str] = field(default_factory=list)
    default_access_mode: AccessMode = AccessMode.RESTRICTED
    resource_limits: Optional[ResourceLimits] = None  # None: the tier's defaults
    environment: Dict[str, str] = field(default_factory=dict)
    user: str = "sandbox"
    working_directory: str = "/home/sandbox/work"
    entrypoint: Optional[str] = None
    build_date: Optional[str] = None
    vcs_ref: Optional[str] = None

    def __post_init__(self):
        self.tier = to_tier(self.tier)
        self.default_access_mode = to_access_mode(self.default_access_mode)
        self.capabilities = to_capabilities(self.capabilities)
        self.tools = list(self.tools or [])
        self.environment = dict(self.environment or {})
        if self.resource_limits is None:
            self.resource_limits = ResourceLimits.for_tier(self.tier)
        elif isinstance(self.resource_limits, dict):
            self.resource_limits = ResourceLimits.from_dict(self.resource_limits, self.tier)
        if self.build_date is not None and hasattr(self.build_date, "isoformat"):
            self.build_date = self.build_date.isoformat()

    # upstream name of parent_image
    @property
    def base_image(self):
        return self.parent_image

    @base_image.setter
    def base_image(self, value):
        self.parent_image = value

    @property
    def full_name(self):
        return "%s:%s" % (self.name, self.version)

    @property
    def is_base(self):
        return self.tier == ImageTier.BASE

    @property
    def is_specialized(self):
        return self.tier == ImageTier.SPECIALIZED

    @property
    def is_task(self):
        return self.tier == ImageTier.TASK

    def has_capability(self, capability):
        return to_capability(capability) in self.capabilities

    def has_all_capabilities(self, capabilities):
        return to_capabilities(capabilities) <= self.capabilities

    def has_tool(self, tool):
        return tool in self.tools

    def to_dict(self):
        """The manifest as the library serialises it (same keys, key order,
        canonical capability order, environment sorted by name)."""
        d = {
            "name": self.name,
            "version": self.version,
            "tier": to_tier(self.tier).value,
            "description": self.description if self.description is not None else "",
            "parent_image": self.parent_image,
            "capabilities": [c.value for c in _canonical(to_capabilities(self.capabilities))],
            "tools": list(self.tools),
            "default_access_mode": to_access_mode(self.default_access_mode).value,
            "resource_limits": self.resource_limits.to_dict()
            if isinstance(self.resource_limits, ResourceLimits)
            else self.resource_limits,
            "environment": {k: self.environment[k] for k in sorted(self.environment)},
            "user": self.user,
            "working_directory": self.working_directory,
        }
        for k in ("entrypoint", "build_date", "vcs_ref"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        return d

    def to_json(self):
        """The library's JSON text (two-space indent, trailing newline).
        Raises ManifestValidationError if the manifest is invalid."""
        with CManifest(self) as m:
            err = _lib.new_error()
            s = _lib.take_string(L.lcs_manifest_to_json(m.handle, ctypes.byref(err)))
            if s is None:
                raise_error(err, "manifest")
            return s

    def copy(self):
        return ImageManifest._from_normalized(self.to_dict())

    @classmethod
    def from_dict(cls, d):
        """Parse either schema (shipped or upstream); validated by the library.
        Raises ManifestValidationError listing every problem."""
        return cls._from_normalized(normalize_dict(d))

    @classmethod
    def _from_normalized(cls, d):
        return cls(
            name=d["name"],
            version=d["version"],
            tier=ImageTier(d["tier"]),
            description=d.get("description", ""),
            parent_image=d.get("parent_image"),
            capabilities=frozenset(ImageCapability(c) for c in d.get("capabilities", [])),
            tools=list(d.get("tools", [])),
            default_access_mode=AccessMode(d["default_access_mode"]),
            resource_limits=ResourceLimits._from_normalized(d["resource_limits"]),
            environment=dict(d.get("environment", {})),
            user=d.get("user"),
            working_directory=d.get("working_directory"),
            entrypoint=d.get("entrypoint"),
            build_date=d.get("build_date"),
            vcs_ref=d.get("vcs_ref"),
        )


class CManifest:
    """A C ``lcs_manifest`` built from a Python manifest (parsed and validated
    by the library); a context manager that frees it."""

    def __init__(self, manifest):
        if isinstance(manifest, dict):
            d = manifest
        elif isinstance(manifest, ImageManifest):
            d = manifest.to_dict()
        else:
            raise TypeError("expected an ImageManifest or a dict, not %s"
                            % type(manifest).__name__)
        err = _lib.new_error()
        text = _lib.encode(json.dumps(d, default=_json_default), "manifest")
        self.handle = L.lcs_manifest_load_string(text, ctypes.byref(err))
        if not self.handle:
            raise_error(err, "manifest")

    def close(self):
        h, self.handle = self.handle, None
        if h:
            L.lcs_manifest_free(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def manifest_from_handle(handle):
    """An ImageManifest from an owned C manifest handle, which is freed."""
    try:
        err = _lib.new_error()
        s = _lib.take_string(L.lcs_manifest_to_json(handle, ctypes.byref(err)))
        if s is None:
            raise_error(err, "manifest")
        return ImageManifest._from_normalized(json.loads(s))
    finally:
        L.lcs_manifest_free(handle)


@dataclass
class ImageMetadata:
    """One image known to a registry: its manifest plus local state."""
    manifest: ImageManifest
    ref: Optional[str] = None  # "name:version"; None: the manifest's full name
    builtin: bool = False
    available_locally: bool = False
    source: str = "registered"  # "builtin", a manifest path, or "registered"
    rootfs: Optional[str] = None

    def __post_init__(self):
        if self.ref is None:
            self.ref = self.manifest.full_name

    @property
    def name(self):
        return self.manifest.name

    @property
    def version(self):
        return self.manifest.version

    @property
    def full_name(self):
        return self.manifest.full_name

    @property
    def tier(self):
        return self.manifest.tier

    @property
    def capabilities(self):
        return self.manifest.capabilities

    def to_dict(self):
        """Same keys and order as the library's image JSON form."""
        return {
            "ref": self.ref,
            "name": self.manifest.name,
            "version": self.manifest.version,
            "tier": to_tier(self.manifest.tier).value,
            "builtin": bool(self.builtin),
            "available_locally": bool(self.available_locally),
            "source": self.source if self.source is not None else "",
            "rootfs": self.rootfs,
            "manifest": self.manifest.to_dict(),
        }

    @classmethod
    def _from_json_dict(cls, d):
        return cls(
            manifest=ImageManifest._from_normalized(d["manifest"]),
            ref=d["ref"],
            builtin=bool(d["builtin"]),
            available_locally=bool(d["available_locally"]),
            source=d["source"],
            rootfs=d["rootfs"],
        )
