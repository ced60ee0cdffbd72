"""Loading the library, the seed snippet, ctypes declarations, leaks."""

import ctypes
import gc
import os
import re
import sys
import unittest

import lcs_testsupport as ts

import llmcore_sandbox as lcs
from llmcore_sandbox import _lib

SEED_SCRIPT = os.path.join(ts.PYTHON_DIR, "examples", "seed_usage.py")


class SeedSnippetTests(unittest.TestCase):
    def test_seed_snippet_runs_verbatim_and_prints_the_two_images(self):
        store = ts.TempStore()  # keep the run independent of any real image store
        try:
            p = ts.run_python(SEED_SCRIPT, {"LLMCORE_SANDBOX_STORE": store.dir}, is_file=True)
        finally:
            store.cleanup()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "Using image: llmcore-sandbox-research:1.0.0\n"
                                   "Using image: llmcore-sandbox-python:1.0.0\n")
        self.assertEqual(p.stderr, "")

    def test_seed_script_is_the_readme_snippet(self):
        with open(SEED_SCRIPT) as f:
            text = f.read()
        self.assertTrue(text.startswith(
            "from llmcore.agents.sandbox.images import ImageSelector, ImageRegistry\n"))
        self.assertIn('result = selector.select_for_task("research")\n', text)
        self.assertIn('result = selector.select_for_runtime("python")\n', text)
        self.assertEqual(text.count("print("), 2)

    def test_upstream_import_paths_expose_the_same_objects(self):
        import llmcore.agents.sandbox as sandbox
        import llmcore.agents.sandbox.images as images
        from llmcore.agents.sandbox.images import registry, selector, manifest, models
        self.assertIs(images.ImageSelector, lcs.ImageSelector)
        self.assertIs(sandbox.ImageRegistry, lcs.ImageRegistry)
        self.assertIs(sandbox.images, images)
        self.assertIs(selector.TASK_IMAGE_MAP, lcs.TASK_IMAGE_MAP)
        self.assertIs(manifest.load_manifest_from_file, lcs.load_manifest_from_file)
        self.assertIs(models.ImageManifest, lcs.ImageManifest)
        self.assertIs(registry.ImageNotFoundError, lcs.ImageNotFoundError)
        for name in lcs.__all__:
            self.assertTrue(hasattr(images, name), name)
        # builtin-manifest constants are fresh copies on every access
        self.assertIsNot(images.PYTHON_IMAGE_MANIFEST, images.PYTHON_IMAGE_MANIFEST)
        self.assertEqual(images.PYTHON_IMAGE_MANIFEST, images.PYTHON_IMAGE_MANIFEST)


class LoadingTests(unittest.TestCase):
    def test_in_tree_build_is_used_by_default(self):
        if os.environ.get(_lib.ENV_VAR):
            self.skipTest("$%s is set" % _lib.ENV_VAR)
        self.assertEqual(os.path.realpath(lcs.LIBRARY_PATH),
                         os.path.realpath(os.path.join(ts.REPO, "build",
                                                       "libllmcore-sandbox.so.0")))
        self.assertEqual(lcs.LIBRARY_VERSION, "0.1.0")

    def test_search_order_is_env_installed_in_tree_then_find_library(self):
        env = dict(os.environ)
        try:
            os.environ.pop(_lib.ENV_VAR, None)
            names = [what for what, _ in _lib.candidates()]
        finally:
            os.environ.clear()
            os.environ.update(env)
        self.assertEqual(names, ["llmcore_sandbox/_installed.py", "in-tree build",
                                 'ctypes.util.find_library("llmcore-sandbox")'])
        os.environ[_lib.ENV_VAR] = "/some/where/lib.so"
        try:
            self.assertEqual(_lib.candidates(), [("$" + _lib.ENV_VAR, "/some/where/lib.so")])
        finally:
            os.environ.clear()
            os.environ.update(env)

    def test_explicit_library_path_from_the_environment_is_used(self):
        path = os.path.join(ts.REPO, "build", "libllmcore-sandbox.so.0")
        p = ts.run_python("import llmcore_sandbox as l; print(l.LIBRARY_PATH)",
                          {_lib.ENV_VAR: path})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), path)

    def test_missing_library_fails_with_a_message_naming_the_path_and_make(self):
        p = ts.run_python("import llmcore_sandbox", {_lib.ENV_VAR: "/nonexistent/libx.so.0"})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("LibraryNotFoundError", p.stderr)
        self.assertIn("/nonexistent/libx.so.0", p.stderr)
        self.assertIn("make", p.stderr)

    def test_library_that_is_not_a_shared_object_is_reported(self):
        p = ts.run_python("import llmcore_sandbox", {_lib.ENV_VAR: SEED_SCRIPT})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("cannot be loaded", p.stderr)

    def test_installed_layout_uses_the_library_named_by_installed_py(self):
        import shutil
        import tempfile
        site = tempfile.mkdtemp(prefix="lcs-site-")
        try:
            for pkg in ("llmcore_sandbox", "llmcore"):
                shutil.copytree(os.path.join(ts.PYTHON_DIR, pkg), os.path.join(site, pkg),
                                ignore=shutil.ignore_patterns("__pycache__"))
            lib = os.path.realpath(os.path.join(ts.REPO, "build", "libllmcore-sandbox.so.0"))
            with open(os.path.join(site, "llmcore_sandbox", "_installed.py"), "w") as f:
                f.write("LIBRARY = %r\n" % lib)
            env = {"PYTHONPATH": site}
            code = ("import llmcore_sandbox as l, llmcore.agents.sandbox.images as i; "
                    "print(l.LIBRARY_PATH); print(i.ImageSelector(i.ImageRegistry("
                    "scan_store=False)).select_for_task('research').image)")
            p_env = dict(os.environ)
            p_env.pop(_lib.ENV_VAR, None)
            import subprocess
            p = subprocess.run([sys.executable, "-c", code], env=dict(p_env, **env),
                               cwd=tempfile.gettempdir(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.split(), [lib, "llmcore-sandbox-research:1.0.0"])
            # A stale _installed.py and nothing else: the error names every place tried.
            with open(os.path.join(site, "llmcore_sandbox", "_installed.py"), "w") as f:
                f.write("LIBRARY = '/nonexistent/libllmcore-sandbox.so.0'\n")
            p = subprocess.run([sys.executable, "-c", "import llmcore_sandbox"],
                               env=dict(p_env, PYTHONPATH=site, LD_LIBRARY_PATH=""),
                               cwd=tempfile.gettempdir(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
            if p.returncode == 0:
                self.skipTest("a system-wide libllmcore-sandbox is installed")
            self.assertIn("/nonexistent/libllmcore-sandbox.so.0", p.stderr)
            self.assertIn("in-tree build", p.stderr)
            self.assertIn("find_library", p.stderr)
            self.assertIn("make", p.stderr)
        finally:
            shutil.rmtree(site, ignore_errors=True)

    def test_not_found_is_an_import_error(self):
        self.assertTrue(issubclass(_lib.LibraryNotFoundError, ImportError))


class DeclarationTests(unittest.TestCase):
    """Every C function used is declared, matching the header's ownership."""

    def setUp(self):
        with open(os.path.join(ts.REPO, "include", "llmcore", "sandbox.h")) as f:
            text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
        self.decls = {}
        for m in re.finditer(r"([A-Za-z_][\w \*]*?)\b(lcs_\w+)\s*\(([^;{]*?)\)\s*;", text):
            self.decls[m.group(2)] = (" ".join(m.group(1).split()), m.group(3))

    def test_every_declared_function_exists_in_the_header(self):
        missing = [n for n in _lib.PROTOTYPES if n not in self.decls]
        self.assertEqual(missing, [])

    def test_owned_string_results_are_void_pointers_and_borrowed_ones_char_pointers(self):
        for name, (restype, argtypes) in _lib.PROTOTYPES.items():
            ret, params = self.decls[name]
            ret = ret.replace(" ", "")
            with self.subTest(function=name):
                if ret in ("char*", "char**") or ret.startswith("lcs_") and ret.endswith("*"):
                    self.assertIs(restype, ctypes.c_void_p, ret)  # owned: freed by us
                elif ret == "constchar*":
                    self.assertIs(restype, ctypes.c_char_p)
                elif ret == "void":
                    self.assertIsNone(restype)
                n_params = 0 if params.strip() == "void" else len(params.split(","))
                self.assertEqual(len(argtypes), n_params)

    def test_structures_match_the_header_layout(self):
        cc = ts.c_compiler()
        if not cc:
            self.skipTest("no C compiler to read the header's layout")
        structs = {"lcs_error": _lib.Error, "lcs_resource_limits": _lib.ResourceLimitsC,
                   "lcs_registry_options": _lib.RegistryOptions,
                   "lcs_image_info": _lib.ImageInfo, "lcs_image_list": _lib.ImageList,
                   "lcs_image_filter": _lib.ImageFilter, "lcs_selection": _lib.Selection}
        c_layout = ts.c_layout(cc, structs)
        for cname, py in structs.items():
            with self.subTest(struct=cname):
                self.assertEqual(ctypes.sizeof(py), c_layout[(cname, "#size")])
                for fname, _ in py._fields_:
                    self.assertEqual(getattr(py, fname).offset, c_layout[(cname, fname)], fname)


class MemoryTests(unittest.TestCase):
    """No owned pointer is leaked: the C heap stays flat over many calls."""

    def setUp(self):
        try:
            libc = ctypes.CDLL(None)
            f = libc.mallinfo2
        except (OSError, AttributeError):
            self.skipTest("glibc mallinfo2 is not available")

        class MallInfo2(ctypes.Structure):
            _fields_ = [(n, ctypes.c_size_t) for n in (
                "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                "uordblks", "fordblks", "keepcost")]
        f.restype = MallInfo2
        f.argtypes = []
        self.mallinfo = f

        # Calibrate: C allocations must show up (they do not under a sanitizer,
        # which replaces malloc).
        before = self.used()
        held = [_lib.lib.lcs_manifest_json_normalize(self.SAMPLE, None) for _ in range(200)]
        self.allocated = self.used() - before
        for h in held:
            _lib.lib.lcs_free(h)
        self.freed = self.used() - before
        if self.allocated < 200 * 100:
            self.skipTest("the C heap is not measurable here (malloc replaced?)")

    SAMPLE = (b'{"name":"a-b","version":"1.0","tier":"base","capabilities":[],'
              b'"default_access_mode":"full"}')

    def used(self):
        gc.collect()
        m = self.mallinfo()
        return m.uordblks + m.hblkhd

    def workload(self, reg, sel, store_dir):
        sel.select_for_task("data_processing")
        sel.select_for_task("research", runtime="python", capabilities=["git"])
        sel.select_for_runtime("node")
        sel.select_for_capabilities(["python", "network"])
        sel.get_task_types()
        sel.get_runtimes()
        sel.config
        reg.get("llmcore-sandbox-python")
        reg.list_images()
        reg.find_by_capability("shell")
        reg.to_dict()
        reg.register(ts.custom_manifest_dict())
        reg.unregister("custom-tool")
        reg.refresh()
        lcs.get_builtin_manifest("llmcore-sandbox-base")
        lcs.list_builtin_manifests()
        lcs.validate_manifest(lcs.get_builtin_manifest("llmcore-sandbox-research"))
        lcs.save_manifest_to_file(lcs.get_builtin_manifest("llmcore-sandbox-base"),
                                  os.path.join(store_dir, "m.json"))
        lcs.load_manifest_from_file(os.path.join(store_dir, "m.json"))
        for bad in (lambda: reg.get("nope:1.0"), lambda: lcs.load_manifest_from_string("{"),
                    lambda: lcs.parse_manifest({"name": "X"}),
                    lambda: reg.register(lcs.get_builtin_manifest("llmcore-sandbox-base"))):
            try:
                bad()
            except lcs.SandboxError:
                pass
        s2 = lcs.ImageSelector(reg)
        s2.close()

    def test_measure_sees_c_allocations_and_their_release(self):
        self.assertGreater(self.allocated, 200 * 100)
        self.assertLess(self.freed, self.allocated // 10)

    def test_repeated_calls_do_not_grow_the_c_heap(self):
        store = ts.TempStore()
        store.add("custom-two", "1.0.0", ts.custom_manifest_dict(name="custom-two",
                                                                 version="1.0.0"), rootfs=True)
        store.add("broken", "1.0.0", "{")
        try:
            reg = lcs.ImageRegistry(store_dir=store.dir)
            sel = lcs.ImageSelector(reg)
            for _ in range(30):
                self.workload(reg, sel, store.dir)
            before = self.used()
            n = 300
            for _ in range(n):
                self.workload(reg, sel, store.dir)
            growth = self.used() - before
            sel.close()
            reg.close()
            # A leak of even one small string per iteration would exceed this.
            self.assertLess(growth, n * 32, "C heap grew by %d bytes" % growth)
        finally:
            store.cleanup()


if __name__ == "__main__":
    unittest.main()
