"""ImageRegistry: lookups, listing, immutability, registration, the store."""

import json
import os
import shutil
import unittest

import lcs_testsupport as ts

import llmcore_sandbox as lcs
from llmcore_sandbox import (ImageCapability, ImageExistsError, ImageManifest, ImageMetadata,
                             ImageNotFoundError, ImageRegistry, ImageRegistryError, ImageSelector,
                             ImageTier, ManifestValidationError)


class LookupTests(unittest.TestCase):
    def setUp(self):
        self.reg = ImageRegistry(scan_store=False)

    def tearDown(self):
        self.reg.close()

    def test_builtins_are_loaded_and_counted(self):
        self.assertEqual(self.reg.count, 6)
        self.assertEqual(len(self.reg), 6)
        self.assertEqual(sorted(m.ref for m in self.reg.list_images()), ts.BUILTIN_REFS)
        self.assertTrue(all(m.builtin and m.source == "builtin" for m in self.reg.list_images()))

    def test_registry_without_builtins_is_empty(self):
        with ImageRegistry(include_builtins=False, scan_store=False) as r:
            self.assertEqual(r.count, 0)
            self.assertEqual(r.list_images(), [])
            self.assertIsNone(r.find_by_capability("shell"))

    def test_get_by_bare_name_and_by_exact_tag(self):
        a = self.reg.get("llmcore-sandbox-python")
        b = self.reg.get("llmcore-sandbox-python:1.0.0")
        self.assertEqual(a, b)
        self.assertIsInstance(a, ImageMetadata)
        self.assertEqual((a.name, a.version, a.full_name, a.ref),
                         ("llmcore-sandbox-python", "1.0.0", "llmcore-sandbox-python:1.0.0",
                          "llmcore-sandbox-python:1.0.0"))
        self.assertIs(a.tier, ImageTier.SPECIALIZED)
        self.assertIn(ImageCapability.PYTHON, a.capabilities)
        self.assertFalse(a.available_locally)
        self.assertIsNone(a.rootfs)
        self.assertEqual(self.reg.get_manifest("llmcore-sandbox-python"), a.manifest)

    def test_get_with_unknown_tag_is_not_found_and_lists_available(self):
        with self.assertRaises(ImageNotFoundError) as cm:
            self.reg.get("llmcore-sandbox-python:9.9")
        e = cm.exception
        self.assertEqual(e.image, "llmcore-sandbox-python:9.9")
        self.assertEqual(sorted(e.available), ts.BUILTIN_REFS)
        self.assertIn("1.0.0", str(e))
        self.assertEqual(e.status, "not_found")
        self.assertFalse(self.reg.has_image("llmcore-sandbox-python:9.9"))
        self.assertFalse(self.reg.is_available_locally("llmcore-sandbox-python:9.9"))

    def test_get_unknown_name_is_not_found(self):
        with self.assertRaises(ImageNotFoundError) as cm:
            self.reg.get("no-such-image:1.0")
        self.assertEqual(cm.exception.image, "no-such-image:1.0")
        self.assertIn("llmcore-sandbox-base:1.0.0", cm.exception.available)

    def test_port_qualified_names_resolve_ignoring_the_registry_host(self):
        m = self.reg.get("localhost:5000/llmcore-sandbox-python:1.0.0")
        self.assertEqual(m.ref, "llmcore-sandbox-python:1.0.0")
        self.assertTrue(self.reg.has_image("registry.example.com:443/llmcore-sandbox-shell:1.0.0"))
        self.assertEqual(self.reg.get("registry.local/llmcore-sandbox-base").name,
                         "llmcore-sandbox-base")

    def test_invalid_reference_raises_registry_error_not_not_found(self):
        with self.assertRaises(ImageRegistryError) as cm:
            self.reg.get("Bad Reference!")
        self.assertNotIsInstance(cm.exception, ImageNotFoundError)
        self.assertFalse(self.reg.has_image("Bad Reference!"))
        self.assertIn("llmcore-sandbox-base:1.0.0", self.reg)

    def test_list_images_filters_by_tier_capabilities_and_availability(self):
        task = self.reg.list_images(tier=ImageTier.TASK)
        self.assertEqual([m.ref for m in task],
                         ["llmcore-sandbox-research:1.0.0", "llmcore-sandbox-websearch:1.0.0"])
        self.assertEqual([m.ref for m in self.reg.list_images(tier="specialized")],
                         ["llmcore-sandbox-nodejs:1.0.0", "llmcore-sandbox-python:1.0.0",
                          "llmcore-sandbox-shell:1.0.0"])
        py = self.reg.list_images(capabilities={"python", ImageCapability.BROWSER})
        self.assertEqual([m.ref for m in py], ["llmcore-sandbox-websearch:1.0.0"])
        self.assertEqual(self.reg.list_images(available_only=True), [])
        tiers = [list(ImageTier).index(m.tier) for m in self.reg.list_images()]
        self.assertEqual(tiers, sorted(tiers))
        with self.assertRaises(ValueError):
            self.reg.list_images(capabilities=["python", "warp_drive"])
        with self.assertRaises(ValueError):
            self.reg.list_images(tier="mega")

    def test_list_by_tier_groups_every_tier(self):
        groups = self.reg.list_by_tier()
        self.assertEqual(set(groups), set(ImageTier))
        self.assertEqual([m.name for m in groups[ImageTier.BASE]], ["llmcore-sandbox-base"])
        self.assertEqual(len(groups[ImageTier.SPECIALIZED]), 3)
        self.assertEqual(len(groups[ImageTier.TASK]), 2)

    def test_find_by_capability_returns_the_least_capable_match_or_none(self):
        self.assertEqual(self.reg.find_by_capability("python").ref,
                         "llmcore-sandbox-python:1.0.0")
        self.assertEqual(self.reg.find_by_capability(ImageCapability.JQ).ref,
                         "llmcore-sandbox-shell:1.0.0")
        self.assertEqual(self.reg.find_by_capability("shell", prefer_local=False).ref,
                         "llmcore-sandbox-base:1.0.0")
        self.assertIsNone(self.reg.find_by_capability(ImageCapability.RUST))

    def test_metadata_to_dict_is_exactly_the_c_json_form(self):
        import ctypes
        from llmcore_sandbox import _lib
        for ref in ts.BUILTIN_REFS:
            with self.subTest(ref=ref):
                info, err = _lib.ImageInfo(), _lib.Error()
                self.assertEqual(_lib.lib.lcs_registry_get(self.reg._handle, ref.encode(),
                                                           ctypes.byref(info),
                                                           ctypes.byref(err)), 0)
                try:
                    c_json = _lib.take_string(_lib.lib.lcs_image_info_to_json(
                        ctypes.byref(info), ctypes.byref(err)))
                finally:
                    _lib.lib.lcs_image_info_clear(ctypes.byref(info))
                # same keys, same order, same values
                self.assertEqual(json.dumps(self.reg.get(ref).to_dict()),
                                 json.dumps(json.loads(c_json)))

    def test_to_dict_describes_every_image(self):
        d = self.reg.to_dict()
        self.assertEqual(sorted(d["images"]), ts.BUILTIN_REFS)
        self.assertEqual(d["count"], 6)
        self.assertEqual(d["warnings"], [])
        self.assertEqual(d["images"]["llmcore-sandbox-base:1.0.0"]["manifest"]["name"],
                         "llmcore-sandbox-base")
        json.dumps(d)  # serialisable


class ImmutabilityTests(unittest.TestCase):
    def setUp(self):
        self.reg = ImageRegistry(scan_store=False)

    def tearDown(self):
        self.reg.close()

    def test_mutating_a_returned_manifest_does_not_change_the_registry(self):
        m = self.reg.get_manifest("llmcore-sandbox-shell")
        memory = m.resource_limits.memory_mb
        m.tools.append("rm-rf")
        m.capabilities = frozenset({ImageCapability.NETWORK})
        m.resource_limits.memory_mb = 999999
        m.environment["EVIL"] = "1"
        again = self.reg.get_manifest("llmcore-sandbox-shell")
        self.assertNotIn("rm-rf", again.tools)
        self.assertIn(ImageCapability.JQ, again.capabilities)
        self.assertEqual(again.resource_limits.memory_mb, memory)
        self.assertNotEqual(memory, 999999)
        self.assertNotIn("EVIL", again.environment)

    def test_mutating_returned_metadata_does_not_change_the_registry(self):
        meta = self.reg.get("llmcore-sandbox-base")
        meta.available_locally = True
        meta.builtin = False
        meta.manifest.name = "hacked"
        again = self.reg.get("llmcore-sandbox-base")
        self.assertFalse(again.available_locally)
        self.assertTrue(again.builtin)
        self.assertEqual(again.manifest.name, "llmcore-sandbox-base")

    def test_registering_over_a_builtin_raises_and_keeps_the_builtin(self):
        m = self.reg.get_manifest("llmcore-sandbox-python")
        m.default_access_mode = "full"
        with self.assertRaises(ImageExistsError) as cm:
            self.reg.register(m)
        self.assertEqual(cm.exception.status, "exists")
        self.assertEqual(self.reg.get_manifest("llmcore-sandbox-python").default_access_mode,
                         lcs.AccessMode.RESTRICTED)

    def test_two_registries_do_not_share_state(self):
        with ImageRegistry(scan_store=False) as other:
            self.assertTrue(other.unregister("llmcore-sandbox-nodejs"))
            self.assertFalse(other.has_image("llmcore-sandbox-nodejs"))
            self.assertTrue(self.reg.has_image("llmcore-sandbox-nodejs"))


class RegistrationTests(unittest.TestCase):
    def setUp(self):
        self.reg = ImageRegistry(scan_store=False)

    def tearDown(self):
        self.reg.close()

    def test_register_and_unregister_a_custom_manifest(self):
        m = ImageManifest.from_dict(ts.custom_manifest_dict())
        self.reg.register(m)
        self.assertEqual(self.reg.count, 7)
        meta = self.reg.get("custom-tool:2.0.0")
        self.assertEqual(meta.manifest, m)
        self.assertEqual(meta.source, "registered")
        self.assertFalse(meta.builtin)
        self.assertFalse(meta.available_locally)
        self.assertTrue(self.reg.unregister("custom-tool:2.0.0"))
        self.assertFalse(self.reg.unregister("custom-tool:2.0.0"))
        self.assertFalse(self.reg.has_image("custom-tool"))
        self.assertEqual(self.reg.count, 6)

    def test_registered_image_is_selected_by_capabilities(self):
        self.reg.register(ImageManifest.from_dict(ts.custom_manifest_dict()),
                          available_locally=True)
        self.assertTrue(self.reg.is_available_locally("custom-tool:2.0.0"))
        self.assertEqual(self.reg.find_by_capability("rust").ref, "custom-tool:2.0.0")
        sel = ImageSelector(self.reg)
        r = sel.select_for_capabilities([ImageCapability.RUST])
        self.assertEqual(r.image, "custom-tool:2.0.0")
        self.assertEqual(r.reason, "capability_match:rust")
        self.assertEqual(r.manifest.name, "custom-tool")
        self.assertEqual(r.access_mode, lcs.AccessMode.RESTRICTED)
        self.reg.unregister("custom-tool")
        r = sel.select_for_capabilities(["rust"])
        self.assertEqual((r.image, r.reason), ("llmcore-sandbox-python:1.0.0", "default"))

    def test_register_accepts_metadata_and_dicts_and_replaces_non_builtins(self):
        m = ImageManifest.from_dict(ts.custom_manifest_dict(version="1.0.0"))
        self.reg.register(ImageMetadata(m, available_locally=True))
        self.assertTrue(self.reg.get("custom-tool:1.0.0").available_locally)
        self.reg.register(ts.custom_manifest_dict(version="1.0.0", description="v2"))
        self.assertEqual(self.reg.get("custom-tool:1.0.0").manifest.description, "v2")
        self.assertFalse(self.reg.get("custom-tool:1.0.0").available_locally)
        self.reg.register(ts.custom_manifest_dict(version="1.10.0"))
        # a bare name means the highest version
        self.assertEqual(self.reg.get("custom-tool").version, "1.10.0")
        self.assertEqual(self.reg.count, 8)

    def test_register_rejects_an_invalid_manifest_with_problems(self):
        m = ImageManifest("custom-tool", "2.0.0", ImageTier.TASK, user="root")
        with self.assertRaises(ManifestValidationError) as cm:
            self.reg.register(m)
        self.assertEqual(len(cm.exception.problems), 2, cm.exception.problems)
        self.assertFalse(self.reg.has_image("custom-tool"))

    def test_closed_registry_raises_and_close_is_idempotent(self):
        r = ImageRegistry(scan_store=False)
        r.close()
        r.close()
        self.assertTrue(r.closed)
        with self.assertRaises(ImageRegistryError):
            r.get("llmcore-sandbox-base")
        r.__del__()  # safe after close


class StoreTests(unittest.TestCase):
    def setUp(self):
        self.store = ts.TempStore()

    def tearDown(self):
        self.store.cleanup()

    def test_store_images_are_scanned_with_rootfs_marking_local_availability(self):
        self.store.add("custom-tool", "2.0.0", ts.custom_manifest_dict(), rootfs=True)
        self.store.add("team/lint", "1.0", ts.custom_manifest_dict(
            name="team/lint", version="1.0", capabilities=["shell", "code_analysis"]))
        with ImageRegistry(store_dir=self.store.dir) as reg:
            self.assertEqual(reg.store_dir, self.store.dir)
            self.assertEqual(reg.count, 8)
            self.assertEqual(reg.warnings, [])
            tool = reg.get("custom-tool:2.0.0")
            self.assertTrue(tool.available_locally)
            self.assertEqual(tool.rootfs,
                             os.path.join(self.store.image_dir("custom-tool", "2.0.0"), "rootfs"))
            self.assertEqual(tool.source, os.path.join(
                self.store.image_dir("custom-tool", "2.0.0"), "capabilities.json"))
            lint = reg.get("team/lint:1.0")
            self.assertFalse(lint.available_locally)
            self.assertEqual([m.ref for m in reg.list_images(available_only=True)],
                             ["custom-tool:2.0.0"])

    def test_broken_store_manifest_is_skipped_with_a_warning(self):
        self.store.add("broken-img", "1.0.0", '{"name": "broken-img", "version": ')
        self.store.add("invalid-img", "1.0.0", {"name": "invalid-img", "version": "1.0.0"})
        self.store.add("custom-tool", "2.0.0", ts.custom_manifest_dict())
        with ImageRegistry(store_dir=self.store.dir) as reg:
            self.assertFalse(reg.has_image("broken-img"))
            self.assertFalse(reg.has_image("invalid-img"))
            self.assertTrue(reg.has_image("custom-tool:2.0.0"))
            w = reg.warnings
            self.assertEqual(len(w), 2, w)
            self.assertTrue(any("broken-img" in x for x in w))
            self.assertTrue(any("invalid-img" in x for x in w))

    def test_store_manifest_naming_another_image_is_skipped(self):
        self.store.add("custom-tool", "9.9.9", ts.custom_manifest_dict())
        with ImageRegistry(store_dir=self.store.dir) as reg:
            self.assertFalse(reg.has_image("custom-tool"))
            self.assertEqual(len(reg.warnings), 1)
            self.assertIn("custom-tool", reg.warnings[0])

    def test_built_builtin_in_the_store_becomes_available_locally(self):
        with open(ts.repo_path(ts.SHIPPED_MANIFESTS["llmcore-sandbox-python"])) as f:
            text = f.read()
        self.store.add("llmcore-sandbox-python", "1.0.0", text, rootfs=True)
        with ImageRegistry(store_dir=self.store.dir) as reg:
            meta = reg.get("llmcore-sandbox-python")
            self.assertTrue(meta.builtin)
            self.assertTrue(meta.available_locally)
            self.assertEqual(reg.count, 6)
            self.assertEqual(reg.warnings, [])
            # prefer_local ranks the local image first
            self.assertEqual(reg.find_by_capability("shell").ref,
                             "llmcore-sandbox-python:1.0.0")

    def test_refresh_counts_store_images_and_tracks_changes(self):
        with ImageRegistry(store_dir=self.store.dir) as reg:
            self.assertEqual(reg.refresh(), 0)
            self.store.add("custom-tool", "2.0.0", ts.custom_manifest_dict(), rootfs=True)
            self.assertEqual(reg.refresh(), 1)
            self.assertTrue(reg.is_available_locally("custom-tool:2.0.0"))
            shutil.rmtree(os.path.join(self.store.image_dir("custom-tool", "2.0.0"), "rootfs"))
            self.assertEqual(reg.refresh(), 1)
            self.assertFalse(reg.is_available_locally("custom-tool:2.0.0"))
            shutil.rmtree(self.store.image_dir("custom-tool", "2.0.0"))
            self.assertEqual(reg.refresh(), 0)
            self.assertFalse(reg.has_image("custom-tool"))
            self.assertEqual(reg.count, 6)

    def test_scan_store_false_ignores_the_store(self):
        self.store.add("custom-tool", "2.0.0", ts.custom_manifest_dict())
        with ImageRegistry(store_dir=self.store.dir, scan_store=False) as reg:
            self.assertFalse(reg.has_image("custom-tool"))
            self.assertEqual(reg.refresh(), 0)

    def test_store_directory_comes_from_the_environment_by_default(self):
        code = ("import llmcore_sandbox as l; r = l.ImageRegistry(); "
                "print(r.store_dir); print(r.has_image('custom-tool:2.0.0'))")
        self.store.add("custom-tool", "2.0.0", ts.custom_manifest_dict())
        p = ts.run_python(code, {"LLMCORE_SANDBOX_STORE": self.store.dir})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split(), [self.store.dir, "True"])


if __name__ == "__main__":
    unittest.main()
