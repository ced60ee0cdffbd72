"""llmcore.agents (compatibility path; see llmcore.agents.sandbox.images)."""
