#!/bin/bash
# verdicts.sh - behaviour of one-shot native runs: verdicts, limits, the
# environment the command sees, and cleanup. Run by run-all.sh (as root).
. "$(dirname "$0")/lib.sh"
ST=(--state-dir "$STATE")

sb "${ST[@]}" -- /bin/true; expect runs_true_with_verdict_ok verdict ok
sb "${ST[@]}" -- /bin/sh -c 'exit 3'; expect nonzero_exit_is_verdict_exit verdict exit
expect nonzero_exit_code_is_reported exit_code 3
sb "${ST[@]}" -- /bin/sh -c 'kill -SEGV $$'; expect self_signal_is_verdict_signal verdict signal
expect signal_number_is_reported signal 11
sb "${ST[@]}" -- /bin/no-such-program; expect missing_program_exits_127 exit_code 127
# A profile that denies everything: the command never starts (its execve and
# then its exit are refused, so it dies of SIGSEGV) or the kill action takes
# it (SIGSYS). Either way the verdict names seccomp, not a mere signal.
printf '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[]}' >"$WORK/deny-all.json"
printf '{"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[]}' >"$WORK/kill-all.json"
sb "${ST[@]}" --seccomp "$WORK/deny-all.json" -- /bin/true; expect deny_all_profile_is_verdict_seccomp verdict seccomp
sb "${ST[@]}" --seccomp "$WORK/kill-all.json" -- /bin/true; expect kill_all_profile_is_verdict_seccomp verdict seccomp
expect kill_all_profile_signal_is_sigsys signal 31
# the shipped profile with one call turned into a kill: the command starts,
# makes that call and is killed with SIGSYS: seccomp too
python3 "$(dirname "$0")/../fixtures/kill-sync-profile.py" "$SECCOMP" "$WORK/kill-sync.json"
sb "${ST[@]}" --seccomp "$WORK/kill-sync.json" -- /bin/sync; expect killed_by_filter_is_verdict_seccomp verdict seccomp
sb "${ST[@]}" --seccomp "$WORK/kill-sync.json" -- /bin/sh -c 'kill -SEGV $$'; expect own_signal_under_custom_profile_is_signal verdict signal

t0=$(date +%s.%N)
sb "${ST[@]}" --timeout 1 -- /bin/sleep 1000; expect sleep_past_timeout_is_verdict_timeout verdict timeout
t1=$(date +%s.%N)
if python3 -c "import sys; sys.exit(0 if $t1 - $t0 < 4 else 1)"; then pass timeout_kills_within_bound; else fail timeout_kills_within_bound "took $(python3 -c "print($t1-$t0)") s"; fi

sb "${ST[@]}" --timeout 1 -- /bin/sh -c 'while :; do :; done'; expect cpu_spin_is_verdict_timeout verdict timeout

# Double-forked daemon that ignores SIGTERM and writes its host-visible pid
# nowhere: we find it by a unique marker in its command line.
mark=lcs-daemon-$$-$RANDOM
# (busybox: `exec -a NAME sleep` would make the applet lookup fail and the
# "daemon" exit at once; a shell loop with the marker as $0 really runs)
sb "${ST[@]}" --timeout 2 -- /bin/sh -c "(trap '' TERM HUP; setsid sh -c 'while :; do sleep 1; done' $mark &) ; sleep 0.3; ps -o args | grep -q \"[w]hile.*$mark\" && echo daemon-up; sleep 1000"
expect daemon_run_times_out verdict timeout
expect daemon_was_running stdout daemon-up
sleep 0.2
if pgrep -f "$mark" >/dev/null; then fail double_forked_daemon_is_killed "still running: $(pgrep -af "$mark")"; else pass double_forked_daemon_is_killed; fi
# The same after a normal exit (init dies -> pid namespace dies).
mark2=lcs-daemon2-$$-$RANDOM
sb "${ST[@]}" -- /bin/sh -c "(trap '' TERM; setsid sh -c 'while :; do sleep 1; done' $mark2 >/dev/null &); echo started"
expect daemon_parent_exits_ok verdict ok
sleep 0.2
if pgrep -f "$mark2" >/dev/null; then fail daemon_dies_when_command_exits "still running"; else pass daemon_dies_when_command_exits; fi

sb "${ST[@]}" --pids 20 --timeout 10 -- /bin/sh -c 'i=0; while [ $i -lt 200 ]; do sleep 5 & i=$((i+1)); done; wait'
expect fork_bomb_is_verdict_pids verdict pids
sb "${ST[@]}" --pids 64 --timeout 5 -- /bin/sh -c 'bomb() { bomb | bomb; }; bomb'
expect classic_fork_bomb_is_verdict_pids verdict pids
if /bin/true; then pass host_can_fork_after_fork_bomb; else fail host_can_fork_after_fork_bomb "fork failed"; fi

sb "${ST[@]}" --memory 64M --timeout 20 -- /bin/sh -c 'dd if=/dev/zero of=/dev/null bs=300M count=1'
expect memory_bomb_is_verdict_memory verdict memory

sb "${ST[@]}" --output-limit 64K --timeout 20 -- /bin/sh -c 'yes floodfloodflood'
expect output_flood_is_verdict_output verdict output
expect output_flood_marks_truncated stdout_truncated true
n=$(j stdout | wc -c)
if [ "$n" -le 65537 ] && [ "$n" -ge 60000 ]; then pass output_is_capped_at_limit; else fail output_is_capped_at_limit "got $n bytes"; fi

sb "${ST[@]}" --tmp 8M -- /bin/sh -c 'dd if=/dev/zero of=/tmp/fill bs=1M count=64 2>&1; echo rc=$?'
expect tmp_fill_finishes_cleanly verdict ok
if j stdout | grep -q 'No space left on device'; then pass tmp_fill_hits_enospc; else fail tmp_fill_hits_enospc "$(j stdout)"; fi

# The workspace (the writable layer) has its own cap: a fill ends in ENOSPC
# inside the sandbox, never on the host's disk.
sb "${ST[@]}" --disk 16M -- /bin/sh -c 'dd if=/dev/zero of=/home/sandbox/work/fill bs=1M count=64 2>&1; echo rc=$?'
expect workspace_fill_finishes_cleanly verdict ok
expect workspace_fill_cap_is_reported "enforced limits disk_bytes" 16777216
if j stdout | grep -q 'No space left on device' && j stdout | grep -q 'rc=1'; then pass workspace_fill_hits_enospc
else fail workspace_fill_hits_enospc "$(j stdout)"; fi

sb "${ST[@]}" --fsize 1M -- /bin/sh -c 'dd if=/dev/zero of=/home/sandbox/work/big bs=64K count=64 2>&1; echo rc=$?'
if j stdout | grep -qE 'File too large|rc=1'; then pass fsize_rlimit_applies; else fail fsize_rlimit_applies "$(j stdout)"; fi

sb "${ST[@]}" --env A=1 --env PATH=/bin -- /bin/env
if [ "$(j stdout | grep -v '^PWD=' | grep -v '^SHLVL=' | grep . | sort | tr '\n' ' ')" = "A=1 PATH=/bin " ]; then pass environment_is_exactly_the_given_one; else fail environment_is_exactly_the_given_one "$(j stdout)"; fi
# Signals the caller ignores (inherited by the runtime) are default again in
# the command: nothing of the caller's dispositions crosses into the sandbox,
# glibc's own signals 32 and 33 included (its wrappers refuse to touch them).
python3 - "$RUN" --rootfs "$ROOTFS" --seccomp "$SECCOMP" "${ST[@]}" -- /bin/cat /proc/self/status \
    >"$WORK/r.json" 2>"$WORK/r.err" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
class KSigaction(ctypes.Structure):
    _fields_ = [("handler", ctypes.c_void_p), ("flags", ctypes.c_ulong),
                ("restorer", ctypes.c_void_p), ("mask", ctypes.c_uint64)]
for sig in (10, 13, 15, 32, 33):
    ign = KSigaction(1, 0, None, 0)  # SIG_IGN
    if libc.syscall(13, sig, ctypes.byref(ign), None, 8) != 0:  # rt_sigaction
        sys.exit("cannot ignore signal %d" % sig)
os.execv(sys.argv[1], sys.argv[1:])
PY
if [ "$(j stdout | grep -E '^Sig(Ign|Blk):' | tr -d ' \t' | tr '\n' ' ')" = "SigBlk:0000000000000000 SigIgn:0000000000000000 " ]; then pass caller_signal_dispositions_reset; else fail caller_signal_dispositions_reset "$(j stdout | grep '^Sig')"; fi
sb "${ST[@]}" -- /bin/sh -c 'id -u; id -g; pwd; hostname'
if [ "$(j stdout | grep . | tr '\n' ' ')" = "1000 1000 /home/sandbox/work sandbox " ]; then pass identity_uid_gid_cwd_hostname; else fail identity_uid_gid_cwd_hostname "$(j stdout)"; fi
sb "${ST[@]}" --stdin 'hello stdin' -- /bin/cat; expect stdin_is_fed stdout 'hello stdin'
sb "${ST[@]}" -- /bin/sh -c 'echo x > /home/sandbox/work/f && cat /home/sandbox/work/f && echo y > /tmp/t && cat /tmp/t'
expect workspace_and_tmp_writable stdout "x
y"
sb "${ST[@]}" -- /bin/sh -c 'touch /etc/x 2>&1; touch /x 2>&1; true'
if j stdout | grep -q 'Read-only file system'; then pass restricted_root_is_read_only; else fail restricted_root_is_read_only "$(j stdout)"; fi
sb "${ST[@]}" --writable -- /bin/sh -c 'mkdir -p /home/sandbox/new && echo ok'
expect full_mode_root_copy_on_write stdout ok
sb "${ST[@]}" -- /bin/sh -c 'grep -c . /proc/self/status >/dev/null; ps -o pid | wc -l'
if [ "$(j stdout)" -le 5 ]; then pass pid_namespace_shows_only_sandbox; else fail pid_namespace_shows_only_sandbox "$(j stdout) lines"; fi

mkdir -p "$WORK/in" "$WORK/out"; echo input-data > "$WORK/in/file"
chown 101000:101000 "$WORK/out"
sb "${ST[@]}" --input "$WORK/in" --output "$WORK/out" -- /bin/sh -c 'cat /home/sandbox/input/file; echo new > /home/sandbox/input/x 2>&1; echo result > /home/sandbox/output/r'
if [ "$(j stdout | head -1)" = input-data ] && [ "$(cat "$WORK/out/r" 2>/dev/null)" = result ] && [ ! -e "$WORK/in/x" ]; then pass input_ro_output_rw_binds; else fail input_ro_output_rw_binds "$(j stdout) / $(cat "$WORK/out/r" 2>&1)"; fi

sb "${ST[@]}" -- /bin/true
python3 - "$WORK/r.json" <<'PY' && pass enforced_report_is_honest || fail enforced_report_is_honest "$(j enforced)"
import json, sys
e = json.load(open(sys.argv[1]))["enforced"]
assert e["seccomp"]["enabled"] and e["no_new_privs"] and not e["degraded"]
assert e["cgroups"]["memory"] in ("v1", "v2") and e["cgroups"]["pids"] in ("v1", "v2")
assert e["user"]["uid"] == 1000 and e["user"]["host_uid"] != 0
assert set(e["namespaces"]) >= {"user", "mount", "pid", "ipc", "uts", "cgroup", "net"}
PY

# Fail closed: no seccomp profile and no degradation allowed.
"$RUN" --rootfs "$ROOTFS" --state-dir "$STATE" -- /bin/true >"$WORK/r.json" 2>"$WORK/r.err"
if [ $? -eq 2 ] && grep -q 'unsupported: refusing to run without seccomp' "$WORK/r.err"; then pass missing_seccomp_fails_closed; else fail missing_seccomp_fails_closed "$(cat "$WORK/r.err")"; fi
"$RUN" --rootfs "$ROOTFS" --state-dir "$STATE" --degraded -- /bin/true >"$WORK/r.json" 2>"$WORK/r.err"
if [ "$(j enforced degraded)" = '["seccomp"]' ]; then pass degraded_run_reports_downgrade; else fail degraded_run_reports_downgrade "$(j enforced degraded)"; fi
# Setup errors come back with their cause.
"$RUN" --rootfs /nonexistent --seccomp "$SECCOMP" -- /bin/true >/dev/null 2>"$WORK/r.err"
if grep -q '/nonexistent' "$WORK/r.err"; then pass bad_rootfs_error_names_path; else fail bad_rootfs_error_names_path "$(cat "$WORK/r.err")"; fi

left=$(leftovers)
if [ -z "$left" ]; then pass nothing_left_after_runs; else fail nothing_left_after_runs "$left"; fi
for i in $(seq 50); do sb "${ST[@]}" -- /bin/sh -c 'sleep 5 & echo $$ > /tmp/p; true' || break; done
left=$(leftovers)
if [ -z "$left" ]; then pass churn_50_runs_leaves_nothing; else fail churn_50_runs_leaves_nothing "$left"; fi
summary
