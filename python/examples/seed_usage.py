from llmcore.agents.sandbox.images import ImageSelector, ImageRegistry

# Create registry with builtin manifests
registry = ImageRegistry()

# Select image for task
selector = ImageSelector(registry)
result = selector.select_for_task("research")
print(f"Using image: {result.image}")  # llmcore-sandbox-research:1.0.0

# Select by runtime
result = selector.select_for_runtime("python")
print(f"Using image: {result.image}")  # llmcore-sandbox-python:1.0.0
