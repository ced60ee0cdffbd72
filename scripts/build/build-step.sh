#!/bin/sh
# build-step.sh - run one build command (a recipe) as root inside a build
# sandbox over a parent root filesystem, and keep what it changed.
#
#   build-step.sh LOWER UPPER CONTEXT OUT [APT_CACHE] -- COMMAND [ARG...]
#
# LOWER    parent root filesystem (read-only lower layer; host ids shifted
#          by 100000 as the runtime maps them)
# UPPER    empty directory: receives the overlay upper layer (the new
#          image layer: changed files, whiteouts for deletions)
# CONTEXT  directory bound read-only at /tmp/llmcore-build (recipe, lib,
#          manifest)
# OUT      empty directory: receives the flattened result (LOWER + UPPER),
#          the child image's rootfs
# APT_CACHE optional directory bound at /var/cache/apt/archives so that
#          downloaded .deb files survive between builds (never in the image)
#
# Isolation: new user namespace (inside 0..65535 = host 100000..165535, the
# runtime's mapping, so files written get the shifted ids the runtime
# expects), mount, pid, uts and ipc namespaces, chroot into the overlay,
# private /proc, /dev, /tmp and /run. The one difference from the runtime's
# sandboxes: the build keeps the host's network namespace (apt and the npm
# registry need the network) and the build's root keeps its capabilities
# inside the user namespace (dpkg must chown). When the native runtime gains
# a build mode (root inside, capabilities kept, pasta network, upper dir
# kept), replace the `unshare ... sh -c "$inner"` line below with a call to
# it; nothing else changes.
set -eu

usage() {
    echo "usage: $0 LOWER UPPER CONTEXT OUT [APT_CACHE] -- COMMAND [ARG...]" >&2
    exit 2
}
[ $# -ge 6 ] || usage
LOWER=$1 UPPER=$2 CTX=$3 OUT=$4
shift 4
CACHE=
if [ "$1" != -- ]; then
    CACHE=$1
    shift
fi
[ "$1" = -- ] || usage
shift

HOST_BASE=100000
for d in "$LOWER" "$CTX"; do
    [ -d "$d" ] || {
        echo "build-step: no directory $d" >&2
        exit 1
    }
done
WORKROOT=$(dirname "$UPPER")
WORK=$WORKROOT/ovl-work
MERGED=$WORKROOT/merged
mkdir -p "$UPPER" "$WORK" "$MERGED" "$OUT"
chown $HOST_BASE:$HOST_BASE "$UPPER" "$WORK" "$MERGED" "$OUT"
if [ -n "$CACHE" ]; then
    mkdir -p "$CACHE/partial"
    chown -R $HOST_BASE:$HOST_BASE "$CACHE"
fi

# Runs as root of the new user namespace.
inner='
set -eu
L=$1 U=$2 W=$3 M=$4 C=$5 O=$6 K=$7
shift 7
mount --make-rprivate /
mount -t overlay overlay -o "lowerdir=$L,upperdir=$U,workdir=$W,userxattr" "$M"
mount -t proc proc "$M/proc"
mount -t tmpfs -o mode=0755,nosuid tmpfs "$M/dev"
for n in null zero full random urandom tty; do
    : >"$M/dev/$n"
    mount --bind "/dev/$n" "$M/dev/$n"
done
ln -s /proc/self/fd "$M/dev/fd"
mkdir -p "$M/dev/shm" "$M/dev/pts"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$M/dev/pts"
ln -s pts/ptmx "$M/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$M/dev/shm"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$M/tmp"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$M/run"
mkdir -p "$M/tmp/llmcore-build"
mount --bind -o ro "$C" "$M/tmp/llmcore-build"
[ -e "$M/etc/resolv.conf" ] || [ -L "$M/etc/resolv.conf" ] || : >"$M/etc/resolv.conf"
if [ -f "$M/etc/resolv.conf" ] && [ ! -L "$M/etc/resolv.conf" ]; then
    mount --bind -o ro /etc/resolv.conf "$M/etc/resolv.conf"
fi
if [ -n "$K" ]; then
    mkdir -p "$M/var/cache/apt/archives"
    mount --bind "$K" "$M/var/cache/apt/archives"
fi
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LANG=C.UTF-8 LCS_CTX=/tmp/llmcore-build LCS_NATIVE_BUILD=1 \
    LCS_KEEP_APT_CACHE=$([ -n "$K" ] && echo 1 || echo 0) \
    chroot "$M" "$@"
# Take the build mounts away, then flatten lower+upper into OUT.
[ -z "$K" ] || umount "$M/var/cache/apt/archives"
if mountpoint -q "$M/etc/resolv.conf" 2>/dev/null; then umount "$M/etc/resolv.conf"; fi
umount "$M/tmp/llmcore-build" "$M/tmp" "$M/run" "$M/dev/shm" "$M/dev/pts"
for n in null zero full random urandom tty; do umount "$M/dev/$n"; done
umount "$M/dev" "$M/proc"
cp -a "$M/." "$O/"
umount "$M"
'
unshare --map-users=$HOST_BASE,0,65536 --map-groups=$HOST_BASE,0,65536 --setuid 0 --setgid 0 \
    --mount --pid --fork --uts --ipc --kill-child \
    sh -c "$inner" build-step "$LOWER" "$UPPER" "$WORK" "$MERGED" "$CTX" "$OUT" "$CACHE" "$@"
rmdir "$MERGED" 2>/dev/null || true
rm -rf "$WORK"
