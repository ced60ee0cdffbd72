"""Upstream module path: re-exports llmcore_sandbox.selector."""

from llmcore_sandbox.selector import *  # noqa: F401,F403
from llmcore_sandbox.selector import __all__  # noqa: F401
