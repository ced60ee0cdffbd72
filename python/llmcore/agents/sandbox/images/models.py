"""Upstream module path: re-exports llmcore_sandbox.models."""

from llmcore_sandbox.models import *  # noqa: F401,F403
from llmcore_sandbox.models import __all__  # noqa: F401
