"""llmcore.agents.sandbox.images: the upstream import path of the image API.

Everything here is ``llmcore_sandbox`` (the ctypes binding of
libllmcore-sandbox)::

    from llmcore.agents.sandbox.images import ImageSelector, ImageRegistry

The builtin-manifest constants (BUILTIN_MANIFESTS, PYTHON_IMAGE_MANIFEST, ...)
are computed on each access, so every access gives an independent copy.
"""

import llmcore_sandbox as _impl

__all__ = list(_impl.__all__)
globals().update({_n: getattr(_impl, _n) for _n in __all__
                  if _n not in _impl.LAZY_ATTRIBUTES})


def __getattr__(name):
    try:
        return _impl.builtin_attribute(name)
    except AttributeError:
        raise AttributeError("module %r has no attribute %r" % (__name__, name)) from None
