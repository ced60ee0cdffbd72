#!/bin/bash
# import.sh - llmcore-sandbox images import: the built base image's OCI
# layout and a docker-archive of it come back as the same rootfs and run;
# hostile layers (symlinks out of the root, "..", set-uid files, devices,
# file capabilities, owners past 65535) are confined or stripped, checked
# on the host and from inside the sandbox; whiteouts apply; bad input is
# refused with the store unchanged.
#   VERSION=1.0.0 STORE=... tests/images/import.sh
set -u
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { skip import "needs root (the store's ids are shifted)"; summary; exit $?; }
command -v skopeo >/dev/null || { fail import "skopeo is not installed (scripts/install-deps.sh installs it)"; summary; exit 1; }
D=$(mktemp -d /tmp/lcs-import.XXXXXX)
HOSTDIR=/tmp/lcs-import-host
trap 'rm -rf "$D" "$HOSTDIR" /etc/lcs-planted /escaped' EXIT
chmod 755 "$D"
TS=$D/store # a store of its own: nothing here touches the shared one
mkdir -p "$TS" "$HOSTDIR"
I() { "$CLI" --store "$TS" "$@"; }
listing() { (cd "$1" && find . -printf '%p %u %g %m %s %l\n' | LC_ALL=C sort); }

# --- the built base image, from its OCI layout and as a docker-archive
if built base; then
    OCI="$(image_dir base)/oci"
    if out=$(I images import "oci:$OCI:$VERSION" --name imported-base --json 2>&1); then
        pass import.oci-layout
        printf '%s' "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["image"] == "imported-base:'"$VERSION"'", r
assert {"shell", "filesystem", "curl"} <= set(r["capabilities"]), r
assert {"bash", "curl", "tar"} <= set(r["tools"]), r
assert r["probe"] == "ok" and r["layers"] >= 1, r' 2>&1 && pass import.capabilities-probed ||
            fail import.capabilities-probed "$out"
        # the same tree as the built rootfs: names, owners, modes, sizes,
        # link targets (the manifest and set-id bits aside)
        d=$(diff <(listing "$(image_dir base)/rootfs") <(listing "$TS/images/imported-base/$VERSION/rootfs") 2>&1 |
            grep '^[<>]' | grep -v -e 'etc/llmcore/capabilities.json' -e '^. \./var/mail ')
        [ -z "$d" ] && pass import.same-tree-as-built || fail import.same-tree-as-built "$(printf '%s' "$d" | head -5)"
        expect import.runs-as-1000 '^1000 /home/sandbox/work$' \
            "$CLI" --store "$TS" run --image "imported-base:$VERSION" -- sh -c 'echo "$(id -u) $PWD"'
        I images 2>&1 | grep -q "^imported-base:$VERSION .* yes" && pass import.listed ||
            fail import.listed "$(I images 2>&1 | tail -3)"
    else
        fail import.oci-layout "$out"
    fi
    if skopeo copy -q "oci:$OCI:$VERSION" "docker-archive:$D/base-archive.tar" 2>"$D/sk.err"; then
        expect import.docker-archive-path "imported base-archive:0.0.0-latest" I images import "$D/base-archive.tar"
        expect import.docker-archive-runs '^ok$' "$CLI" --store "$TS" run --image base-archive -- echo ok
    else
        fail import.docker-archive-path "skopeo: $(cat "$D/sk.err")"
    fi
    # the name is taken: refused, then replaced with --force
    out=$(I images import "oci:$OCI:$VERSION" --name imported-base 2>&1)
    [ $? = 1 ] && printf '%s' "$out" | grep -q 'already in the store (--force replaces it)' &&
        pass import.existing-refused || fail import.existing-refused "$out"
    expect import.force-replaces "imported imported-base:$VERSION" I images import "oci:$OCI:$VERSION" --name imported-base --force
    out=$(I images import "oci:$OCI:$VERSION" --name "$PREFIX-base" 2>&1)
    [ $? = 1 ] && printf '%s' "$out" | grep -q "builtin image's name" && pass import.builtin-name-refused ||
        fail import.builtin-name-refused "$out"
else
    skip import.oci-layout "$PREFIX-base:$VERSION not built"
fi

# --- hostile layers on the busybox fixture
"$TOP/tests/fixtures/mkrootfs.sh" "$D/bb" >/dev/null
python3 "$TOP/tests/images/mkoci.py" "$D/hostile" hostile "$D/bb"
if out=$(I images import "$D/hostile" --name hostile:1.0 --json 2>&1); then
    pass import.hostile-layers-import
    R=$TS/images/hostile/1.0/rootfs
    [ ! -e "$HOSTDIR/planted" ] && [ ! -e "$HOSTDIR/planted2" ] && [ ! -e /etc/lcs-planted ] &&
        [ -f "$R/tmp/lcs-import-host/planted" ] && [ -f "$R/tmp/lcs-import-host/planted2" ] && [ -f "$R/etc/lcs-planted" ] &&
        pass import.symlinks-resolve-inside-the-root ||
        fail import.symlinks-resolve-inside-the-root "$(ls -la "$HOSTDIR" /etc/lcs-planted "$R/tmp" 2>&1 | tr '\n' ' ')"
    [ "$(stat -c %i "$R/hardlink-hostname" 2>/dev/null)" = "$(stat -c %i "$R/etc/hostname")" ] &&
        [ "$(stat -c %i "$R/etc/hostname")" != "$(stat -c %i /etc/hostname)" ] &&
        pass import.hardlink-resolves-inside-the-root || fail import.hardlink-resolves-inside-the-root "$(ls -li "$R/hardlink-hostname" "$R/etc/hostname" 2>&1)"
    [ "$(stat -c %a "$R/usr/bin/suid-root")" = 755 ] && [ "$(stat -c %a "$R/usr/bin/sgid")" = 755 ] &&
        [ -z "$(find "$R" -xdev -perm /6000 2>/dev/null)" ] && printf '%s' "$out" | grep -q '"setid_cleared": *[2-9]' &&
        pass import.setid-bits-cleared || fail import.setid-bits-cleared "$(find "$R" -perm /6000) $out"
    [ ! -e "$R/dev/mem-again" ] && [ ! -e "$R/fifo" ] && printf '%s' "$out" | grep -q '"special_skipped": *2' &&
        pass import.devices-and-fifos-not-created || fail import.devices-and-fifos-not-created "$(ls -la "$R/dev" "$R/fifo" 2>&1) $out"
    # the layer does carry the capability; the imported file does not
    xa=$(python3 - "$D/hostile" "$R/usr/bin/capped" <<'PY' 2>&1
import errno, glob, gzip, io, os, sys, tarfile
carried = False
for b in glob.glob(os.path.join(sys.argv[1], "blobs", "sha256", "*")):
    try:
        t = tarfile.open(fileobj=io.BytesIO(gzip.open(b).read()))
    except (OSError, tarfile.TarError):
        continue
    for m in t.getmembers():
        if m.name == "usr/bin/capped" and "SCHILY.xattr.security.capability" in m.pax_headers:
            carried = True
assert carried, "the test layer lost its xattr"
try:
    os.getxattr(sys.argv[2], "security.capability")
    print("kept")
except OSError as e:
    print("dropped" if e.errno == errno.ENODATA else "error %s" % e)
PY
)
    [ "$xa" = dropped ] && pass import.file-capabilities-dropped || fail import.file-capabilities-dropped "$xa"
    [ "$(stat -c %u:%g "$R/bigowner")" = "165534:165534" ] && [ "$(stat -c %u "$R/usr/bin/suid-root")" = 100000 ] &&
        pass import.owners-shifted-and-clamped || fail import.owners-shifted-and-clamped "$(stat -c '%n %u:%g' "$R/bigowner" "$R/usr/bin/suid-root")"
    [ ! -e "$R/gone" ] && [ "$(ls "$R/opaque")" = new ] && [ -f "$R/file-then-dir/inside" ] &&
        pass import.whiteouts-and-opaque-dirs || fail import.whiteouts-and-opaque-dirs "$(ls -la "$R" "$R/opaque" 2>&1 | tr '\n' ' ')"
    [ -f "$R/café-ü.txt" ] && pass import.non-ascii-names || fail import.non-ascii-names "$(ls "$R")"
    # from inside: what the sandbox sees of it
    expect import.hostile-inside-no-setid-no-escape '^ok 1000 0$' "$CLI" --store "$TS" run --image hostile:1.0 -- sh -c \
        'n=$(find / -xdev -perm /6000 2>/dev/null | wc -l); [ -f /tmp/lcs-import-host/planted ] || [ -f /etc/lcs-planted ] && echo "ok $(id -u) $n"'
else
    fail import.hostile-layers-import "$out"
fi

# --- refused, with the store unchanged
before=$(listing "$TS")
python3 "$TOP/tests/images/mkoci.py" "$D/escape" escape "$D/bb"
out=$(I images import "$D/escape" --name escape:1.0 2>&1)
[ $? != 0 ] && printf '%s' "$out" | grep -q 'escapes the image root' && [ ! -e /escaped ] && [ ! -e "$TS/escaped" ] &&
    [ ! -e "$TS/images/escape" ] && pass import.dotdot-member-refused || fail import.dotdot-member-refused "$out"
python3 "$TOP/tests/images/mkoci.py" "$D/corrupt" corrupt "$D/bb"
out=$(I images import "$D/corrupt" --name corrupt:1.0 2>&1)
[ $? != 0 ] && printf '%s' "$out" | grep -q 'layer 2 of 2' && [ ! -e "$TS/images/corrupt" ] &&
    pass import.corrupt-layer-refused || fail import.corrupt-layer-refused "$out"
[ "$(listing "$TS")" = "$before" ] && [ -z "$(ls -A "$TS/tmp" 2>/dev/null)" ] && pass import.failures-leave-the-store-unchanged ||
    fail import.failures-leave-the-store-unchanged "$(diff <(printf '%s\n' "$before") <(listing "$TS") | head -5)"
out=$(I images import "bogus:thing" 2>&1); rc=$?
[ $rc = 4 ] && printf '%s' "$out" | grep -q 'unknown transport' && pass import.unknown-transport-is-4 || fail import.unknown-transport-is-4 "$rc $out"
out=$(I images import "$D/nowhere" 2>&1); rc=$?
[ $rc = 3 ] && printf '%s' "$out" | grep -q "$D/nowhere" && pass import.missing-source-is-3 || fail import.missing-source-is-3 "$rc $out"
out=$(I images import "$D/bb" 2>&1); rc=$?
[ $rc = 4 ] && printf '%s' "$out" | grep -q 'without an oci-layout' && pass import.plain-directory-is-4 || fail import.plain-directory-is-4 "$rc $out"
out=$(I images import "$D/hostile" --name 'Bad Name' 2>&1); rc=$?
[ $rc = 4 ] && printf '%s' "$out" | grep -q 'not a valid image name' && pass import.bad-name-is-4 || fail import.bad-name-is-4 "$rc $out"

# --- an image without a shell imports, with nothing claimed for it
python3 "$TOP/tests/images/mkoci.py" "$D/noshell" noshell
if out=$(I images import "$D/noshell" --json 2>&1); then
    printf '%s' "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["capabilities"] == [] and r["tools"] == [], r
assert r["probe"].startswith("no shell ran"), r' 2>&1 && pass import.no-shell-claims-nothing || fail import.no-shell-claims-nothing "$out"
else
    fail import.no-shell-claims-nothing "$out"
fi
summary
