"""ImageRegistry: the images a process knows (builtins plus the local image
store), over the C ``lcs_registry``.

Lookups use exact tags (``name:9.9`` never returns ``name:1.0.0``); a bare
name means the highest version known; a registry host (``host:5000/``) is
ignored for the lookup.  Every object returned is a fresh copy.
"""

import ctypes
import json
import os
import threading

from . import _lib
from .errors import (ImageExistsError, ImageNotFoundError, ImageRegistryError, raise_error)
from .models import CManifest, ImageMetadata, ImageTier, capset, to_tier

__all__ = ["ImageRegistry", "ImageRegistryError", "ImageNotFoundError", "ImageExistsError"]

L = _lib.lib


def _list_from_c(lst):
    """ImageMetadata list from a filled lcs_image_list (cleared afterwards)."""
    try:
        err = _lib.new_error()
        s = _lib.take_string(L.lcs_image_list_to_json(ctypes.byref(lst), ctypes.byref(err)))
        if s is None:
            raise_error(err, "registry")
        return [ImageMetadata._from_json_dict(d) for d in json.loads(s)]
    finally:
        L.lcs_image_list_clear(ctypes.byref(lst))


class ImageRegistry:
    """Builtin manifests plus the images of a local image store.

    store_dir: the image store (None: $LLMCORE_SANDBOX_STORE, else
    /var/lib/llmcore-sandbox for root, else ~/.local/share/llmcore-sandbox).
    include_builtins: load the builtin manifests.
    scan_store: read the manifests of the images in the store
    (``<store>/images/<name>/<tag>/capabilities.json``; a ``rootfs/`` next
    to it makes the image available locally).
    """

    def __init__(self, store_dir=None, include_builtins=True, scan_store=True):
        self._handle = None
        self._free = L.lcs_registry_free  # kept for __del__ at interpreter exit
        self._lock = threading.RLock()
        opts = _lib.RegistryOptions()
        L.lcs_registry_options_init(ctypes.byref(opts))
        self._store_arg = None if store_dir is None else _lib.encode(os.fspath(store_dir),
                                                                     "store_dir")
        opts.store_dir = self._store_arg
        opts.include_builtins = bool(include_builtins)
        opts.scan_store = bool(scan_store)
        err = _lib.new_error()
        h = L.lcs_registry_new(ctypes.byref(opts), ctypes.byref(err))
        if not h:
            raise_error(err, "registry")
        self._handle = h

    # ------------------------------------------------------------ lifetime

    def close(self):
        """Free the C registry (idempotent).  Selectors using this registry
        must not be used afterwards (they raise ImageRegistryError)."""
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

    @property
    def closed(self):
        return self._handle is None

    def _h(self):
        if self._handle is None:
            raise ImageRegistryError("the registry is closed", _lib.E_INVALID)
        return self._handle

    # --------------------------------------------------------------- reads

    def _refs(self):
        return sorted(m.ref for m in self.list_images())

    def get(self, image):
        """The ImageMetadata of "name", "name:tag" or "host/name:tag".

        Raises ImageNotFoundError (with .image and .available) if absent,
        ImageRegistryError for an invalid reference.
        """
        ref = _lib.encode(image, "image reference")
        with self._lock:
            info = _lib.ImageInfo()
            err = _lib.new_error()
            if L.lcs_registry_get(self._h(), ref, ctypes.byref(info), ctypes.byref(err)) != 0:
                raise_error(err, "registry", image=image, available=self._refs)
            try:
                s = _lib.take_string(L.lcs_image_info_to_json(ctypes.byref(info),
                                                              ctypes.byref(err)))
                if s is None:
                    raise_error(err, "registry")
            finally:
                L.lcs_image_info_clear(ctypes.byref(info))
        return ImageMetadata._from_json_dict(json.loads(s))

    def get_manifest(self, image):
        """The manifest of an image (see get)."""
        return self.get(image).manifest

    def has_image(self, image):
        try:
            ref = _lib.encode(image, "image reference")
        except (TypeError, ValueError):
            return False
        with self._lock:
            return bool(L.lcs_registry_has(self._h(), ref))

    def is_available_locally(self, image):
        """True if the image's rootfs is in the store; False if unknown."""
        try:
            return self.get(image).available_locally
        except ImageNotFoundError:
            return False

    def list_images(self, tier=None, capabilities=None, available_only=False):
        """Images ordered by (tier base->task, name, newest version first),
        filtered by tier, required capabilities and local availability."""
        f = _lib.ImageFilter()
        f.tier = -1 if tier is None else list(ImageTier).index(to_tier(tier))
        f.capabilities = capset(capabilities)
        f.available_only = bool(available_only)
        with self._lock:
            lst = _lib.ImageList()
            err = _lib.new_error()
            if L.lcs_registry_list(self._h(), ctypes.byref(f), ctypes.byref(lst),
                                   ctypes.byref(err)) != 0:
                raise_error(err, "registry")
            return _list_from_c(lst)

    def list_by_tier(self):
        """{ImageTier: [ImageMetadata, ...]} for every tier (possibly empty)."""
        out = {t: [] for t in ImageTier}
        for m in self.list_images():
            out[m.tier].append(m)
        return out

    def find_all_by_capabilities(self, capabilities, prefer_local=True):
        """Every image having all the capabilities, best first: locally
        available first (prefer_local), then least capable, then tier, name,
        newest version."""
        mask = capset(capabilities)
        with self._lock:
            lst = _lib.ImageList()
            err = _lib.new_error()
            if L.lcs_registry_find(self._h(), mask, bool(prefer_local), ctypes.byref(lst),
                                   ctypes.byref(err)) != 0:
                raise_error(err, "registry")
            return _list_from_c(lst)

    def find_by_capability(self, capability, prefer_local=True):
        """The best image having the capability (or every capability of a
        collection), or None."""
        found = self.find_all_by_capabilities(capability, prefer_local)
        return found[0] if found else None

    @property
    def count(self):
        with self._lock:
            return int(L.lcs_registry_count(self._h()))

    def __len__(self):
        return self.count

    def __contains__(self, image):
        return self.has_image(image)

    @property
    def store_dir(self):
        with self._lock:
            return _lib.borrowed(L.lcs_registry_store_dir(self._h()))

    @property
    def warnings(self):
        """Problems met while reading the image store (skipped images)."""
        with self._lock:
            h = self._h()
            return [_lib.borrowed(L.lcs_registry_warning(h, i))
                    for i in range(L.lcs_registry_warning_count(h))]

    def to_dict(self):
        return {
            "store_dir": self.store_dir,
            "count": self.count,
            "images": {m.ref: m.to_dict() for m in self.list_images()},
            "warnings": self.warnings,
        }

    # -------------------------------------------------------------- writes

    def refresh(self):
        """Re-read the image store; returns the number of store images."""
        with self._lock:
            err = _lib.new_error()
            n = L.lcs_registry_refresh(self._h(), ctypes.byref(err))
            if n < 0:
                raise_error(err, "registry")
            return n

    def register(self, manifest, available_locally=False):
        """Add (or replace) a non-builtin image.  Accepts an ImageManifest, an
        ImageMetadata (its available_locally counts too) or a manifest dict.
        The manifest is validated and copied by the library.  Raises
        ImageExistsError over a builtin, ManifestValidationError if invalid."""
        if isinstance(manifest, ImageMetadata):
            available_locally = available_locally or manifest.available_locally
            manifest = manifest.manifest
        with CManifest(manifest) as m, self._lock:
            err = _lib.new_error()
            if L.lcs_registry_register(self._h(), m.handle, bool(available_locally),
                                       ctypes.byref(err)) != 0:
                raise_error(err, "registry")

    def unregister(self, image):
        """Remove "name:tag" (a bare name removes every version); True if
        something was removed."""
        ref = _lib.encode(image, "image reference")
        with self._lock:
            err = _lib.new_error()
            rc = L.lcs_registry_unregister(self._h(), ref, ctypes.byref(err))
            if rc < 0:
                raise_error(err, "registry")
            return rc == 1

    def __repr__(self):
        if self._handle is None:
            return "<ImageRegistry (closed)>"
        return "<ImageRegistry store_dir=%r images=%d>" % (self.store_dir, self.count)
