#!/bin/sh
# static.sh - checks of built images that need no sandbox run: ownership
# (host ids shifted by 100000), no SUID/SGID, no file capabilities, no
# package caches, no compiler, the manifest in the image (root-owned 0644,
# VERSION applied, parent tag = VERSION), OCI layout and labels, and the CLI
# listing the image as available.
#   VERSION=1.0.0 STORE=/var/lib/llmcore-sandbox tests/images/static.sh [IMAGE...]
set -u
. "$(dirname "$0")/lib.sh"
list=${*:-$IMAGES}
for i in $list; do
    d=$(image_dir "$i")
    r=$d/rootfs
    if ! built "$i"; then
        skip "$i.static" "not built in $STORE"
        continue
    fi
    [ "$(stat -c %u:%g "$r")" = 100000:100000 ] && [ "$(stat -c %u:%g "$r/usr/bin/bash")" = 100000:100000 ] &&
        [ "$(stat -c %u:%g "$r/home/sandbox")" = 101000:101000 ] &&
        [ "$(stat -c %u:%g "$r/home/sandbox/work")" = 101000:101000 ] &&
        pass "$i.ownership" || fail "$i.ownership" "rootfs not owned by 100000 or /home/sandbox not by 101000"
    s=$(find "$r" -xdev -type f -perm /6000 2>/dev/null | sed "s|^$r||" | head -n 5)
    [ -z "$s" ] && pass "$i.no-suid-sgid" || fail "$i.no-suid-sgid" "$s"
    c=$(getcap -r "$r" 2>/dev/null | head -n 3)
    [ -z "$c" ] && pass "$i.no-file-capabilities" || fail "$i.no-file-capabilities" "$c"
    k=$(find "$r/var/cache/apt" "$r/var/lib/apt/lists" -type f \( -name '*.deb' -o -name '*Packages*' -o -name '*Release*' \) 2>/dev/null | head -n 3)
    [ -z "$k" ] && pass "$i.no-package-cache" || fail "$i.no-package-cache" "$k"
    cc=
    for b in gcc cc c++ g++ clang tcc x86_64-linux-gnu-gcc; do
        [ -e "$r/usr/bin/$b" ] && cc="$cc $b"
    done
    [ -z "$cc" ] && pass "$i.no-compiler" || fail "$i.no-compiler" "found:$cc"
    m=$r/etc/llmcore/capabilities.json
    [ "$(stat -c %u:%g:%a "$m" 2>/dev/null)" = 100000:100000:644 ] && pass "$i.manifest-in-image" ||
        fail "$i.manifest-in-image" "$m missing or not root-owned 0644"
    v=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); p=d.get("parent_image") or ""
print(d["version"], p.rsplit(":",1)[-1] if p else "-", "x-tool-versions" in d)' "$m" 2>&1)
    case "$i" in base) want="$VERSION - True" ;; *) want="$VERSION $VERSION True" ;; esac
    [ "$v" = "$want" ] && pass "$i.manifest-version" || fail "$i.manifest-version" "got '$v', want '$want'"
    "$CLI" manifest validate "$m" >/dev/null 2>&1 && pass "$i.manifest-valid" ||
        fail "$i.manifest-valid" "$("$CLI" manifest validate "$m" 2>&1 | tail -n 2)"
    l=$(python3 - "$d/oci" "$VERSION" "$i" <<'PY' 2>&1
import json, os, sys, hashlib
oci, version, img = sys.argv[1:4]
def blob(dg):
    p = os.path.join(oci, "blobs", "sha256", dg.split(":")[1])
    data = open(p, "rb").read()
    assert hashlib.sha256(data).hexdigest() == dg.split(":")[1], "digest mismatch " + dg
    return data
idx = json.load(open(os.path.join(oci, "index.json")))
assert json.load(open(os.path.join(oci, "oci-layout")))["imageLayoutVersion"] == "1.0.0"
desc = idx["manifests"][0]
assert desc["annotations"]["org.opencontainers.image.ref.name"] == version
man = json.loads(blob(desc["digest"]))
cfg = json.loads(blob(man["config"]["digest"]))
for l in man["layers"]:
    assert os.path.getsize(os.path.join(oci, "blobs", "sha256", l["digest"].split(":")[1])) == l["size"]
lab = cfg["config"]["Labels"]
assert lab["org.llmcore.image.name"] == "llmcore-sandbox-" + img, lab
assert lab["org.llmcore.image.version"] == version, lab["org.llmcore.image.version"]
if img != "base":
    assert lab["org.llmcore.image.parent"].endswith(":" + version), lab["org.llmcore.image.parent"]
assert cfg["config"]["User"] == "sandbox" and cfg["config"]["WorkingDir"] == "/home/sandbox/work"
assert len(cfg["rootfs"]["diff_ids"]) == len(man["layers"])
print("ok", len(man["layers"]))
PY
)
    case "$l" in ok*) pass "$i.oci-layout-and-labels" ;; *) fail "$i.oci-layout-and-labels" "$l" ;; esac
    "$CLI" --store "$STORE" images --json 2>/dev/null | python3 -c '
import json, sys
ref = sys.argv[1]
doc = json.load(sys.stdin)
items = doc if isinstance(doc, list) else doc.get("images", doc.get("items", []))
ok = any((it.get("ref") == ref or "%s:%s" % (it.get("name"), it.get("version")) == ref) and it.get("available_locally") for it in items)
sys.exit(0 if ok else 1)' "$PREFIX-$i:$VERSION" && pass "$i.cli-lists-available" ||
        fail "$i.cli-lists-available" "llmcore-sandbox images does not show $PREFIX-$i:$VERSION as available"
done
summary
