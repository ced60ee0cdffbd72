"""Upstream module path: re-exports llmcore_sandbox.registry."""

from llmcore_sandbox.registry import *  # noqa: F401,F403
from llmcore_sandbox.registry import __all__  # noqa: F401
