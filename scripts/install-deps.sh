#!/bin/sh
# Installs the Debian/Ubuntu packages llmcore-sandbox needs to build, test
# and run. Safe to run again: only missing packages are installed.
set -eu

# Build: compiler, pkg-config, the libraries the library links (their .a
# files too: the executables link them statically) and libarchive's headers.
BUILD="build-essential pkg-config libjansson-dev libseccomp-dev libcap-dev libsqlite3-dev libarchive-dev libcurl4-openssl-dev"
# Tests: cmocka for the C unit tests, python3 for the binding and the CLI
# tests, busybox-static for the tiny test root filesystem.
TEST="libcmocka-dev python3 busybox-static"
# The distribution lane (tests/distro) also builds with clang, here and in a
# Debian 13 root it makes with mmdebstrap (below).
TEST="$TEST clang"
# The Docker Engine API tests (tests/docker) run containers on Podman's
# Docker-compatible service: podman, runc (crun refuses hybrid cgroups),
# catatonit (the engine's init) and curl (the tests' HTTP client).
TEST="$TEST podman runc catatonit curl"
# The cgroup-v2 lane (tests/v2lane) boots a cgroup-v2-only Debian guest with
# qemu (software emulation; the guest is built with mmdebstrap, below).
TEST="$TEST qemu-system-x86"
# Node.js and npm run the MCP test with the official TypeScript SDK client
# (tests/mcp); a Node.js that already brings npm (e.g. NodeSource's) is kept.
command -v node >/dev/null 2>&1 || TEST="$TEST nodejs"
command -v npm >/dev/null 2>&1 || TEST="$TEST npm"
# Runtime: pasta (package passt) gives FULL-mode sandboxes user-mode NAT;
# nft (package nftables) loads the filter that keeps the host out of their
# reach. Images: mmdebstrap bootstraps the base image from the Debian archive;
# uidmap and libcap2-bin serve its user-namespace build steps.
RUNTIME="passt nftables mmdebstrap uidmap libcap2-bin"
# images load: skopeo copies an OCI layout into Docker or Podman.
RUNTIME="$RUNTIME skopeo"
# Runtime: libarchive.so.13, loaded with dlopen by tar export and by keeping
# a workspace (nothing links it; see README.md, Dependencies). libarchive-dev
# pulls it in at build time, but a machine that only runs the tool needs it
# by name: libarchive13, libarchive13t64 since Debian 13 and Ubuntu 24.04.
ARCHIVE_RT="libarchive13 libarchive13t64"

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=""
for p in $BUILD $TEST $RUNTIME; do
    installed "$p" || missing="$missing $p"
done
archive_missing=1
for p in $ARCHIVE_RT; do
    if installed "$p"; then archive_missing=0; fi
done
if [ -z "$missing" ] && [ $archive_missing -eq 0 ]; then
    echo "install-deps: all packages present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    [ $archive_missing -eq 0 ] || missing="$missing libarchive13(t64)"
    echo "install-deps: missing packages:$missing" >&2
    echo "install-deps: run this script as root (e.g. sudo $0)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if [ $archive_missing -eq 1 ]; then
    # The name this distribution's archive has.
    if apt-cache show libarchive13t64 >/dev/null 2>&1; then
        missing="$missing libarchive13t64"
    else
        missing="$missing libarchive13"
    fi
fi
# A name this archive does not have gets a clear message, not apt's. On
# Ubuntu, passt, mmdebstrap and busybox-static come from "universe".
absent=""
for p in $missing; do
    apt-cache show "$p" >/dev/null 2>&1 || absent="$absent $p"
done
if [ -n "$absent" ]; then
    echo "install-deps: this system's package archive has no package named:$absent" >&2
    if grep -qs '^ID=ubuntu' /etc/os-release; then
        echo "install-deps: enable Ubuntu's universe component (add-apt-repository universe) and run this again" >&2
    fi
    exit 1
fi
echo "install-deps: installing$missing"
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done"
