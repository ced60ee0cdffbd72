"""llmcore namespace: the upstream import path of llmcore-sandbox's Python API.

Only ``llmcore.agents.sandbox`` (sandboxes, agent tools and the image API)
and ``llmcore.agents.sandbox.images`` are provided; they re-export
``llmcore_sandbox``.
"""
