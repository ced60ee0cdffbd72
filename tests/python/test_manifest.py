"""Manifests: loading, both schemas, errors, validation, saving, builtins."""

import ctypes
import dataclasses
import json
import os
import shutil
import tempfile
import unittest

import lcs_testsupport as ts

import llmcore_sandbox as lcs
from llmcore_sandbox import (AccessMode, ImageCapability, ImageManifest, ImageTier,
                             ManifestError, ManifestNotFoundError, ManifestParseError,
                             ManifestValidationError, ResourceLimits)
from llmcore_sandbox import _lib


def c_serialisation_of_file(path):
    """The C library's own JSON of a manifest file (lcs_manifest_to_json)."""
    err = _lib.Error()
    h = _lib.lib.lcs_manifest_load_file(path.encode(), ctypes.byref(err))
    assert h, err.message
    try:
        return _lib.take_string(_lib.lib.lcs_manifest_to_json(h, ctypes.byref(err)))
    finally:
        _lib.lib.lcs_manifest_free(h)


class ShippedManifestTests(unittest.TestCase):
    def test_all_six_shipped_manifests_load_with_their_names_and_tiers(self):
        tiers = {"base": ImageTier.BASE, "specialized": ImageTier.SPECIALIZED,
                 "task": ImageTier.TASK}
        for name, rel in ts.SHIPPED_MANIFESTS.items():
            with self.subTest(name=name):
                m = lcs.load_manifest_from_file(ts.repo_path(rel))
                self.assertEqual(m.name, name)
                self.assertEqual(m.version, "1.0.0")
                self.assertEqual(m.full_name, name + ":1.0.0")
                self.assertIs(m.tier, tiers[rel.split("/")[1]])
                self.assertIn(ImageCapability.SHELL, m.capabilities)
                self.assertEqual(m.user, "sandbox")
                self.assertEqual(m.working_directory, "/home/sandbox/work")

    def test_shipped_manifests_keep_the_shipped_schema_limits_and_parents(self):
        research = lcs.load_manifest_from_file(
            ts.repo_path(ts.SHIPPED_MANIFESTS["llmcore-sandbox-research"]))
        self.assertEqual(research.parent_image, "llmcore-sandbox-python:1.0.0")
        self.assertEqual(research.base_image, "llmcore-sandbox-python:1.0.0")
        self.assertEqual(research.resource_limits.memory_mb, 4096)
        self.assertEqual(research.resource_limits.memory_limit, "4g")
        self.assertEqual(research.resource_limits.cpu_cores, 4)
        self.assertEqual(research.resource_limits.timeout_seconds, 1800)
        self.assertEqual(research.resource_limits.pids_limit, 200)
        self.assertIs(research.default_access_mode, AccessMode.FULL)
        base = lcs.load_manifest_from_file(
            ts.repo_path(ts.SHIPPED_MANIFESTS["llmcore-sandbox-base"]))
        self.assertIsNone(base.parent_image)
        self.assertTrue(base.is_base and not base.is_task and not base.is_specialized)

    def test_to_dict_is_exactly_the_c_serialisation_including_key_order(self):
        for name, rel in ts.SHIPPED_MANIFESTS.items():
            with self.subTest(name=name):
                path = ts.repo_path(rel)
                c_text = c_serialisation_of_file(path)
                m = lcs.load_manifest_from_file(path)
                self.assertEqual(json.dumps(m.to_dict(), indent=2) + "\n", c_text)
                self.assertEqual(m.to_json(), c_text)

    def test_builtin_manifests_equal_the_shipped_files(self):
        builtins = lcs.list_builtin_manifests()
        self.assertEqual(sorted(builtins), sorted(ts.SHIPPED_MANIFESTS))
        for name, rel in ts.SHIPPED_MANIFESTS.items():
            with self.subTest(name=name):
                self.assertEqual(builtins[name], lcs.load_manifest_from_file(ts.repo_path(rel)))


class SchemaTests(unittest.TestCase):
    def test_upstream_schema_normalises_to_the_shipped_schema(self):
        m = lcs.parse_manifest(ts.UPSTREAM_SCHEMA_EXAMPLE)
        self.assertEqual(m.resource_limits.memory_mb, 1024)
        self.assertEqual(m.resource_limits.cpu_cores, 2)
        self.assertEqual(m.resource_limits.max_processes, 100)
        self.assertEqual(m.resource_limits.timeout_seconds, 600)
        self.assertEqual(m.to_dict()["resource_limits"],
                         {"memory_mb": 1024, "cpu_cores": 2, "timeout_seconds": 600,
                          "max_processes": 100})
        self.assertEqual(m.resource_limits.memory_limit, "1g")
        self.assertEqual(m.resource_limits.cpu_limit, 2.0)
        self.assertEqual(m.resource_limits.pids_limit, 100)

    def test_upstream_base_image_key_becomes_parent_image(self):
        d = ts.custom_manifest_dict(tier="specialized")
        d["base_image"] = d.pop("parent_image")
        m = ImageManifest.from_dict(d)
        self.assertEqual(m.parent_image, "llmcore-sandbox-base:1.0.0")
        self.assertNotIn("base_image", m.to_dict())

    def test_load_from_string_accepts_both_schemas_and_gives_the_same_manifest(self):
        shipped = dict(ts.UPSTREAM_SCHEMA_EXAMPLE)
        shipped["resource_limits"] = {"memory_mb": 1024, "cpu_cores": 2, "max_processes": 100,
                                      "timeout_seconds": 600}
        a = lcs.load_manifest_from_string(json.dumps(ts.UPSTREAM_SCHEMA_EXAMPLE))
        b = lcs.load_manifest_from_string(json.dumps(shipped).encode())
        self.assertEqual(a, b)

    def test_resource_limits_from_dict_accepts_both_schemas_and_validates_in_c(self):
        up = ResourceLimits.from_dict({"memory_limit": "512m", "cpu_limit": 1.5,
                                       "pids_limit": 64, "timeout_seconds": 120})
        self.assertEqual(up, ResourceLimits(512, 1.5, 120, 64))
        self.assertEqual(up.to_dict(), {"memory_mb": 512, "cpu_cores": 1.5,
                                        "timeout_seconds": 120, "max_processes": 64})
        self.assertEqual(ResourceLimits.from_dict(up.to_dict()), up)
        with self.assertRaises(ManifestValidationError) as cm:
            ResourceLimits.from_dict({"memory_mb": 1, "cpu_cores": 0})
        self.assertEqual(len(cm.exception.problems), 2)
        self.assertTrue(any("memory_mb" in p for p in cm.exception.problems))
        self.assertTrue(any("cpu_cores" in p for p in cm.exception.problems))

    def test_missing_limits_take_the_tier_defaults_of_the_library(self):
        task = ImageManifest("t-img", "1.0.0", ImageTier.TASK,
                             parent_image="llmcore-sandbox-python:1.0.0")
        self.assertEqual(task.resource_limits, ResourceLimits(4096, 4, 1800, 200))
        base = ImageManifest("b-img", "1.0.0")
        self.assertEqual(base.resource_limits, ResourceLimits())
        self.assertEqual(ResourceLimits(), ResourceLimits(512, 1, 300, 50))

    def test_capabilities_are_serialised_in_canonical_order(self):
        m = ImageManifest("x-img", "1.0", ImageTier.BASE,
                          capabilities={"git", ImageCapability.SHELL, "python", "network"})
        self.assertEqual(m.to_dict()["capabilities"], ["shell", "network", "python", "git"])
        self.assertIsInstance(m.capabilities, frozenset)
        self.assertTrue(m.has_capability("python"))
        self.assertTrue(m.has_all_capabilities({ImageCapability.GIT, "shell"}))
        self.assertFalse(m.has_all_capabilities({"git", "rust"}))

    def test_unknown_capability_in_a_python_manifest_raises_value_error_naming_it(self):
        with self.assertRaises(ValueError) as cm:
            ImageManifest("x-img", "1.0", capabilities={"shell", "telepathy"})
        self.assertIn("telepathy", str(cm.exception))


class ErrorTests(unittest.TestCase):
    def test_missing_file_raises_manifest_not_found(self):
        with self.assertRaises(ManifestNotFoundError) as cm:
            lcs.load_manifest_from_file("/nonexistent/dir/capabilities.json")
        self.assertIn("/nonexistent/dir/capabilities.json", str(cm.exception))
        self.assertEqual(cm.exception.status, "not_found")

    def test_syntax_error_raises_parse_error_with_line_and_column(self):
        text = '{\n  "name": "x-img",\n  "version": "1.0.0",,\n}'
        with self.assertRaises(ManifestParseError) as cm:
            lcs.load_manifest_from_string(text)
        self.assertEqual(cm.exception.line, 3)
        self.assertGreater(cm.exception.column, 0)
        self.assertEqual(cm.exception.status, "parse")

    def test_syntax_error_in_a_file_reports_its_line(self):
        d = tempfile.mkdtemp()
        try:
            p = os.path.join(d, "capabilities.json")
            with open(p, "w") as f:
                f.write('{\n\n\n  "name": oops\n}\n')
            with self.assertRaises(ManifestParseError) as cm:
                lcs.load_manifest_from_file(p)
            self.assertEqual(cm.exception.line, 4)
            self.assertIn(p, str(cm.exception))
        finally:
            shutil.rmtree(d)

    def test_empty_string_is_a_parse_error(self):
        with self.assertRaises(ManifestParseError):
            lcs.load_manifest_from_string("")

    def test_validation_lists_several_problems_at_once(self):
        bad = {"name": "Bad Name", "version": "latest", "tier": "galactic",
               "capabilities": ["shell", "teleport"], "default_access_mode": "root",
               "user": "root"}
        with self.assertRaises(ManifestValidationError) as cm:
            lcs.parse_manifest(bad)
        problems = cm.exception.problems
        self.assertGreaterEqual(len(problems), 6, problems)
        for word in ("name", "version", "tier", "teleport", "default_access_mode", "user"):
            self.assertTrue(any(word in p for p in problems), (word, problems))
        self.assertIn("%d problems" % len(problems), str(cm.exception))

    def test_a_truncated_problem_list_says_how_many_problems_are_missing(self):
        bad = {"name": "x-img", "version": "1.0.0", "tier": "base",
               "default_access_mode": "restricted",
               "capabilities": ["unknown%d" % i for i in range(60)]}
        with self.assertRaises(ManifestValidationError) as cm:
            lcs.parse_manifest(bad)
        problems = cm.exception.problems
        self.assertIn("60 problems", str(cm.exception))
        self.assertEqual(problems[0], "capabilities[0]: unknown capability 'unknown0'")
        self.assertRegex(problems[-1], r"^\.\.\. and \d+ more problems")
        shown = len(problems) - 1
        self.assertEqual(int(problems[-1].split()[2]) + shown, 60)

    def test_unknown_keys_are_rejected_not_silently_dropped(self):
        d = ts.custom_manifest_dict()
        d["colour"] = "blue"
        with self.assertRaises(ManifestValidationError) as cm:
            lcs.parse_manifest(d)
        self.assertTrue(any("colour" in p for p in cm.exception.problems))
        d["x-colour"] = d.pop("colour")  # extension keys are allowed
        self.assertEqual(lcs.parse_manifest(d).name, "custom-tool")

    def test_validate_manifest_returns_true_or_raises_with_problems(self):
        m = lcs.get_builtin_manifest("llmcore-sandbox-python")
        self.assertIs(lcs.validate_manifest(m), True)
        m.version = "1"
        m.user = "root"
        m.working_directory = "relative/dir"
        with self.assertRaises(ManifestValidationError) as cm:
            lcs.validate_manifest(m)
        self.assertEqual(len(cm.exception.problems), 3, cm.exception.problems)

    def test_a_base_image_with_a_parent_is_invalid(self):
        m = ImageManifest("x-img", "1.0.0", ImageTier.BASE, parent_image="ubuntu:24.04")
        with self.assertRaises(ManifestValidationError) as cm:
            lcs.validate_manifest(m)
        self.assertTrue(any("parent_image" in p for p in cm.exception.problems))

    def test_non_object_json_is_a_validation_error(self):
        with self.assertRaises(ManifestValidationError):
            lcs.load_manifest_from_string("[1, 2]")
        with self.assertRaises(ManifestError):
            lcs.parse_manifest(["not", "a", "dict"])

    def test_error_class_hierarchy(self):
        for cls in (ManifestNotFoundError, ManifestParseError, ManifestValidationError):
            self.assertTrue(issubclass(cls, ManifestError))
        self.assertTrue(issubclass(lcs.ImageNotFoundError, lcs.ImageRegistryError))
        self.assertTrue(issubclass(lcs.ImageExistsError, lcs.ImageRegistryError))
        for cls in (ManifestError, lcs.ImageRegistryError, lcs.ImageSelectionError):
            self.assertTrue(issubclass(cls, lcs.SandboxError))
            self.assertTrue(issubclass(cls, Exception))
        self.assertFalse(issubclass(ManifestError, lcs.ImageRegistryError))
        e = lcs.ImageNotFoundError("a:1.0", ["b:1.0"])
        self.assertEqual((e.image, e.available), ("a:1.0", ["b:1.0"]))
        self.assertIn("a:1.0", str(e))

    def test_c_status_codes_map_to_the_matching_exception_classes(self):
        from llmcore_sandbox.errors import make_error
        cases = [
            (_lib.E_PARSE, "manifest", ManifestParseError),
            (_lib.E_VALIDATION, "registry", ManifestValidationError),
            (_lib.E_NOT_FOUND, "manifest", ManifestNotFoundError),
            (_lib.E_NOT_FOUND, "registry", lcs.ImageNotFoundError),
            (_lib.E_EXISTS, "registry", lcs.ImageExistsError),
            (_lib.E_INVALID, "registry", lcs.ImageRegistryError),
            (_lib.E_INVALID, "selector", lcs.ImageSelectionError),
            (_lib.E_IO, "manifest", ManifestError),
            (_lib.E_NOMEM, "manifest", MemoryError),
        ]
        for code, domain, cls in cases:
            with self.subTest(code=code, domain=domain):
                err = _lib.Error()
                err.code = code
                err.message = b"msg"
                exc = make_error(err, domain, image="i:1.0", available=["a"])
                self.assertIs(type(exc), cls)
                if isinstance(exc, lcs.SandboxError):
                    self.assertEqual(exc.code, code)
                    self.assertEqual(exc.message, "msg")


class SaveAndBuiltinTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="lcs-pytest-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_save_then_load_round_trips_and_makes_parent_directories(self):
        m = ImageManifest.from_dict(ts.custom_manifest_dict(
            environment={"B": "2", "A": "1"}, build_date="2026-01-02T03:04:05Z",
            vcs_ref="abc123", entrypoint="/bin/sh"))
        path = os.path.join(self.dir, "a", "b", "capabilities.json")
        lcs.save_manifest_to_file(m, path)
        back = lcs.load_manifest_from_file(path)
        self.assertEqual(back, m)
        with open(path) as f:
            text = f.read()
        self.assertEqual(text, m.to_json())
        self.assertEqual(list(json.loads(text)["environment"]), ["A", "B"])

    def test_saving_an_invalid_manifest_raises_and_writes_nothing(self):
        m = ImageManifest("x-img", "1.0.0", user="root")
        path = os.path.join(self.dir, "capabilities.json")
        with self.assertRaises(ManifestValidationError):
            lcs.save_manifest_to_file(m, path)
        self.assertFalse(os.path.exists(path))

    def test_get_builtin_manifest_by_name_or_exact_ref_else_none(self):
        self.assertEqual(lcs.get_builtin_manifest("llmcore-sandbox-shell").name,
                         "llmcore-sandbox-shell")
        self.assertEqual(lcs.get_builtin_manifest("llmcore-sandbox-shell:1.0.0").version, "1.0.0")
        self.assertIsNone(lcs.get_builtin_manifest("llmcore-sandbox-shell:9.9"))
        self.assertIsNone(lcs.get_builtin_manifest("no-such-image"))
        self.assertIsNone(lcs.get_builtin_manifest("Not A Ref"))

    def test_builtin_manifests_are_fresh_copies(self):
        a = lcs.get_builtin_manifest("llmcore-sandbox-python")
        a.tools.append("evil")
        a.environment["X"] = "1"
        a.capabilities = frozenset({ImageCapability.NETWORK})
        b = lcs.get_builtin_manifest("llmcore-sandbox-python")
        self.assertNotIn("evil", b.tools)
        self.assertNotIn("X", b.environment)
        self.assertIn(ImageCapability.PYTHON, b.capabilities)
        lst = lcs.list_builtin_manifests()
        lst["llmcore-sandbox-python"].tools.clear()
        self.assertTrue(lcs.list_builtin_manifests()["llmcore-sandbox-python"].tools)
        p = lcs.PYTHON_IMAGE_MANIFEST
        p.tools.clear()
        self.assertTrue(lcs.PYTHON_IMAGE_MANIFEST.tools)
        self.assertEqual(len(lcs.BUILTIN_MANIFESTS), 6)

    def test_manifest_copy_and_dataclass_fields(self):
        m = lcs.get_builtin_manifest("llmcore-sandbox-websearch")
        c = m.copy()
        self.assertEqual(c, m)
        c.tools.append("x")
        self.assertNotEqual(c, m)
        names = [f.name for f in dataclasses.fields(ImageManifest)]
        self.assertEqual(names, ["name", "version", "tier", "description", "parent_image",
                                 "capabilities", "tools", "default_access_mode",
                                 "resource_limits", "environment", "user",
                                 "working_directory", "entrypoint", "build_date", "vcs_ref"])
        self.assertTrue(m.has_tool("playwright") or m.has_tool("python3"))
        self.assertFalse(m.has_tool("no-such-tool"))

    def test_manifest_path_in_container_constant(self):
        self.assertEqual(lcs.MANIFEST_PATH_IN_CONTAINER, "/etc/llmcore/capabilities.json")


class EnumTests(unittest.TestCase):
    def test_enums_have_upstream_values_in_header_order(self):
        self.assertEqual([t.value for t in ImageTier], ["base", "specialized", "task"])
        self.assertEqual([a.value for a in AccessMode], ["restricted", "full"])
        self.assertEqual([c.value for c in ImageCapability], [
            "shell", "network", "filesystem", "python", "nodejs", "rust", "git", "curl", "jq",
            "pandoc", "pdf_tools", "browser", "data_analysis", "visualization", "research",
            "websearch", "docgen", "testing", "code_analysis"])
        for i, c in enumerate(ImageCapability):
            self.assertEqual(_lib.lib.lcs_capability_name(i).decode(), c.value)
        self.assertIsNone(_lib.lib.lcs_capability_name(len(ImageCapability)))
        self.assertTrue(issubclass(ImageCapability, str))
        self.assertEqual(ImageCapability("python"), "python")

    def test_string_tier_and_access_mode_are_coerced_case_insensitively(self):
        m = ImageManifest("x-img", "1.0", tier=" Specialized ", default_access_mode="FULL",
                          parent_image="llmcore-sandbox-base:1.0.0")
        self.assertIs(m.tier, ImageTier.SPECIALIZED)
        self.assertIs(m.default_access_mode, AccessMode.FULL)
        with self.assertRaises(ValueError):
            ImageManifest("x-img", "1.0", tier="mega")


if __name__ == "__main__":
    unittest.main()
