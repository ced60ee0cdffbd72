#!/usr/bin/env python3
"""Runs the code examples of README.md so the documentation cannot rot.

Every ```c block with a main() is compiled against the static library and
run; every ```python block is run with the in-tree package. Expected output
is checked where the README states it. Prints PASS/FAIL lines.
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("LCS_BUILD", os.path.join(ROOT, "build"))

# Output the README promises for each example, in order of appearance.
EXPECT = {
    ("c", 0): ["llmcore-sandbox-research:1.0.0 (task_mapping:research, full)",
               "my-custom-image:1.0.0 (task_mapping:custom_task)",
               "not_found: image 'llmcore-sandbox-python:9.9' not found"],
    ("python", 0): ["Using image: llmcore-sandbox-research:1.0.0",
                    "Using image: llmcore-sandbox-python:1.0.0"],
    ("python", 1): ["llmcore-sandbox-python:9.9 not found; available: llmcore-sandbox-base:1.0.0"],
    ("python", 2): [" True 2", "in.csv (8 bytes"],
}


def blocks(lang):
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    return re.findall(r"```" + lang + r"\n(.*?)```", text, re.S)


def check(name, proc, expect):
    if proc.returncode != 0:
        return f"FAIL {name}: exit {proc.returncode}: {(proc.stdout + proc.stderr)[-400:]}"
    for line in expect:
        if line not in proc.stdout:
            return f"FAIL {name}: expected output line containing {line!r}, got {proc.stdout!r}"
    return f"PASS {name}"


def main():
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, code in enumerate(b for b in blocks("c") if "main(" in b):
            src = os.path.join(tmp, f"ex{i}.c")
            exe = os.path.join(tmp, f"ex{i}")
            open(src, "w").write(code)
            cflags = subprocess.run(["pkg-config", "--cflags", "--libs", "jansson", "libseccomp",
                                     "libcap"], capture_output=True, text=True).stdout.split()
            cc = subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror",
                                 "-I" + os.path.join(ROOT, "include"), "-o", exe, src,
                                 os.path.join(BUILD, "libllmcore-sandbox.a")] + cflags,
                                capture_output=True, text=True)
            name = f"readme_c_example_{i}"
            if cc.returncode != 0:
                results.append(f"FAIL {name}: does not compile: {cc.stderr[-400:]}")
                continue
            env = dict(os.environ, LLMCORE_SANDBOX_STORE=os.path.join(tmp, "store"))
            proc = subprocess.run([exe], capture_output=True, text=True, env=env, timeout=60)
            results.append(check(name, proc, EXPECT.get(("c", i), [])))
        for i, code in enumerate(blocks("python")):
            name = f"readme_python_example_{i}"
            store = os.path.join(tmp, "store")
            if "Sandbox.create" in code:
                # Real sandboxes: root and the built python image are needed.
                store = os.environ.get("LLMCORE_SANDBOX_STORE", "/var/lib/llmcore-sandbox")
                rootfs = os.path.join(store, "images/llmcore-sandbox-python/1.0.0/rootfs")
                if os.geteuid() != 0 or not os.path.isdir(rootfs):
                    results.append(f"SKIP {name}: needs root and the python image built "
                                   f"(make -C container_images python)")
                    continue
            env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"),
                       LLMCORE_SANDBOX_STORE=store)
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  env=env, timeout=60, cwd=tmp)
            results.append(check(name, proc, EXPECT.get(("python", i), [])))
    if not results:
        results.append("FAIL readme_examples: no examples found in README.md")
    print("\n".join(results))
    return 1 if any(r.startswith("FAIL") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
