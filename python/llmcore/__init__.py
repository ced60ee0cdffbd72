"""llmcore namespace: the upstream import path of llmcore-sandbox's Python API.

Only ``llmcore.agents.sandbox.images`` is provided; it re-exports
``llmcore_sandbox``.
"""
