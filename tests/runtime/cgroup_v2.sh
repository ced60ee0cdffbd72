#!/bin/bash
# cgroup_v2.sh - the cgroup v2 controller path, on a hybrid host (run by
# run-all.sh as root).
#
# Most users have cgroup v2 only, where the pids and cpu limits live in
# pids.max / cpu.max of the sandbox's v2 directory. On a hybrid host those
# controllers are bound to v1 hierarchies. A controller can move to v2 when
# its v1 hierarchy has no child cgroups and is unmounted; this test does that
# for pids and cpu (when their hierarchies hold no process), runs sandboxes
# whose limits must then be enforced through v2, and puts the hierarchies back
# (also on failure). Memory cannot move here: processes of this host sit in
# v1 memory cgroups. On a host that is already v2-only (tests/v2lane boots
# one) the same checks run without moving anything, memory's included.
. "$(dirname "$0")/lib.sh"
ST=(--state-dir "$STATE")
V2=/sys/fs/cgroup/unified
[ -d "$V2" ] || V2=/sys/fs/cgroup
if ! grep -q cgroup2 /proc/self/mountinfo; then
    skip cgroup_v2_controllers "no cgroup2 mounted on this host"; summary; exit
fi
moved=() why=""

# Remove the empty child cgroups of a v1 hierarchy (deepest first); fail if
# any holds a process.
empty_v1() {
    local h=$1 d
    while read -r d; do
        [ "$d" = "$h" ] && continue
        [ -s "$d/cgroup.procs" ] && return 1
        rmdir "$d" 2>/dev/null || return 1
    done < <(find "$h" -mindepth 1 -type d -depth 2>/dev/null)
    return 0
}
# move CTRL: unmount its v1 hierarchy and wait until v2 offers it.
move() {
    local c=$1 mnt=/sys/fs/cgroup/$1 i out
    grep -qw "$c" "$V2/cgroup.controllers" && return 0
    mountpoint -q "$mnt" || { why+="$c: no v1 hierarchy at $mnt; "; return 1; }
    # a hierarchy shared with other controllers (cpu,cpuacct) is left alone
    [ "$(grep -E "^cgroup $mnt cgroup " /proc/mounts | awk '{print $4}' | tr ',' '\n' |
         grep -cvE '^(rw|ro|relatime|nosuid|nodev|noexec)$')" = 1 ] ||
        { why+="$c: its v1 hierarchy holds other controllers too; "; return 1; }
    empty_v1 "$mnt" || { why+="$c: its v1 hierarchy has cgroups with processes; "; return 1; }
    out=$(umount "$mnt" 2>&1) || { why+="$c: umount $mnt: ${out##*: }; "; return 1; }
    for i in $(seq 50); do
        grep -qw "$c" "$V2/cgroup.controllers" && { moved+=("$c"); return 0; }
        sleep 0.1
    done
    mount -t cgroup -o "$c" cgroup "$mnt"
    return 1
}
restore() {
    local c
    for c in "${moved[@]}"; do
        echo "-$c" > "$V2/cgroup.subtree_control" 2>/dev/null
        mountpoint -q "/sys/fs/cgroup/$c" || mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c"
    done
    moved=()
}
trap restore EXIT

for c in pids cpu; do move "$c"; done
got=$(cat "$V2/cgroup.controllers")
if ! grep -qw pids <<<"$got"; then
    skip cgroup_v2_controllers "pids is a v1 controller here and could not be moved to cgroup v2 (${why%; })"
    summary; exit
fi

# pids through v2: a fork bomb gets the pids verdict, the report says v2.
sb "${ST[@]}" --pids 32 --timeout 10 -- /bin/sh -c 'bomb() { bomb | bomb; }; bomb'
expect v2_fork_bomb_is_verdict_pids verdict pids
expect v2_pids_limit_reported_as_v2 "enforced cgroups pids" v2
# exactly the limit asked for: 16 tasks in the sandbox's cgroup (init, sh
# and 14 children); the 15th child's fork fails and sh exits with it.
sb "${ST[@]}" --pids 16 --timeout 10 -- /bin/sh -c \
    'i=0; while [ $i -lt 14 ]; do sleep 1 & i=$((i+1)); done; echo fourteen; sleep 1 & echo after; wait'
if [ "$(j verdict)" = pids ] && [ "$(j stdout)" = fourteen ]; then pass v2_pids_limit_stops_task_17
else fail v2_pids_limit_stops_task_17 "verdict $(j verdict), stdout $(j stdout | head -c 100), stderr $(j stderr | head -c 200)"; fi
sb "${ST[@]}" --pids 16 --timeout 10 -- /bin/sh -c \
    'i=0; while [ $i -lt 13 ]; do sleep 1 & i=$((i+1)); done; sleep 1 & echo after; wait'
expect v2_pids_limit_allows_task_16 verdict ok

# cpu through v2 (when it could move): a spinner with half a CPU for one
# second of wall time gets about half a second of CPU.
if grep -qw cpu <<<"$got"; then
    sb "${ST[@]}" --cpus 0.5 --timeout 1 -- /bin/sh -c 'while :; do :; done'
    expect v2_cpu_quota_reported_as_v2 "enforced cgroups cpu" v2
    cpu=$(j cpu_s)
    if python3 -c "import sys; c=float(sys.argv[1]); sys.exit(0 if 0.2 <= c <= 0.75 else 1)" "$cpu"; then
        pass v2_cpu_quota_limits_a_spinner
    else fail v2_cpu_quota_limits_a_spinner "cpu_seconds $cpu for 1 s at 0.5 CPU"; fi
else
    skip v2_cpu_quota "the cpu controller could not be moved to cgroup v2 here"
fi
# memory through v2 (a v2-only host; on a hybrid host it stays in v1): a
# memory bomb gets the memory verdict, the report says v2, and the peak is
# read from memory.peak (at most the limit).
if grep -qw memory <<<"$got"; then
    sb "${ST[@]}" --memory 64M --timeout 20 -- /bin/sh -c 'dd if=/dev/zero of=/dev/null bs=300M count=1'
    expect v2_memory_bomb_is_verdict_memory verdict memory
    expect v2_memory_limit_reported_as_v2 "enforced cgroups memory" v2
    peak=$(j peak_memory_bytes)
    if [ -n "$peak" ] && [ "$peak" -gt $((32 << 20)) ] && [ "$peak" -le $((64 << 20)) ]; then pass v2_memory_peak_is_within_the_limit
    else fail v2_memory_peak_is_within_the_limit "peak_memory_bytes '$peak' for a 64 MiB limit"; fi
else
    skip v2_memory_limit "memory is not a cgroup v2 controller here (a hybrid host keeps it in v1)"
fi
# A caller in a cgroup that holds processes (every process of a systemd
# host is in one) cannot give memory to its children: the kernel's
# no-internal-process rule. Root's sandboxes then go under the shared base
# /sys/fs/cgroup/llmcore-sandbox (a child of the root cgroup that never
# holds a process), with every limit still enforced through v2. Needs a
# caller in the root cgroup to set up (a v2-only guest such as
# tests/v2lane's).
if grep -qw memory <<<"$got" && [ "$(cat /proc/self/cgroup)" = "0::/" ]; then
    busy=$V2/v2test-busy-$$
    mkdir "$busy"
    (echo "$BASHPID" >"$busy/cgroup.procs" &&
     sb "${ST[@]}" --memory 64M --timeout 20 -- /bin/sh -c 'cat /proc/self/cgroup; dd if=/dev/zero of=/dev/null bs=300M count=1'); rc=$?
    rmdir "$busy"
    if [ "$(j verdict)" = memory ] && [ "$(j enforced cgroups memory)" = v2 ] &&
       [ -d "$V2/llmcore-sandbox" ]; then
        pass v2_busy_caller_cgroup_uses_the_shared_base
    else fail v2_busy_caller_cgroup_uses_the_shared_base "rc $rc verdict $(j verdict) memory $(j enforced cgroups memory): $(head -c 400 "$WORK/r.err")"; fi
else
    skip v2_busy_caller_cgroup "needs memory in cgroup v2 and a caller in the root cgroup"
fi
sb "${ST[@]}" -- /bin/true
expect v2_ordinary_run_is_ok verdict ok
left=$(leftovers)
if [ -z "$left" ]; then pass v2_runs_leave_nothing_behind; else fail v2_runs_leave_nothing_behind "$left"; fi

if [ ${#moved[@]} -gt 0 ]; then
    was=("${moved[@]}")
    restore
    for c in "${was[@]}"; do
        if mountpoint -q "/sys/fs/cgroup/$c"; then pass "v1_${c}_hierarchy_restored"
        else fail "v1_${c}_hierarchy_restored" "/sys/fs/cgroup/$c is not mounted again"; fi
    done
    sb "${ST[@]}" -- /bin/true
    expect v1_pids_back_after_the_test "enforced cgroups pids" v1
fi
summary
