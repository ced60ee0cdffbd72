#!/bin/sh
# engine-build.sh - build one image with a container engine (docker or
# podman) from the same recipe the native builder uses.
#
#   engine-build.sh [--engine docker|podman] [--version V] [--base-image REF]
#                   [--keep-parent-tag] [--no-verify] IMAGE_DIR
#
# Generates a Dockerfile from the manifest (FROM the base image or the
# parent at the build's version; LABEL, ENV, USER, WORKDIR, HEALTHCHECK from
# the manifest), copies the recipe context in and RUNs the recipe, then runs
# the verification probes in the built image and removes the tag again if a
# probe fails. On podman it passes --runtime runc and explicit ulimits
# (crun refuses hybrid cgroup layouts; root may lack CAP_SYS_RESOURCE) and
# --format docker (OCI images cannot carry HEALTHCHECK), or
# whatever ENGINE_FLAGS says.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
LIB=$TOP/container_images/lib
TOOL="python3 $HERE/imagetool.py"

ENGINE=docker VERSION='' BASE_IMAGE=ubuntu:24.04 KEEP='' VERIFY=1
while [ $# -gt 0 ]; do
    case "$1" in
    --engine) ENGINE=$2 && shift 2 ;;
    --version) VERSION=$2 && shift 2 ;;
    --base-image) BASE_IMAGE=$2 && shift 2 ;;
    --keep-parent-tag) KEEP=--keep-parent-tag && shift ;;
    --no-verify) VERIFY=0 && shift ;;
    -*) echo "engine-build: unknown option $1" >&2 && exit 2 ;;
    *) break ;;
    esac
done
[ $# = 1 ] || { echo "usage: engine-build.sh [--engine E] [--version V] [--base-image REF] IMAGE_DIR" >&2; exit 2; }
SRC=$(cd "$1" && pwd)
command -v "$ENGINE" >/dev/null 2>&1 || { echo "engine-build: $ENGINE not found (apt-get install podman)" >&2; exit 1; }
if [ -z "${ENGINE_FLAGS+x}" ]; then
    case "$ENGINE" in
    # --format docker: the OCI image format has no HEALTHCHECK.
    podman) ENGINE_FLAGS="--format docker --runtime runc --ulimit nofile=20000:20000 --ulimit nproc=32768:32768" ;;
    *) ENGINE_FLAGS= ;;
    esac
fi
RUN_FLAGS=
[ "$ENGINE" != podman ] || RUN_FLAGS="--health-cmd none --runtime runc --ulimit nofile=20000:20000 --ulimit nproc=32768:32768"

[ -n "$VERSION" ] || VERSION=$($TOOL field "$SRC/capabilities.json" version)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir "$TMP/context"
$TOOL manifest "$SRC/capabilities.json" "$VERSION" "$TMP/context/capabilities.json" $KEEP
cp "$LIB/recipe-lib.sh" "$SRC/recipe.sh" "$TMP/context/"
$TOOL list "$TMP/context/capabilities.json" tools >"$TMP/context/tools.txt"
[ ! -s /etc/ssl/certs/ca-certificates.crt ] || cp /etc/ssl/certs/ca-certificates.crt "$TMP/context/build-ca.crt"
NAME=$($TOOL field "$TMP/context/capabilities.json" name)
PARENT=$($TOOL field "$TMP/context/capabilities.json" parent_image)
FROM=${PARENT:-$BASE_IMAGE}
REF=$NAME:$VERSION
$TOOL dockerfile "$TMP/context/capabilities.json" --from "$FROM" >"$TMP/Dockerfile"

echo "[engine-build] $REF: $ENGINE build FROM $FROM"
# shellcheck disable=SC2086
"$ENGINE" build $ENGINE_FLAGS -t "$REF" -f "$TMP/Dockerfile" "$TMP"

if [ "$VERIFY" = 1 ]; then
    echo "[engine-build] $REF: verification probes"
    cp "$LIB/probe.sh" "$LIB/selenium_probe.py" "$TMP/"
    chmod 0755 "$TMP"
    chmod 0644 "$TMP/probe.sh" "$TMP/selenium_probe.py"
    tools=$($TOOL list "$TMP/context/capabilities.json" tools | tr '\n' ' ')
    caps=$($TOOL list "$TMP/context/capabilities.json" capabilities | tr '\n' ' ')
    status=0
    for what in "tools $tools" "caps $caps"; do
        # shellcheck disable=SC2086
        "$ENGINE" run --rm $RUN_FLAGS --network none -v "$TMP:/probe:ro" "$REF" \
            /bin/sh /probe/probe.sh $what >>"$TMP/probes.txt" 2>&1 || status=1
    done
    sed 's/^/    /' "$TMP/probes.txt"
    if [ $status != 0 ] || grep -q '^FAIL' "$TMP/probes.txt"; then
        "$ENGINE" rmi "$REF" >/dev/null 2>&1 || true
        echo "engine-build: $REF FAILED verification (tag removed):" >&2
        grep '^FAIL' "$TMP/probes.txt" | sed 's/^/  /' >&2
        exit 1
    fi
fi
echo "[engine-build] built $REF"
