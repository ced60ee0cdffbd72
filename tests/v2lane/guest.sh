#!/bin/bash
# guest.sh - the cgroup-v2 lane inside its guest (started by the guest's
# /sbin/lane-init, see image.sh; never run it on a host).
#
# The project is at /lane/src (read-only), /lane/out is shared with the
# host: it holds "build" (the build directory to test, relative to the
# project) and "tests" (the scripts to run, one a line), and receives
# "results" (PASS/FAIL/SKIP lines, written as they come, so a guest that
# hangs still leaves what it did) and guest.log (everything else).
set -u
src=/lane/src out=/lane/out
res=$out/results
: >"$res"
emit() { echo "$*" >>"$res"; }
[ "$(hostname)" = lane ] && [ -d "$src" ] ||
    { echo "guest.sh runs only inside the lane's guest" >&2; exit 2; }
B=$src/$(cat "$out/build")

# ------------------------------------------------------------------ premise
# Only cgroup2, mounted once at /sys/fs/cgroup, with memory, pids and cpu.
v1=$(awk '$3 == "cgroup" {print $2}' /proc/mounts | tr '\n' ' ')
v2=$(awk '$3 == "cgroup2" {print $2}' /proc/mounts | tr '\n' ' ')
ctl=$(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)
# (cgroup_no_v1=all: no v1 hierarchy can be mounted at all)
mkdir -p /tmp/v1try
if mount -t cgroup -o pids none /tmp/v1try 2>/dev/null; then umount /tmp/v1try; v1="$v1(pids v1 mountable)"; fi
ok=1
if [ -z "$v1" ] && [ "$v2" = "/sys/fs/cgroup " ]; then emit "PASS premise_only_cgroup2_mounted"
else emit "FAIL premise_only_cgroup2_mounted: cgroup v1 at '$v1', cgroup2 at '$v2'"; ok=0; fi
for c in memory pids cpu; do
    if grep -qw "$c" <<<"$ctl"; then emit "PASS premise_v2_offers_$c"
    else emit "FAIL premise_v2_offers_$c: cgroup.controllers is '$ctl'"; ok=0; fi
done
if [ "$(cat /proc/self/cgroup)" = "0::/" ]; then emit "PASS premise_tests_run_in_the_root_cgroup"
else emit "FAIL premise_tests_run_in_the_root_cgroup: $(cat /proc/self/cgroup)"; ok=0; fi
echo "kernel $(uname -r), cgroup2 controllers: $ctl, $(nproc) CPUs, $(free -m | awk '/^Mem:/ {print $2}') MiB"
[ $ok = 1 ] || { emit "FAIL v2lane_premise: not a cgroup-v2-only guest, no test run"; exit 0; }

# ------------------------------------------------------------------ tests
# Like tests/runtime/run-all.sh: one fixture rootfs, state and work dir for
# the scripts, each script given the build directory.
export RUN=$B/lcs-native-run SECCOMP=$src/container_images/seccomp.json
# Emulation is ~5-10 times slower than the host: tests that poll for a
# condition wait that much longer (tests/session/run.sh).
export LCS_TEST_WAIT_SCALE=${LCS_TEST_WAIT_SCALE:-5}
export LCS_TEST_NO_STRESS=${LCS_TEST_NO_STRESS:-1}
for f in "$RUN" "$B/llmcore-sandbox" "$B/llmcore-sandbox-monitor"; do
    [ -x "$f" ] || { emit "FAIL v2lane_build: $f missing (make)"; exit 0; }
done
tmp=$(mktemp -d /tmp/lcs-v2-XXXXXX); chmod 755 "$tmp"
export ROOTFS=$tmp/rootfs WORK=$tmp/work STATE=$tmp/state
mkdir -p "$WORK"
"$src/tests/fixtures/mkrootfs.sh" "$ROOTFS" >/dev/null || { emit "FAIL v2lane_fixture: mkrootfs"; exit 0; }
# The list: "SCRIPT" lines, and "timing NAME: WHY" lines naming a test whose
# premise is a speed emulation cannot give (its failure is reported as SKIP
# with WHY; a pass stays a pass).
sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$out/tests" >"$tmp/list"
grep -v '^timing ' "$tmp/list" >"$tmp/scripts"
[ -s "$tmp/scripts" ] || { emit "FAIL v2lane_tests: the list of test scripts is empty"; exit 0; }
timing_why() { sed -n "s/^timing $1: //p" "$tmp/list" | head -n 1; }
per_script=${LCS_V2LANE_SCRIPT_TIMEOUT:-480}
echo "tests start at $(cut -d' ' -f1 /proc/uptime) s of uptime"
while read -r t; do
    name=${t#tests/}; name=${name%.sh}; name=${name%/run}
    if [ ! -x "$src/$t" ]; then emit "FAIL $name: $t is not in the project"; continue; fi
    echo "=== $t"
    t0=$(date +%s)
    timeout -k 5 "$per_script" "$src/$t" "$B" </dev/null >"$tmp/out" 2>&1
    rc=$?
    cat "$tmp/out"
    nfail=0
    while IFS= read -r line; do
        case "$line" in
        PASS\ * | SKIP\ *) emit "${line%% *} $name: ${line#* }" ;;
        FAIL\ *)
            test=${line#FAIL }; test=${test%%:*}
            why=$(timing_why "$test")
            if [ -n "$why" ]; then emit "SKIP $name: $test: under emulation: $why (${line#FAIL })"
            else emit "FAIL $name: ${line#FAIL }"; nfail=$((nfail + 1)); fi ;;
        esac
    done <"$tmp/out"
    if ! grep -qE '^(PASS|FAIL|SKIP) ' "$tmp/out"; then emit "FAIL $name: reported no test (exit $rc): $(tail -c 300 "$tmp/out")"
    elif [ $rc = 124 ] || [ $rc = 137 ]; then emit "FAIL $name: killed after ${per_script} s"
    elif [ $rc != 0 ] && [ $nfail = 0 ] && ! grep -q '^FAIL ' "$tmp/out"; then
        emit "FAIL $name: exited $rc without naming a failed test"; fi
    echo "=== $t: exit $rc in $(( $(date +%s) - t0 )) s"
done <"$tmp/scripts"
# What entering a cgroup costs here after a 50 ms gap (bench/cgmove.c; a
# figure under emulation, not a test): the ways the runtime uses (clone3
# CLONE_INTO_CGROUP) against a cgroup.procs write.
if [ -x "$B/lcs-bench-cgmove" ]; then
    emit "# cgmove (guest, 50 ms apart): $("$B/lcs-bench-cgmove" -n 10 -g 50 -j 2>&1 | tr -d '\n')"
fi
rm -rf "$tmp"
emit "# guest done"
