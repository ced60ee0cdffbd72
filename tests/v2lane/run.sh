#!/bin/bash
# run.sh [BUILD_DIR] - the cgroup-v2 lane: boots a cgroup-v2-only Debian
# guest under qemu-system-x86_64 (software emulation) and runs the runtime's
# limit, verdict, cgroup and session tests there against BUILD_DIR (default
# build/, inside the project). Prints PASS/FAIL/SKIP lines.
#
# The guest (kernel, initramfs, root file system; tests/v2lane/image.sh) is
# cached in $LCS_V2LANE_CACHE (default /var/cache/llmcore-sandbox-test/v2lane)
# under a hash of image.sh, and built when missing (needs root, mmdebstrap
# and the Debian archive). The project reaches the guest read-only over 9p,
# the results come back over a second 9p share. The kernel boots with
# cgroup_no_v1=all and an init that mounts cgroup2 alone; the guest checks
# that premise first. Which scripts run: tests/v2lane/tests.list.
#
#   LCS_V2LANE_TIMEOUT   hard limit for the guest, seconds (default 900; it
#                        takes ~4 minutes, more on a loaded host)
#   LCS_V2LANE_TESTS     scripts to run instead of tests.list
#   LCS_V2LANE_ACCEL     qemu accelerator (default tcg)
#   LCS_V2LANE_LOG       copy the guest's whole log (test output) to this file
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
B=$(realpath -m "${1:-$top/build}")
case "$B/" in "$top"/*) rel=${B#"$top"/} ;; *) echo "FAIL v2lane: $B is not inside $top (the guest sees only the project)"; exit 1 ;; esac
qemu=$(command -v qemu-system-x86_64) || { echo "SKIP v2lane: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"; exit 0; }
[ "$(uname -m)" = x86_64 ] || { echo "SKIP v2lane: the guest is x86_64 and this host is $(uname -m)"; exit 0; }
[ -x "$B/lcs-native-run" ] || { echo "FAIL v2lane: $B/lcs-native-run missing (run make)"; exit 1; }
limit=${LCS_V2LANE_TIMEOUT:-900}

# ------------------------------------------------------------------ the guest
cache=${LCS_V2LANE_CACHE:-/var/cache/llmcore-sandbox-test/v2lane}
key=$(sha256sum "$here/image.sh" | cut -c1-16)
img=$cache/$key
t0=$(date +%s)
if [ ! -s "$img/root.ext4" ]; then
    if [ "$(id -u)" != 0 ]; then echo "SKIP v2lane: the guest image is not cached and building it needs root"; exit 0; fi
    command -v mmdebstrap >/dev/null || { echo "SKIP v2lane: mmdebstrap is not installed (the guest is built with it)"; exit 0; }
    mkdir -p "$cache"
    exec 9>"$cache/.lock"
    flock 9 # one build at a time; a second caller uses the first one's
    if [ ! -s "$img/root.ext4" ]; then
        rm -rf "$img.new"
        if "$here/image.sh" "$img.new" >"$cache/build.log" 2>&1; then
            mv "$img.new" "$img"
            # guests of older recipes are of no use any more
            find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
        else
            rm -rf "$img.new"
            echo "FAIL v2lane_guest_image: image.sh failed: $(tail -n 5 "$cache/build.log" | tr '\n' ' ')"; exit 1
        fi
    fi
    exec 9>&-
fi
t1=$(date +%s)

# ------------------------------------------------------------------ the run
out=$(mktemp -d /tmp/lcs-v2lane-XXXXXX)
trap 'rm -rf "$out"' EXIT
echo "$rel" >"$out/build"
if [ -n "${LCS_V2LANE_TESTS:-}" ]; then tr ' ' '\n' <<<"$LCS_V2LANE_TESTS" >"$out/tests"
else cp "$here/tests.list" "$out/tests"; fi
# -snapshot: the guest's writes to its root never reach the cached image.
# panic=-1 and -no-reboot: a guest whose init dies ends qemu at once.
# A guest that dies while booting, before its first result line (software
# emulation has crashed the kernel there, e.g. a panic in sched_clock_cpu
# 1.6 s in, once in several boots), is booted once more; its console is
# shown. A guest that reached its tests is booted again only when its
# kernel panicked (below); one that just stopped is a failure.
boot() {
    : >"$out/results"
    timeout -k 10 "$limit" "$qemu" -accel "${LCS_V2LANE_ACCEL:-tcg}" -cpu max -smp 2 -m 3G \
        -nographic -no-reboot -nic none \
        -kernel "$img/vmlinuz" -initrd "$img/initrd" \
        -append "console=ttyS0 quiet panic=-1 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1" \
        -drive "file=$img/root.ext4,format=raw,if=virtio,snapshot=on" \
        -virtfs "local,path=$top,mount_tag=src,security_model=none,readonly=on" \
        -virtfs "local,path=$out,mount_tag=out,security_model=none" \
        </dev/null >"$out/console" 2>&1
}
boot; rc=$?
if [ $rc != 124 ] && [ $rc != 137 ] && ! [ -s "$out/results" ]; then
    echo "  (the guest died before its tests; its console, then a second boot:)"
    tail -n 6 "$out/console" | tr -d '\r' | sed 's/^/  | /'
    boot; rc=$?
elif ! grep -q '^# guest done' "$out/results" 2>/dev/null && grep -q 'Kernel panic' "$out/console"; then
    # The emulated kernel panicked during the tests (seen once: "Fatal
    # exception in interrupt" in the idle task, 0.9 s into the tests): a
    # fault of the emulation, not a result. One more boot runs them all
    # again; a second panic fails the lane with its console.
    echo "# v2lane: the guest kernel panicked during the tests ($(grep -m 1 -o 'Kernel panic.*' "$out/console" | tr -d '\r')); booting it once more"
    boot; rc=$?
fi
t2=$(date +%s)
grep -E '^(PASS|FAIL|SKIP) ' "$out/results" 2>/dev/null
grep '^# cgmove' "$out/results" 2>/dev/null
bad=0
if [ $rc = 124 ] || [ $rc = 137 ]; then
    echo "FAIL v2lane_guest_finished: the guest was stopped after $limit s (hung or too slow)"; bad=1
elif [ $rc != 0 ]; then
    echo "FAIL v2lane_guest_finished: qemu exited $rc"; bad=1
elif ! grep -q '^# guest done' "$out/results" 2>/dev/null && ! grep -q '^FAIL ' "$out/results" 2>/dev/null; then
    echo "FAIL v2lane_guest_finished: the guest ended without finishing its tests"; bad=1
fi
if [ $bad = 1 ] || grep -q '^FAIL ' "$out/results" 2>/dev/null; then
    # (indented: these are not result lines)
    echo "--- guest console (tail)"; tail -n 15 "$out/console" | tr -d '\r' | sed 's/^/  | /'
    echo "--- guest log (tail)"; tail -n 40 "$out/guest.log" 2>/dev/null | sed 's/^/  | /'
fi
[ -n "${LCS_V2LANE_LOG:-}" ] && cp "$out/guest.log" "$LCS_V2LANE_LOG" 2>/dev/null
echo "# v2lane: guest image $([ $((t1 - t0)) -gt 1 ] && echo "built in $((t1 - t0)) s" || echo cached), guest ran $((t2 - t1)) s (kernel $(cat "$img/kernel-version"))"
[ $bad = 0 ] && ! grep -q '^FAIL ' "$out/results" 2>/dev/null
