"""Shared helpers of the Python binding tests (not a test module)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PYTHON_DIR = os.path.join(REPO, "python")
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

SHIPPED_MANIFESTS = {
    "llmcore-sandbox-base": "container_images/base/capabilities.json",
    "llmcore-sandbox-python": "container_images/specialized/python/capabilities.json",
    "llmcore-sandbox-nodejs": "container_images/specialized/nodejs/capabilities.json",
    "llmcore-sandbox-shell": "container_images/specialized/shell/capabilities.json",
    "llmcore-sandbox-research": "container_images/task/research/capabilities.json",
    "llmcore-sandbox-websearch": "container_images/task/websearch/capabilities.json",
}

BUILTIN_REFS = sorted(name + ":1.0.0" for name in SHIPPED_MANIFESTS)

# The upstream example manifest in the upstream (Python) schema.
UPSTREAM_SCHEMA_EXAMPLE = {
    "name": "x-img", "version": "1.0.0", "tier": "base", "capabilities": ["shell"],
    "default_access_mode": "restricted",
    "resource_limits": {"memory_limit": "1g", "cpu_limit": 2.0, "pids_limit": 100,
                        "timeout_seconds": 600},
}


def repo_path(rel):
    return os.path.join(REPO, rel)


def custom_manifest_dict(name="custom-tool", version="2.0.0", capabilities=("shell", "rust"),
                         tier="base", **extra):
    d = {"name": name, "version": version, "tier": tier, "capabilities": list(capabilities),
         "default_access_mode": "restricted", "tools": ["bash", "cargo"],
         "description": "a custom test image"}
    if tier != "base":
        d["parent_image"] = "llmcore-sandbox-base:1.0.0"
    d.update(extra)
    return d


class TempStore:
    """A temporary image store: <dir>/images/<name>/<tag>/capabilities.json."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="lcs-pytest-store-")

    def image_dir(self, name, tag):
        return os.path.join(self.dir, "images", name.replace("/", "+"), tag)

    def add(self, name, tag, manifest, rootfs=False):
        """Write a manifest (a dict, or raw text) and optionally a rootfs/."""
        d = self.image_dir(name, tag)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "capabilities.json"), "w") as f:
            f.write(manifest if isinstance(manifest, str) else json.dumps(manifest, indent=2))
        if rootfs:
            os.makedirs(os.path.join(d, "rootfs", "bin"), exist_ok=True)
        return d

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def run_python(code_or_path, env_extra=None, cwd=None, is_file=False):
    """Run a Python script in a fresh interpreter with PYTHONPATH=<repo>/python."""
    env = dict(os.environ)
    env["PYTHONPATH"] = PYTHON_DIR
    env.update(env_extra or {})
    args = [sys.executable, code_or_path] if is_file else [sys.executable, "-c", code_or_path]
    return subprocess.run(args, env=env, cwd=cwd or tempfile.gettempdir(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120)


def c_compiler():
    """A C compiler (``$CC``, cc or gcc), or None."""
    return shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")


def c_layout(cc, structs):
    """{(struct, field): offset, (struct, "#size"): size} for {c name: ctypes
    Structure}, compiled against include/llmcore/sandbox.h."""
    lines = ["#include <stdio.h>", "#include <stddef.h>", "#include <llmcore/sandbox.h>",
             "int main(void) {"]
    for cname, py in structs.items():
        lines.append('printf("%s #size %%zu\\n", sizeof(%s));' % (cname, cname))
        for fname, _ in py._fields_:
            lines.append('printf("%s %s %%zu\\n", offsetof(%s, %s));'
                         % (cname, fname, cname, fname))
    lines += ["return 0; }"]
    d = tempfile.mkdtemp(prefix="lcs-layout-")
    try:
        src, exe = os.path.join(d, "layout.c"), os.path.join(d, "layout")
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run([cc, "-std=c11", "-I", os.path.join(REPO, "include"), "-o", exe, src],
                       check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = subprocess.run([exe], check=True, stdout=subprocess.PIPE,
                             universal_newlines=True).stdout
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return {tuple(l.split()[:2]): int(l.split()[2]) for l in out.splitlines()}
