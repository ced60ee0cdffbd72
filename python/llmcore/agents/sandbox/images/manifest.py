"""Upstream module path: re-exports llmcore_sandbox.manifest."""

from llmcore_sandbox.manifest import *  # noqa: F401,F403
from llmcore_sandbox.manifest import __all__  # noqa: F401
