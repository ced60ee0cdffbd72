#!/bin/sh
# native-build.sh - build one image without a container engine.
#
#   native-build.sh [options] IMAGE_DIR
#     --version V        image version/tag (default: the manifest's)
#     --store DIR        image store (default: $LLMCORE_SANDBOX_STORE, else
#                        /var/lib/llmcore-sandbox for root)
#     --suite S          Debian suite of the base (default trixie)
#     --mirror URL       Debian mirror (default http://deb.debian.org/debian)
#     --keep-parent-tag  use the manifest's parent tag as written (custom
#                        images) instead of the build's version
#     --no-verify        skip the probes (never used by make)
#     --force            rebuild even if nothing changed
#
# IMAGE_DIR holds recipe.sh and capabilities.json. A base image (no parent)
# is bootstrapped with mmdebstrap; any other image applies its recipe to its
# parent, which must already be in the store. The result:
#   <store>/images/<name>/<tag>/rootfs/            unpacked, ids shifted +100000
#   <store>/images/<name>/<tag>/capabilities.json  manifest (version applied,
#                                                  real tool versions recorded)
#   <store>/images/<name>/<tag>/oci/               OCI image layout
#   <store>/images/<name>/<tag>/build.hash         what it was built from
#   <store>/images/<name>/<tag>/build.log, probes.txt
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
LIB=$TOP/container_images/lib
TOOL="python3 $HERE/imagetool.py"
HOST_BASE=100000

VERSION='' STORE=${LLMCORE_SANDBOX_STORE:-} SUITE=${SUITE:-trixie}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
KEEP_PARENT_TAG='' VERIFY=1 FORCE=0
while [ $# -gt 0 ]; do
    case "$1" in
    --version) VERSION=$2 && shift 2 ;;
    --store) STORE=$2 && shift 2 ;;
    --suite) SUITE=$2 && shift 2 ;;
    --mirror) MIRROR=$2 && shift 2 ;;
    --keep-parent-tag) KEEP_PARENT_TAG=--keep-parent-tag && shift ;;
    --no-verify) VERIFY=0 && shift ;;
    --force) FORCE=1 && shift ;;
    -*) echo "native-build: unknown option $1" >&2 && exit 2 ;;
    *) break ;;
    esac
done
[ $# = 1 ] || {
    echo "usage: native-build.sh [--version V] [--store DIR] [--suite S] [--force] IMAGE_DIR" >&2
    exit 2
}
SRC=$(cd "$1" && pwd)
[ -f "$SRC/recipe.sh" ] || { echo "native-build: $SRC/recipe.sh missing" >&2; exit 1; }
[ -f "$SRC/capabilities.json" ] || { echo "native-build: $SRC/capabilities.json missing" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "native-build: run as root (the image store and id shifting need it)" >&2; exit 1; }
if [ -z "$STORE" ]; then STORE=/var/lib/llmcore-sandbox; fi
"$HERE/preflight.sh"

[ -n "$VERSION" ] || VERSION=$($TOOL field "$SRC/capabilities.json" version)
CACHE=${LCS_APT_CACHE:-/var/cache/llmcore-sandbox/apt/$SUITE}
mkdir -p "$STORE/images" "$STORE/tmp" "$CACHE"
# Sandboxes run as host ids 100000+: they must be able to reach the rootfs.
chmod a+rx "$STORE" "$STORE/images" "$STORE/tmp"

TMP=$(mktemp -d "$STORE/tmp/build.XXXXXX")
chmod 0755 "$TMP"
# LCS_KEEP_FAILED=1 keeps a failed build's directory for inspection.
cleanup() { [ "${LCS_KEEP_FAILED:-0}" = 1 ] && [ ! -e "$TMP/.ok" ] && echo "native-build: kept $TMP" >&2 || rm -rf "$TMP"; }
trap cleanup EXIT INT TERM

CTX=$TMP/context
mkdir "$CTX"
$TOOL manifest "$SRC/capabilities.json" "$VERSION" "$CTX/capabilities.json" $KEEP_PARENT_TAG
cp "$LIB/recipe-lib.sh" "$SRC/recipe.sh" "$CTX/"
$TOOL list "$CTX/capabilities.json" tools >"$CTX/tools.txt"
# The host's CA bundle, for downloads the recipe checks by checksum anyway
# (see lcs_fetch_verified); never part of the image.
[ ! -s /etc/ssl/certs/ca-certificates.crt ] || cp /etc/ssl/certs/ca-certificates.crt "$CTX/build-ca.crt"
chmod -R a+rX "$CTX"

NAME=$($TOOL field "$CTX/capabilities.json" name)
PARENT=$($TOOL field "$CTX/capabilities.json" parent_image)
DEST=$STORE/images/$(printf '%s' "$NAME" | tr / +)/$VERSION
REF=$NAME:$VERSION
START=$(date +%s)
step() { printf '[native-build] %s [%ss] %s\n' "$REF" "$(($(date +%s) - START))" "$*"; }

PDIR=
if [ -n "$PARENT" ]; then
    pname=${PARENT%:*} ptag=${PARENT##*:}
    PDIR=$STORE/images/$(printf '%s' "$pname" | tr / +)/$ptag
    for f in rootfs oci build.hash; do
        [ -e "$PDIR/$f" ] || {
            echo "native-build: parent image $PARENT is not built in $STORE ($PDIR/$f missing); build it first" >&2
            exit 1
        }
    done
fi

# Two package caches (never in an image): mmdebstrap's, owned by root, and
# the recipes', owned by the build sandbox's root (host id 100000).
# What this image is built from: a change to any of these rebuilds it (and,
# through build.hash, every image below it).
HASH=$({
    echo "native-builder 1 suite=$SUITE mirror=$MIRROR"
    cat "$CTX/recipe-lib.sh" "$CTX/recipe.sh" "$CTX/capabilities.json"
    [ -z "$PDIR" ] || cat "$PDIR/build.hash"
} | sha256sum | cut -d' ' -f1)
if [ "$FORCE" = 0 ] && [ -d "$DEST/rootfs" ] && [ -f "$DEST/build.hash" ] &&
    [ "$(cat "$DEST/build.hash")" = "$HASH" ]; then
    step "up to date (build.hash $(echo "$HASH" | cut -c1-12))"
    exit 0
fi

LOG=$TMP/build.log
: >"$LOG"
# Run a build command: everything goes to the log; the terminal sees the
# recipe's own messages and apt's progress lines.
logged() {
    rcf=$TMP/rc
    { "$@" 2>&1 || echo $? >"$rcf"; } | tee -a "$LOG" |
        grep --line-buffered -E '^\[recipe\]|^Get:[0-9]+ .*(InRelease|Packages)|^Unpacking |^Setting up |^E: |^I: |ERROR|error' |
        sed -u 's/^/    /' || true
    if [ -f "$rcf" ]; then
        rc=$(cat "$rcf")
        rm -f "$rcf"
        echo "native-build: $REF failed (exit $rc); full log: $DEST.failed.log" >&2
        mkdir -p "$(dirname "$DEST")"
        cp "$LOG" "$DEST.failed.log"
        exit 1
    fi
}

if [ -z "$PARENT" ]; then
    include=$(sed -n 's/^# bootstrap: //p' "$SRC/recipe.sh" | tr ' ' ',')
    [ -n "$include" ] || { echo "native-build: base recipe has no '# bootstrap:' line" >&2; exit 1; }
    step "[1/5] bootstrapping Debian $SUITE with mmdebstrap (minbase + $include)"
    sec=$(dirname "$MIRROR")/debian-security
    mkdir -p "$CACHE/bootstrap"
    logged mmdebstrap --mode=unshare --variant=minbase --format=tar --include="$include" \
        --skip=download/empty --skip=essential/unlink \
        --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
        --setup-hook="sync-in $CACHE/bootstrap /var/cache/apt/archives/" \
        --customize-hook="sync-out /var/cache/apt/archives $CACHE/bootstrap" \
        "$SUITE" "$TMP/bootstrap.tar" \
        "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" "deb $sec $SUITE-security main"
    mkdir "$TMP/lower"
    chown $HOST_BASE:$HOST_BASE "$TMP/lower"
    # Unpack inside a user namespace with the runtime's mapping, so that the
    # files get host ids shifted by 100000 (no device nodes: the runtime
    # provides /dev).
    unshare --map-users=$HOST_BASE,0,65536 --map-groups=$HOST_BASE,0,65536 --setuid 0 --setgid 0 \
        tar -C "$TMP/lower" -xpf "$TMP/bootstrap.tar" --numeric-owner --exclude='./dev/*'
    rm -f "$TMP/bootstrap.tar"
    LOWER=$TMP/lower
else
    step "[1/5] parent $PARENT ($(du -sh "$PDIR/rootfs" | cut -f1))"
    LOWER=$PDIR/rootfs
fi

step "[2/5] running recipe $(basename "$(dirname "$SRC")")/$(basename "$SRC")/recipe.sh in a build sandbox"
logged "$HERE/build-step.sh" "$LOWER" "$TMP/upper" "$CTX" "$TMP/rootfs" "$CACHE/recipes" -- \
    /bin/sh /tmp/llmcore-build/recipe.sh

step "[3/5] hardening checks"
suid=$(find "$TMP/rootfs" -xdev -type f -perm /6000 | sed "s|^$TMP/rootfs||")
[ -z "$suid" ] || { echo "native-build: SUID/SGID files in $REF: $suid" >&2; exit 1; }
caps=$(getcap -r "$TMP/rootfs" 2>/dev/null || true)
[ -z "$caps" ] || { echo "native-build: file capabilities in $REF: $caps" >&2; exit 1; }
debs=$(find "$TMP/rootfs/var/cache/apt" "$TMP/rootfs/var/lib/apt/lists" -type f \( -name '*.deb' -o -name '*_Packages*' \) 2>/dev/null | head -n 3)
[ -z "$debs" ] || { echo "native-build: package caches left in $REF: $debs" >&2; exit 1; }
[ "$(stat -c %u:%g "$TMP/rootfs/home/sandbox")" = "$((HOST_BASE + 1000)):$((HOST_BASE + 1000))" ] ||
    { echo "native-build: /home/sandbox is not owned by the sandbox user (host id $((HOST_BASE + 1000)))" >&2; exit 1; }
[ "$(stat -c %u:%g:%a "$TMP/rootfs/etc/llmcore/capabilities.json")" = "$HOST_BASE:$HOST_BASE:644" ] ||
    { echo "native-build: /etc/llmcore/capabilities.json is not root-owned 0644" >&2; exit 1; }

if [ "$VERIFY" = 1 ]; then
    step "[4/5] verification probes inside the image (native runtime)"
    if ! "$HERE/verify-image.sh" "$TMP/rootfs" "$CTX/capabilities.json" "$TMP/probes.txt" 2>>"$LOG"; then
        sed 's/^/    /' "$TMP/probes.txt"
        mkdir -p "$(dirname "$DEST")"
        cp "$LOG" "$DEST.failed.log"
        echo "native-build: $REF FAILED verification (see the FAIL lines above)" >&2
        exit 1
    fi
    sed 's/^/    /' "$TMP/probes.txt"
    base_desc=$(. "$TMP/rootfs/etc/os-release" && echo "$PRETTY_NAME")
    $TOOL record "$CTX/capabilities.json" "$TMP/probes.txt" --base "$base_desc"
    # The in-image manifest carries the recorded versions too.
    for d in "$TMP/rootfs" "$TMP/upper"; do
        install -m 0644 -o $HOST_BASE -g $HOST_BASE "$CTX/capabilities.json" "$d/etc/llmcore/capabilities.json"
    done
else
    step "[4/5] verification skipped (--no-verify)"
    : >"$TMP/probes.txt"
fi

step "[5/5] writing the OCI image layout"
if [ -z "$PARENT" ]; then
    $TOOL oci --out "$TMP/oci" --manifest "$CTX/capabilities.json" --tag "$VERSION" \
        --layer-from "$TMP/rootfs" --exclude-dev | sed 's/^/    /'
else
    $TOOL oci --out "$TMP/oci" --manifest "$CTX/capabilities.json" --tag "$VERSION" \
        --layer-from "$TMP/upper" --whiteouts --parent-oci "$PDIR/oci" | sed 's/^/    /'
fi

# Install into the store: the old image (if any) is replaced as a whole.
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST.new" "$DEST.old" "$DEST.failed.log"
mkdir "$DEST.new"
mv "$TMP/rootfs" "$TMP/oci" "$DEST.new/"
: >"$TMP/.ok"
cp "$CTX/capabilities.json" "$DEST.new/capabilities.json"
cp "$TMP/probes.txt" "$DEST.new/probes.txt"
cp "$LOG" "$DEST.new/build.log"
echo "$HASH" >"$DEST.new/build.hash"
[ ! -e "$DEST" ] || mv "$DEST" "$DEST.old"
mv "$DEST.new" "$DEST"
rm -rf "$DEST.old"
size=$(du -sh "$DEST/rootfs" | cut -f1)
step "built: $DEST (rootfs $size, $(($(date +%s) - START)) s)"
