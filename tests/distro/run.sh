#!/bin/bash
# run.sh - the distribution lane: proves the warning-as-error build and the
# unit suite with compilers other than the host's gcc. Prints PASS/FAIL/SKIP
# lines and "# distro ..." lines saying what ran where.
#
#   clang    the host's clang (Debian's package) builds everything into
#            build-clang/ and runs the unit tests there.
#   debian13 a Debian 13 (trixie) root made with mmdebstrap, its packages
#            installed by scripts/install-deps.sh run inside it (as a new
#            user would run it), plus clang. Inside it, on a copy of the
#            tree: install-deps.sh again (it must find everything present),
#            the README's build with its gcc (14) and the unit suite, the
#            same with its clang (19), the CLI suite, and the native image
#            builder making the base image from that Debian 13 host.
#
# The root is cached in $LCS_DISTRO_CACHE (default
# /var/cache/llmcore-sandbox-test/distro) under a hash of this script's
# recipe and scripts/install-deps.sh, and made when missing (needs root,
# mmdebstrap and the Debian archive). Each run gets a throwaway overlay on
# top of it, in a private mount namespace: nothing it does reaches the cache
# or the host's tree.
#
#   LCS_DISTRO_NO_IMAGE=1   skip the base-image build in the root
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"

# unit_suite PREFIX BUILD_DIR: every unit-test binary, TAP translated.
# A binary that fails without a failing test line counts as a failure.
unit_suite() {
    local prefix=$1 b=$2 t out rc
    for t in "$b"/tests/test_*; do
        [ -x "$t" ] || continue
        out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1); rc=$?
        # the result lines only (tests/tap.awk passes the others through)
        printf '%s\n' "$out" | awk -v p="$prefix$(basename "$t"): " -f tests/tap.awk |
            grep -E '^(PASS|FAIL|SKIP) '
        if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^not ok'; then
            echo "FAIL $prefix$(basename "$t"): exited with status $rc: $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
        fi
    done
}

# ------------------------------------------------------------------ clang
if command -v clang >/dev/null; then
    if out=$(make -j"$(nproc)" CC=clang B=build-clang all 2>&1); then
        echo "PASS clang_build: $(clang --version | head -n 1) builds with -Werror"
        unit_suite "clang: " build-clang
    else
        echo "FAIL clang_build: $(printf '%s\n' "$out" | grep -m 3 -E ': error:|\*\*\*' | tr '\n' ' ')"
    fi
else
    echo "FAIL clang_build: clang is not installed (scripts/install-deps.sh installs it)"
fi

# --------------------------------------------------------------- debian 13
if [ "$(id -u)" != 0 ]; then
    echo "SKIP debian13: the root is made and entered as root (chroot, mounts)"
    exit 0
fi
command -v mmdebstrap >/dev/null || { echo "FAIL debian13: mmdebstrap is not installed (scripts/install-deps.sh installs it)"; exit 0; }
# The recipe: what goes into the root. Its hash names the cached root.
SUITE=trixie
MIRROR=http://deb.debian.org/debian
EXTRA=clang,mount  # mount: umount for the run (pivot_root)
cache=${LCS_DISTRO_CACHE:-/var/cache/llmcore-sandbox-test/distro}
key=$( { echo "$SUITE $MIRROR $EXTRA"; cat scripts/install-deps.sh; } | sha256sum | cut -c1-16)
img=$cache/$SUITE-$key
t0=$(date +%s)
if [ ! -x "$img/usr/bin/gcc" ]; then
    mkdir -p "$cache"
    exec 9>"$cache/.lock"
    flock 9 # one build at a time; a second caller uses the first one's
    if [ ! -x "$img/usr/bin/gcc" ]; then
        rm -rf "$img.new"
        # install-deps.sh runs inside the new root as on a fresh machine
        # (mmdebstrap gives the hook /proc, /dev and the host's resolver).
        if mmdebstrap --variant=apt --include=ca-certificates,$EXTRA \
            --customize-hook="copy-in scripts/install-deps.sh /tmp" \
            --customize-hook='chroot "$1" sh /tmp/install-deps.sh' \
            --customize-hook='rm -f "$1/tmp/install-deps.sh"' \
            "$SUITE" "$img.new" "$MIRROR" >"$cache/build.log" 2>&1; then
            mv "$img.new" "$img"
            # roots of older recipes are of no use any more
            find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$SUITE-$key" -exec rm -rf {} +
        else
            rm -rf "$img.new"
            echo "FAIL debian13_root: mmdebstrap $SUITE failed: $(tail -n 5 "$cache/build.log" | tr '\n' ' ')"
            exit 0
        fi
    fi
    exec 9>&-
fi
t1=$(date +%s)

# The run: an overlay over the cached root (upper layer thrown away), the
# tree copied in (build directories and .git left out), /proc, /sys, /dev
# and a fresh /tmp, all in a private mount namespace that ends with the run.
run=$(mktemp -d /var/tmp/lcs-distro-XXXXXX)
trap 'rm -rf "$run"' EXIT
mkdir -p "$run/upper" "$run/work" "$run/root"
tar -C "$top" --exclude=./.git --exclude='./build*' --exclude=./tests/tmp -cf "$run/src.tar" .
cat >"$run/inside.sh" <<'EOF'
# runs in the Debian 13 root, in /src
set -u
. /etc/os-release
echo "# distro debian13: $PRETTY_NAME, $(gcc --version | head -n 1), $(clang --version | head -n 1), kernel $(uname -r)"
if out=$(scripts/install-deps.sh 2>&1) && printf '%s' "$out" | grep -q "all packages present"; then
    echo "PASS debian13: install-deps.sh finds every package it names on $VERSION_CODENAME"
else
    echo "FAIL debian13: install-deps.sh on $VERSION_CODENAME: $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
fi
# The README's build is plain "make" (gcc, into build/); clang into build-clang/.
for cc in gcc clang; do
    b=build; [ $cc = gcc ] || b=build-$cc
    if out=$(make -j"$(nproc)" CC=$cc B=$b all 2>&1); then
        echo "PASS debian13: the build with $($cc --version | head -n 1) and -Werror"
        unit_suite "debian13/$cc: " $b
    else
        echo "FAIL debian13: the build with $cc: $(printf '%s\n' "$out" | grep -m 3 -E ': error:|\*\*\*' | tr '\n' ' ')"
    fi
done
# The CLI suite against the gcc build.
if [ -x build/llmcore-sandbox ]; then
    tests/cli/run.sh "$PWD/build/llmcore-sandbox" 2>&1 | sed -n -e 's/^PASS /PASS debian13\/cli: /p' \
        -e 's/^FAIL /FAIL debian13\/cli: /p' -e 's/^SKIP /SKIP debian13\/cli: /p'
fi
# The native image builder on a Debian 13 host: the base image, checked
# by its probes, then run by this build.
if [ -z "${LCS_DISTRO_NO_IMAGE:-}" ] && [ -x build/llmcore-sandbox ]; then
    if out=$(make -C container_images base STORE=/tmp/store 2>&1); then
        if id=$(build/llmcore-sandbox --store /tmp/store run --image llmcore-sandbox-base -- id -u 2>&1) &&
            [ "$id" = 1000 ]; then
            echo "PASS debian13: the native builder makes the base image here, and it runs as uid 1000"
        else
            echo "FAIL debian13: the base image built here does not run: $(printf '%s' "$id" | tail -n 2 | tr '\n' ' ')"
        fi
    else
        echo "FAIL debian13: the native builder on Debian 13: $(printf '%s\n' "$out" | tail -n 3 | tr '\n' ' ')"
    fi
fi
EOF
declare -f unit_suite >"$run/funcs.sh"
unshare --mount --propagation private --fork bash -c '
    set -e
    r=$1/root
    mount -t overlay overlay -o "lowerdir=$2,upperdir=$1/upper,workdir=$1/work" "$r"
    mount -t proc proc "$r/proc"
    mount --rbind /sys "$r/sys"
    mount --rbind /dev "$r/dev"
    mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
    cp /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null || true
    # the images suite fills this apt cache on the host; sharing it saves
    # the base image its downloads (an empty one only costs time)
    if [ -d /var/cache/llmcore-sandbox/apt ]; then
        mkdir -p "$r/var/cache/llmcore-sandbox/apt"
        mount --bind /var/cache/llmcore-sandbox/apt "$r/var/cache/llmcore-sandbox/apt"
    fi
    mkdir -p "$r/src" "$r/.host"
    tar -C "$r/src" -xf "$1/src.tar"
    cp "$1/inside.sh" "$1/funcs.sh" "$r/src/"
    # pivot_root, not chroot: the kernel refuses new user namespaces to a
    # chrooted process, and sandboxes need them. The host root is detached.
    cd "$r"
    pivot_root . .host
    umount -l /.host
    cd /src
    exec /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 /bin/bash -c ". ./funcs.sh && . ./inside.sh"
' lane "$run" "$img"
echo "# distro: root $( [ $((t1 - t0)) -gt 0 ] && echo "made in $((t1 - t0)) s" || echo cached), lane ran $(($(date +%s) - t1)) s"
