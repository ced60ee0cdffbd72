#!/bin/bash
# setupfail.sh - a sandbox whose setup fails at once: the caller gets the
# real reason (never a SIGPIPE death, exit 141, or "Broken pipe"), and no
# cgroup directory stays behind. Root. Uses the CLI and the library of the
# build that holds $RUN (run-all.sh), or of BUILD_DIR:
#
#   tests/runtime/setupfail.sh [BUILD_DIR]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ -n "${1:-}" ]; then B=$(realpath "$1"); elif [ -n "${RUN:-}" ]; then B=$(dirname "$RUN"); else B=$top/build; fi
C=$B/llmcore-sandbox
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; FAILS=$((FAILS + 1)); }
skip() { echo "SKIP $1: $2"; }
FAILS=0
if [ "$(id -u)" != 0 ]; then echo "SKIP setup_failures: need root"; exit 0; fi
[ -x "$C" ] || { echo "FAIL setup_failures: $C missing (run make)"; exit 1; }
tmp=$(mktemp -d /tmp/lcs-setupfail-XXXXXX); chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
export LLMCORE_SANDBOX_STATE=$tmp/state LLMCORE_SANDBOX_RUNS=$tmp/runs
TRIES=30

# The sandboxes' cgroup directories (lcs-*) in every hierarchy. Other
# sandboxes of this host may come and go meanwhile: a leak is a directory
# that is new, holds no process and is still there a moment later.
cgdirs() { find /sys/fs/cgroup -mindepth 1 -maxdepth 6 -type d -name 'lcs-*' 2>/dev/null | sort; }
leaked() {
    local d n=0
    for d in $(comm -13 "$1" <(cgdirs)); do
        [ -n "$(find "$d" -name cgroup.procs -size +0 2>/dev/null | head -1)" ] && continue
        [ -s "$d/cgroup.procs" ] && continue
        n=$((n + 1))
    done
    echo $n
}

# tries NAME ROOTFS PATTERN: TRIES runs; none may exit 141, each must fail
# with PATTERN, and no cgroup directory may stay
tries() {
    local name=$1 rfs=$2 pat=$3 i rc n141=0 nbad=0 last=
    cgdirs >"$tmp/cg.before"
    for i in $(seq $TRIES); do
        "$C" run --rootfs "$rfs" -- true >/dev/null 2>"$tmp/err"; rc=$?
        [ $rc = 141 ] && n141=$((n141 + 1))
        if [ $rc = 0 ] || [ $rc = 141 ] || ! grep -qE "$pat" "$tmp/err"; then
            nbad=$((nbad + 1)); last="rc=$rc $(head -c 300 "$tmp/err")"
        fi
    done
    sleep 1
    local nleak; nleak=$(leaked "$tmp/cg.before")
    echo "  $name: $n141 of $TRIES exited 141, $nbad without the reason, $nleak cgroup directories left"
    if [ $n141 = 0 ] && [ $nbad = 0 ] && [ "$nleak" = 0 ]; then pass "$name"
    else fail "$name" "141: $n141, wrong message: $nbad ($last), leaked cgroups: $nleak"; fi
}

# 1. A rootfs in a 0700 directory of root (mktemp -d): the sandbox's host
# uid cannot enter it. The error names that directory and the fix.
d0700=$(mktemp -d "$tmp/rootfs-0700-XXXXXX")
chmod 700 "$d0700"
tries setup_fail_unsearchable_rootfs_is_named "$d0700" \
    "rootfs $d0700: the sandbox \(host uid [0-9]+\) cannot enter the directory $d0700 \(mode 0700, owner 0:0\); make it searchable"
# ... and a searchable rootfs under an unsearchable parent names the parent
mkdir -p "$tmp/closed/inner"; chmod 700 "$tmp/closed"; chmod 755 "$tmp/closed/inner"
"$C" run --rootfs "$tmp/closed/inner" -- true >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc != 0 ] && [ $rc != 141 ] && grep -q "cannot enter the directory $tmp/closed (mode 0700" "$tmp/err"; then
    pass setup_fail_unsearchable_parent_is_named
else fail setup_fail_unsearchable_parent_is_named "rc=$rc $(cat "$tmp/err")"; fi

# 2. Init dies of a setup error while the caller is still releasing it: an
# ACL that denies the sandbox's root (host uid 100000) its rootfs, which the
# mode bits (0755) do not show, so only the kernel's mount inside refuses.
dacl=$(mktemp -d "$tmp/rootfs-acl-XXXXXX")
chmod 755 "$dacl"
if python3 - "$dacl" <<'EOF'
import os, struct, sys
# POSIX ACL xattr (version 2): user::rwx user:100000:--- group::r-x mask::r-x other::r-x
ents = [(0x01, 7, 0xFFFFFFFF), (0x02, 0, 100000), (0x04, 5, 0xFFFFFFFF),
        (0x10, 5, 0xFFFFFFFF), (0x20, 5, 0xFFFFFFFF)]
os.setxattr(sys.argv[1], "system.posix_acl_access",
            struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in ents))
EOF
then
    tries setup_fail_dead_init_no_sigpipe "$dacl" "sandbox setup failed: .*Permission denied"
    # Through Python (SIGPIPE ignored there) the error is init's, never the
    # failed release
    # (a sanitizer build's library needs its runtime loaded first)
    pre=
    if ldd "$B/libllmcore-sandbox.so.0" 2>/dev/null | grep -q libasan; then
        pre=$(ldd "$B/libllmcore-sandbox.so.0" | awk '/libasan/ {print $3}')
    fi
    out=$(LD_PRELOAD="$pre" ASAN_OPTIONS=detect_leaks=0 PYTHONPATH="$top/python" \
          LLMCORE_SANDBOX_LIBRARY="$B/libllmcore-sandbox.so.0" python3 - "$dacl" $TRIES <<'EOF' 2>&1
import sys
import llmcore_sandbox as ls
bad = 0
for _ in range(int(sys.argv[2])):
    try:
        ls.run(["true"], rootfs=sys.argv[1])
        bad += 1
        print("ran")
    except Exception as e:  # the binding's error for a failed start
        m = str(e)
        if "sandbox setup failed" not in m or "Broken pipe" in m or "release the sandbox" in m:
            bad += 1
            print("wrong:", m[:200])
print("bad", bad)
EOF
)
    if [ "$(echo "$out" | tail -1)" = "bad 0" ]; then pass setup_fail_python_shows_init_error
    else fail setup_fail_python_shows_init_error "$(echo "$out" | sort | uniq -c | head -5)"; fi
else
    skip setup_fail_dead_init_no_sigpipe "no POSIX ACL support on $tmp"
fi
exit $((FAILS > 0))
