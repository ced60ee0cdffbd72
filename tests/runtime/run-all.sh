#!/bin/bash
# run-all.sh - the native runtime's test suite (needs root on Linux with user
# namespaces; see docs/runtime.md).
#
#   tests/runtime/run-all.sh [path/to/lcs-native-run]   (default build/lcs-native-run)
#
# Builds a busybox rootfs fixture and the static attack helper in a private
# temp dir, runs tests/runtime/verdicts.sh, tests/security/attacks.sh and
# tests/runtime/fullnet.sh (FULL network: the host stays out of reach),
# runs tests/runtime/buildmode.sh, tests/runtime/rootless.sh,
# tests/runtime/cgroup_v2.sh (moves pids/cpu to cgroup v2 and back),
# tests/runtime/budgets.sh (shared kernel budgets, root and rootless),
# tests/runtime/setupfail.sh (setup failures: the reason, no SIGPIPE, no leak),
# tests/session/run.sh and tests/session/copies.sh, removes everything, and
# exits non-zero if any test failed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
RUN=$(realpath "${1:-$top/build/lcs-native-run}")
export RUN SECCOMP="$top/container_images/seccomp.json"
if [ "$(id -u)" != 0 ]; then echo "SKIP native_runtime_suite: needs root"; exit 0; fi
[ -x "$RUN" ] || { echo "FAIL native_runtime_suite: $RUN missing (run make)"; exit 1; }
tmp=$(mktemp -d /tmp/lcs-rt-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# The sandbox's host uid (100000) must be able to traverse to the rootfs.
chmod 755 "$tmp"
export ROOTFS="$tmp/rootfs" WORK="$tmp/work" STATE="$tmp/state"
mkdir -p "$WORK"
"$top/tests/fixtures/mkrootfs.sh" "$ROOTFS" >/dev/null || { echo "FAIL fixture: mkrootfs"; exit 1; }
if cc -static -O1 -o "$ROOTFS/bin/attack" "$top/tests/security/attack.c" 2>"$WORK/cc.err"; then :; else
    echo "FAIL fixture: static attack helper: $(cat "$WORK/cc.err")"; exit 1
fi
rc=0
"$top/tests/runtime/verdicts.sh" || rc=1
"$top/tests/security/attacks.sh" || rc=1
"$top/tests/runtime/fullnet.sh" || rc=1
"$top/tests/runtime/buildmode.sh" || rc=1
"$top/tests/runtime/rootless.sh" || rc=1
"$top/tests/runtime/budgets.sh" || rc=1
"$top/tests/runtime/cgroup_v2.sh" || rc=1
"$top/tests/runtime/doctor.sh" || rc=1
"$top/tests/runtime/setupfail.sh" || rc=1
# Sessions use the CLI, the monitor and the helper of the same build.
"$top/tests/session/run.sh" "$(dirname "$RUN")" || rc=1
"$top/tests/session/copies.sh" "$(dirname "$RUN")" || rc=1
exit $rc
