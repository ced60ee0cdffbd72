#!/bin/sh
# Installs the Debian/Ubuntu packages llmcore-sandbox needs to build, test
# and run. Safe to run again: only missing packages are installed.
set -eu

# Build: compiler, pkg-config and the libraries the library links.
BUILD="build-essential pkg-config libjansson-dev libseccomp-dev libcap-dev libsqlite3-dev libarchive-dev"
# Tests: cmocka for the C unit tests, python3 for the binding and the CLI
# tests, busybox-static for the tiny test root filesystem.
TEST="libcmocka-dev python3 busybox-static"
# Node.js and npm run the MCP test with the official TypeScript SDK client
# (tests/mcp); a Node.js that already brings npm (e.g. NodeSource's) is kept.
command -v node >/dev/null 2>&1 || TEST="$TEST nodejs"
command -v npm >/dev/null 2>&1 || TEST="$TEST npm"
# Runtime: pasta (package passt) gives FULL-mode sandboxes user-mode NAT.
# Images: mmdebstrap bootstraps the base image from the Debian archive;
# uidmap and libcap2-bin serve its user-namespace build steps.
RUNTIME="passt mmdebstrap uidmap libcap2-bin"

missing=""
for p in $BUILD $TEST $RUNTIME; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing" >&2
    echo "install-deps: run this script as root (e.g. sudo $0)" >&2
    exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done"
