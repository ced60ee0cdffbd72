"""llmcore.agents.sandbox: llmcore-sandbox's Python API on the upstream path.

Re-exports everything of ``llmcore_sandbox``: sandboxes (``Sandbox``,
``run``, ``ExecutionResult``, the agent tools and ``get_tool_schemas``) and
the image API (see ``llmcore.agents.sandbox.images``), plus the ``images``
module itself, as upstream does.
"""

import llmcore_sandbox as _impl

from . import images

__all__ = ["images"] + list(_impl.__all__)
globals().update({_n: getattr(_impl, _n) for _n in _impl.__all__
                  if _n not in _impl.LAZY_ATTRIBUTES})


def __getattr__(name):
    try:
        return _impl.builtin_attribute(name)
    except AttributeError:
        raise AttributeError("module %r has no attribute %r" % (__name__, name)) from None
