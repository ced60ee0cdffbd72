"""ImageSelector: mappings, task/runtime/capability selection, config, lifetime."""

import ctypes
import gc
import unittest
import weakref

import lcs_testsupport as ts

import llmcore_sandbox as lcs
from llmcore_sandbox import (AccessMode, ImageCapability, ImageRegistry, ImageSelector,
                             SelectionConfig, SelectionResult, _lib)

# The 24 task types of upstream's TASK_CAPABILITY_MAP (reference §2.6).
UPSTREAM_TASKS = [
    "research", "literature_review", "document_analysis", "websearch", "web_scraping",
    "api_testing", "python_dev", "nodejs_dev", "frontend", "backend", "fullstack",
    "data_analysis", "visualization", "data_processing", "docgen", "pdf_generation",
    "markdown", "testing", "integration_testing", "code_review", "shell", "scripting",
    "automation", "file_processing",
]
UPSTREAM_RUNTIMES = ["bash", "node", "nodejs", "npm", "python", "python3", "python3.12", "sh",
                     "shell", "zsh"]

PY = "llmcore-sandbox-python:1.0.0"


class RawC:
    """Direct C calls (no wrapper) to compare the binding against."""

    def __init__(self):
        L = _lib.lib
        opts = _lib.RegistryOptions()
        L.lcs_registry_options_init(ctypes.byref(opts))
        opts.scan_store = False
        err = _lib.Error()
        self.reg = L.lcs_registry_new(ctypes.byref(opts), ctypes.byref(err))
        assert self.reg, err.message
        self.sel = L.lcs_selector_new_json(self.reg, None, ctypes.byref(err))
        assert self.sel, err.message

    def _read(self, s):
        out = (ctypes.string_at(s.image).decode(), ctypes.string_at(s.reason).decode(),
               _lib.lib.lcs_access_mode_name(s.access_mode).decode())
        _lib.lib.lcs_selection_clear(ctypes.byref(s))
        return out

    def task(self, task, runtime=None):
        s, err = _lib.Selection(), _lib.Error()
        rc = _lib.lib.lcs_select_for_task(self.sel, task.encode(),
                                          runtime.encode() if runtime else None, 0,
                                          ctypes.byref(s), ctypes.byref(err))
        assert rc == 0, err.message
        return self._read(s)

    def runtime(self, runtime):
        s, err = _lib.Selection(), _lib.Error()
        rc = _lib.lib.lcs_select_for_runtime(self.sel, runtime.encode(), ctypes.byref(s),
                                             ctypes.byref(err))
        assert rc == 0, err.message
        return self._read(s)

    def close(self):
        _lib.lib.lcs_selector_free(self.sel)
        _lib.lib.lcs_registry_free(self.reg)


def triple(r):
    return (r.image, r.reason, r.access_mode.value)


class SeedBehaviourTests(unittest.TestCase):
    def setUp(self):
        self.reg = ImageRegistry(scan_store=False)
        self.sel = ImageSelector(self.reg)

    def tearDown(self):
        self.sel.close()
        self.reg.close()

    def test_research_task_selects_the_research_image_with_full_access(self):
        r = self.sel.select_for_task("research")
        self.assertIsInstance(r, SelectionResult)
        self.assertEqual(r.image, "llmcore-sandbox-research:1.0.0")
        self.assertEqual(r.reason, "task_mapping:research")
        self.assertIs(r.access_mode, AccessMode.FULL)
        self.assertEqual(r.manifest.name, "llmcore-sandbox-research")
        self.assertEqual(r.required_capabilities,
                         {ImageCapability.PYTHON, ImageCapability.RESEARCH,
                          ImageCapability.NETWORK})

    def test_python_runtime_selects_the_python_image(self):
        r = self.sel.select_for_runtime("python")
        self.assertEqual(triple(r), (PY, "runtime_mapping:python", "restricted"))

    def test_data_processing_gets_python_restricted_not_websearch(self):
        r = self.sel.select_for_task("data_processing")
        self.assertEqual(triple(r), (PY, "capability_match:python", "restricted"))
        self.assertIn("llmcore-sandbox-websearch:1.0.0", r.alternatives)
        self.assertNotIn(PY, r.alternatives)

    def test_file_processing_gets_the_base_image_restricted_never_websearch(self):
        r = self.sel.select_for_task("file_processing")
        self.assertEqual(r.image, "llmcore-sandbox-base:1.0.0")
        self.assertIs(r.access_mode, AccessMode.RESTRICTED)
        self.assertNotIn("websearch", r.image)
        self.assertTrue(r.reason.startswith("capability_match:"))

    def test_websearch_task_selects_websearch_with_full_access(self):
        r = self.sel.select_for_task("websearch")
        self.assertEqual(triple(r), ("llmcore-sandbox-websearch:1.0.0", "task_mapping:websearch",
                                     "full"))

    def test_unknown_task_falls_back_to_the_default_image(self):
        r = self.sel.select_for_task("knitting")
        self.assertEqual(triple(r), (PY, "default", "restricted"))
        self.assertEqual(r.alternatives, [])

    def test_unknown_task_with_a_runtime_uses_the_runtime_mapping(self):
        r = self.sel.select_for_task("knitting", runtime="nodejs")
        self.assertEqual((r.image, r.reason),
                         ("llmcore-sandbox-nodejs:1.0.0", "runtime_mapping:nodejs"))

    def test_task_and_runtime_names_ignore_case_and_blanks(self):
        self.assertEqual(self.sel.select_for_task("  Research ").reason, "task_mapping:research")
        self.assertEqual(self.sel.select_for_runtime(" PYTHON3").image, PY)
        self.assertEqual(self.sel.get_image_for_task(" WebSearch "),
                         "llmcore-sandbox-websearch:1.0.0")
        self.assertEqual(self.sel.get_image_for_runtime("Node"), "llmcore-sandbox-nodejs:1.0.0")
        self.assertIsNone(self.sel.get_image_for_task("knitting"))
        self.assertIsNone(self.sel.get_image_for_runtime("cobol"))


class MatchesTheCLibraryTests(unittest.TestCase):
    def setUp(self):
        self.raw = RawC()
        self.reg = ImageRegistry(scan_store=False)
        self.sel = ImageSelector(self.reg)

    def tearDown(self):
        self.raw.close()
        self.sel.close()
        self.reg.close()

    def test_every_upstream_task_type_selects_what_the_c_library_selects(self):
        self.assertEqual(sorted(lcs.TASK_CAPABILITY_MAP), sorted(UPSTREAM_TASKS))
        for task in UPSTREAM_TASKS:
            with self.subTest(task=task):
                self.assertEqual(triple(self.sel.select_for_task(task)), self.raw.task(task))

    def test_every_runtime_and_task_with_runtime_selects_what_the_c_library_selects(self):
        self.assertEqual(self.sel.get_runtimes(), UPSTREAM_RUNTIMES)
        for rt in UPSTREAM_RUNTIMES + ["go", "rust", "ruby"]:
            with self.subTest(runtime=rt):
                self.assertEqual(triple(self.sel.select_for_runtime(rt)), self.raw.runtime(rt))
                self.assertEqual(triple(self.sel.select_for_task("knitting", runtime=rt)),
                                 self.raw.task("knitting", rt))

    def test_no_task_without_network_requirement_gets_full_access(self):
        for task in UPSTREAM_TASKS:
            with self.subTest(task=task):
                r = self.sel.select_for_task(task)
                needs_net = bool(lcs.TASK_CAPABILITY_MAP[task] &
                                 {ImageCapability.NETWORK, ImageCapability.WEBSEARCH})
                if not needs_net:
                    self.assertIs(r.access_mode, AccessMode.RESTRICTED)
                self.assertEqual(r.required_capabilities, lcs.TASK_CAPABILITY_MAP[task])


class MappingTests(unittest.TestCase):
    def setUp(self):
        self.reg = ImageRegistry(scan_store=False)
        self.sel = ImageSelector(self.reg)

    def tearDown(self):
        self.sel.close()
        self.reg.close()

    def test_add_task_mapping_is_used_as_given(self):
        self.sel.add_task_mapping("custom_task", "my-custom-image:1.0.0")
        r = self.sel.select_for_task("custom_task")
        self.assertEqual(r.image, "my-custom-image:1.0.0")
        self.assertEqual(r.reason, "task_mapping:custom_task")
        self.assertIsNone(r.manifest)
        self.assertIn("custom_task", self.sel.get_task_types())
        self.assertEqual(self.sel.get_image_for_task("custom_task"), "my-custom-image:1.0.0")
        self.assertEqual(self.sel.config.task_overrides, {"custom_task": "my-custom-image:1.0.0"})

    def test_add_task_mapping_overrides_a_builtin_task(self):
        self.sel.add_task_mapping("research", "llmcore-sandbox-shell:1.0.0")
        r = self.sel.select_for_task("research")
        self.assertEqual((r.image, r.reason), ("llmcore-sandbox-shell:1.0.0",
                                               "task_mapping:research"))

    def test_add_runtime_mapping_is_used_for_runtime_and_task_fallback(self):
        self.sel.add_runtime_mapping("deno", "denoland/deno:2.0")
        r = self.sel.select_for_runtime("deno")
        self.assertEqual((r.image, r.reason), ("denoland/deno:2.0", "runtime_mapping:deno"))
        self.assertIsNone(r.manifest)
        r = self.sel.select_for_task("knitting", runtime="deno")
        self.assertEqual((r.image, r.reason), ("denoland/deno:2.0", "runtime_mapping:deno"))
        self.assertIn("deno", self.sel.get_runtimes())
        self.assertEqual(self.sel.config.runtime_overrides, {"deno": "denoland/deno:2.0"})

    def test_mapping_to_an_invalid_image_reference_is_rejected(self):
        with self.assertRaises(lcs.ImageSelectionError):
            self.sel.add_task_mapping("custom_task", "Not A Reference")
        with self.assertRaises(lcs.ImageSelectionError):
            self.sel.add_runtime_mapping("   ", "x:1.0")
        self.assertIsNone(self.sel.get_image_for_task("custom_task"))

    def test_unmapped_images_get_their_access_mode_from_the_patterns(self):
        self.sel.add_task_mapping("fancy", "example/tool-full:1.0")
        self.assertIs(self.sel.select_for_task("fancy").access_mode, AccessMode.FULL)
        self.sel.add_task_mapping("plain", "python:3.12-slim")
        self.assertIs(self.sel.select_for_task("plain").access_mode, AccessMode.RESTRICTED)


class CapabilityArgumentTests(unittest.TestCase):
    def setUp(self):
        self.reg = ImageRegistry(scan_store=False)
        self.sel = ImageSelector(self.reg)

    def tearDown(self):
        self.sel.close()
        self.reg.close()

    def test_capabilities_accept_members_and_strings(self):
        a = self.sel.select_for_capabilities({ImageCapability.PYTHON, ImageCapability.GIT})
        b = self.sel.select_for_capabilities(["python", "git"])
        c = self.sel.select_for_capabilities(("Python", ImageCapability.GIT))
        self.assertEqual(triple(a), triple(b))
        self.assertEqual(triple(a), triple(c))
        self.assertEqual(a.image, PY)
        self.assertEqual(a.reason, "capability_match:python,git")
        self.assertEqual(a.required_capabilities, {ImageCapability.PYTHON, ImageCapability.GIT})

    def test_unknown_capabilities_raise_value_error_naming_them(self):
        for call in (lambda: self.sel.select_for_capabilities(["python", "telepathy", "warp"]),
                     lambda: self.sel.select_for_task("research", capabilities=["telepathy",
                                                                                 "warp"])):
            with self.assertRaises(ValueError) as cm:
                call()
            self.assertIn("telepathy", str(cm.exception))
            self.assertIn("warp", str(cm.exception))

    def test_extra_capabilities_join_the_task_requirement(self):
        r = self.sel.select_for_task("knitting", capabilities=["nodejs"])
        self.assertEqual((r.image, r.reason), ("llmcore-sandbox-nodejs:1.0.0",
                                               "capability_match:nodejs"))
        self.assertIs(r.access_mode, AccessMode.RESTRICTED)

    def test_capabilities_no_image_has_fall_back_to_the_default(self):
        r = self.sel.select_for_capabilities({"rust"})
        self.assertEqual((r.image, r.reason), (PY, "default"))
        self.assertEqual(r.required_capabilities, {ImageCapability.RUST})

    def test_network_requirement_selects_a_full_access_image_with_alternatives(self):
        r = self.sel.select_for_capabilities(["python", "network"])
        self.assertIs(r.access_mode, AccessMode.FULL)
        self.assertEqual(len(r.alternatives), 1)
        self.assertNotEqual(r.alternatives[0], r.image)

    def test_empty_task_type_is_rejected(self):
        with self.assertRaises(lcs.ImageSelectionError):
            self.sel.select_for_task("   ")
        with self.assertRaises(TypeError):
            self.sel.select_for_task(None)


class ConfigAndTablesTests(unittest.TestCase):
    def test_selection_config_defaults_are_the_upstream_ones(self):
        c = SelectionConfig()
        self.assertEqual(c.default_image, PY)
        self.assertTrue(c.prefer_local)
        self.assertTrue(c.prefer_task_images)
        self.assertEqual(c.task_overrides, {})
        self.assertEqual(c.runtime_overrides, {})
        self.assertEqual(c.restricted_patterns,
                         ["*-slim", "llmcore-sandbox-base:*", "llmcore-sandbox-shell:*"])
        self.assertEqual(c.full_access_patterns,
                         ["*-full", "llmcore-sandbox-websearch:*", "llmcore-sandbox-research:*"])
        c.restricted_patterns.append("x")
        self.assertNotIn("x", SelectionConfig().restricted_patterns)

    def test_config_is_passed_to_the_library_and_read_back(self):
        with ImageRegistry(scan_store=False) as reg:
            cfg = SelectionConfig(default_image="llmcore-sandbox-shell:1.0.0",
                                  prefer_task_images=False,
                                  task_overrides={"Knitting": "yarn/tool:1.0"},
                                  full_access_patterns=["yarn/*"])
            sel = ImageSelector(reg, cfg)
            back = sel.config
            self.assertEqual(back.default_image, "llmcore-sandbox-shell:1.0.0")
            self.assertFalse(back.prefer_task_images)
            self.assertEqual(back.task_overrides, {"knitting": "yarn/tool:1.0"})
            self.assertEqual(back.full_access_patterns, ["yarn/*"])
            r = sel.select_for_task("knitting")
            self.assertEqual((r.image, r.access_mode), ("yarn/tool:1.0", AccessMode.FULL))
            self.assertEqual(sel.select_for_task("unknown-task").image,
                             "llmcore-sandbox-shell:1.0.0")
            sel.close()

    def test_invalid_default_image_is_rejected(self):
        with ImageRegistry(scan_store=False) as reg:
            with self.assertRaises(lcs.ImageSelectionError):
                ImageSelector(reg, SelectionConfig(default_image="Not Valid"))

    def test_module_tables_come_from_the_library_and_are_read_only(self):
        self.assertEqual(lcs.TASK_IMAGE_MAP["research"], "llmcore-sandbox-research:1.0.0")
        self.assertEqual(lcs.TASK_IMAGE_MAP["frontend"], "llmcore-sandbox-nodejs:1.0.0")
        self.assertEqual(len(lcs.TASK_IMAGE_MAP), 15)
        self.assertEqual(sorted(lcs.RUNTIME_IMAGE_MAP), UPSTREAM_RUNTIMES)
        self.assertEqual(lcs.TASK_CAPABILITY_MAP["scripting"],
                         {ImageCapability.SHELL, ImageCapability.JQ})
        with self.assertRaises(TypeError):
            lcs.TASK_IMAGE_MAP["research"] = "x:1.0"
        with self.assertRaises(TypeError):
            lcs.TASK_CAPABILITY_MAP["research"] = frozenset()

    def test_task_types_are_sorted_and_include_every_table_key(self):
        with ImageRegistry(scan_store=False) as reg:
            sel = ImageSelector(reg)
            types = sel.get_task_types()
            self.assertEqual(types, sorted(types))
            self.assertEqual(set(types), set(UPSTREAM_TASKS) | set(lcs.TASK_IMAGE_MAP))
            sel.close()


class LifetimeTests(unittest.TestCase):
    def test_selector_keeps_its_registry_alive(self):
        reg = ImageRegistry(scan_store=False)
        ref = weakref.ref(reg)
        sel = ImageSelector(reg)
        del reg
        gc.collect()
        self.assertIsNotNone(ref())
        self.assertIs(sel.registry, ref())
        self.assertEqual(sel.select_for_task("research").manifest.name,
                         "llmcore-sandbox-research")
        sel.close()

    def test_default_selector_builds_its_own_registry(self):
        store = ts.TempStore()
        try:
            import os
            old = os.environ.get("LLMCORE_SANDBOX_STORE")
            os.environ["LLMCORE_SANDBOX_STORE"] = store.dir
            try:
                sel = ImageSelector()
            finally:
                if old is None:
                    del os.environ["LLMCORE_SANDBOX_STORE"]
                else:
                    os.environ["LLMCORE_SANDBOX_STORE"] = old
            self.assertIsInstance(sel.registry, ImageRegistry)
            self.assertEqual(sel.registry.store_dir, store.dir)
            self.assertEqual(sel.select_for_runtime("bash").image, "llmcore-sandbox-shell:1.0.0")
            sel.close()
        finally:
            store.cleanup()

    def test_close_is_idempotent_and_closed_objects_raise(self):
        reg = ImageRegistry(scan_store=False)
        sel = ImageSelector(reg)
        sel.close()
        sel.close()
        with self.assertRaises(lcs.ImageSelectionError):
            sel.select_for_task("research")
        sel2 = ImageSelector(reg)
        reg.close()
        with self.assertRaises(lcs.ImageRegistryError):
            sel2.select_for_task("research")
        sel2.close()
        sel2.__del__()

    def test_registry_changes_are_seen_by_an_existing_selector(self):
        with ImageRegistry(scan_store=False) as reg:
            sel = ImageSelector(reg)
            self.assertEqual(sel.select_for_capabilities(["rust"]).reason, "default")
            reg.register(ts.custom_manifest_dict())
            self.assertEqual(sel.select_for_capabilities(["rust"]).image, "custom-tool:2.0.0")
            sel.close()

    def test_concurrent_selections_on_one_selector_agree(self):
        import threading
        with ImageRegistry(scan_store=False) as reg:
            sel = ImageSelector(reg)
            expected = {t: triple(sel.select_for_task(t)) for t in UPSTREAM_TASKS}
            bad = []

            def worker(n):
                for i in range(40):
                    t = UPSTREAM_TASKS[(n + i) % len(UPSTREAM_TASKS)]
                    if triple(sel.select_for_task(t)) != expected[t]:
                        bad.append(t)
                    if i % 10 == 0:
                        reg.register(ts.custom_manifest_dict(version="%d.%d.0" % (n, i),
                                                             capabilities=["rust"]))
            threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            self.assertEqual(bad, [])
            self.assertEqual(reg.count, 6 + 6 * 4)
            sel.close()

    def test_rejects_a_registry_of_the_wrong_type(self):
        with self.assertRaises(TypeError):
            ImageSelector(registry="not a registry")


if __name__ == "__main__":
    unittest.main()
