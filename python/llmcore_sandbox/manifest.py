"""Manifest functions: load, parse, validate, save, builtins.

All parsing and validation is done by the C library; see models.py for the
data classes.
"""

import ctypes
import os

from . import _lib
from .errors import (ManifestError, ManifestNotFoundError, ManifestParseError,  # noqa: F401
                     ManifestValidationError, raise_error)
from .models import CManifest, ImageManifest, manifest_from_handle, normalize_dict, normalize_json

__all__ = [
    "MANIFEST_PATH_IN_CONTAINER", "load_manifest_from_file", "load_manifest_from_string",
    "parse_manifest", "validate_manifest", "save_manifest_to_file", "get_builtin_manifest",
    "list_builtin_manifests", "ManifestError", "ManifestNotFoundError", "ManifestParseError",
    "ManifestValidationError",
]

L = _lib.lib

#: Where every image carries its manifest (LCS_MANIFEST_PATH_IN_IMAGE).
MANIFEST_PATH_IN_CONTAINER = "/etc/llmcore/capabilities.json"


def load_manifest_from_file(path):
    """Load and validate a manifest file (either schema).

    Raises ManifestNotFoundError, ManifestParseError (with .line/.column),
    ManifestValidationError (with .problems) or ManifestError.
    """
    err = _lib.new_error()
    h = L.lcs_manifest_load_file(_lib.encode(os.fspath(path), "path"), ctypes.byref(err))
    if not h:
        raise_error(err, "manifest")
    return manifest_from_handle(h)


def load_manifest_from_string(text):
    """Parse and validate manifest JSON text (str or bytes)."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ManifestParseError("manifest text is not UTF-8: %s" % e) from None
    if not isinstance(text, str):
        raise TypeError("manifest text must be str or bytes, not %s" % type(text).__name__)
    if "\0" in text:
        raise ManifestParseError("manifest text contains a NUL character")
    return ImageManifest._from_normalized(normalize_json(text))


def parse_manifest(data):
    """A manifest from a dict (either schema), validated by the library."""
    return ImageManifest._from_normalized(normalize_dict(data))


def validate_manifest(manifest):
    """Check a manifest (an ImageManifest or a dict) against every rule.

    Returns True when valid; raises ManifestValidationError listing every
    problem otherwise.
    """
    with CManifest(manifest) as m:
        err = _lib.new_error()
        if L.lcs_manifest_validate(m.handle, ctypes.byref(err)) != 0:
            raise_error(err, "manifest")
    return True


def save_manifest_to_file(manifest, path):
    """Validate and write a manifest atomically (parent directories are made)."""
    with CManifest(manifest) as m:
        err = _lib.new_error()
        if L.lcs_manifest_save_file(m.handle, _lib.encode(os.fspath(path), "path"),
                                    ctypes.byref(err)) != 0:
            raise_error(err, "manifest")


def get_builtin_manifest(name):
    """The builtin manifest for "name" or "name:tag" (exact tag), as a fresh
    copy; None if there is none (an invalid reference is never a builtin)."""
    err = _lib.new_error()
    h = L.lcs_builtin_manifest_get(_lib.encode(name, "image name"), ctypes.byref(err))
    if not h:
        if err.code in (_lib.E_NOT_FOUND, _lib.E_INVALID):
            return None
        raise_error(err, "manifest")
    return manifest_from_handle(h)


def list_builtin_manifests():
    """Every builtin manifest, as a dict name -> fresh ImageManifest copy."""
    out = {}
    for i in range(L.lcs_builtin_count()):
        err = _lib.new_error()
        h = L.lcs_builtin_manifest(i, ctypes.byref(err))
        if not h:
            raise_error(err, "manifest")
        m = manifest_from_handle(h)
        out[m.name] = m
    return out
