#!/bin/bash
# rootless.sh - the native runtime started by an ordinary user (run by
# run-all.sh as root: it creates a throw-away user and runs the sandbox via
# runuser). Checks what works and that missing cgroups fail closed.
. "$(dirname "$0")/lib.sh"
user=lcs-rootless-test
created=0
if ! id "$user" >/dev/null 2>&1; then
    useradd -M -d /nonexistent -s /usr/sbin/nologin "$user" 2>/dev/null && created=1
fi
if ! id "$user" >/dev/null 2>&1; then skip rootless "cannot create user $user"; summary; exit; fi
rl="$WORK/rootless"; mkdir -p "$rl"; cp -a "$ROOTFS" "$rl/rootfs"; chown -R "$user" "$rl"
uid=$(id -u "$user")
rrun() { runuser -u "$user" -- "$RUN" --rootfs "$rl/rootfs" --seccomp "$SECCOMP" --state-dir "$rl/state" "$@" >"$WORK/r.json" 2>"$WORK/r.err"; }

rrun -- /bin/true
if [ $? -eq 2 ] && grep -q 'unsupported: refusing to run without memory-limit' "$WORK/r.err"; then
    pass rootless_without_cgroups_fails_closed
elif [ "$(j verdict)" = ok ]; then
    pass rootless_with_delegated_cgroups_runs
else
    fail rootless_without_cgroups_fails_closed "$(cat "$WORK/r.err")"
fi
rrun --degraded -- /bin/sh -c 'id -u; echo x > /home/sandbox/work/f && cat /home/sandbox/work/f; touch /etc/x 2>&1; true'
if [ "$(j verdict)" = ok ] && [ "$(j stdout | head -2 | tr '\n' ' ')" = "1000 x " ] && j stdout | grep -q 'Read-only'; then
    pass rootless_degraded_run_works; else fail rootless_degraded_run_works "$(j stdout) $(cat "$WORK/r.err")"; fi
if [ "$(j enforced user host_uid)" = "$uid" ] && [ "$(j enforced user mode)" = rootless ]; then
    pass rootless_maps_caller_uid_to_1000; else fail rootless_maps_caller_uid_to_1000 "$(j enforced user)"; fi
if j enforced degraded | grep -q memory-limit; then pass rootless_report_lists_downgrades; else fail rootless_report_lists_downgrades "$(j enforced degraded)"; fi
mark=lcs-rl-daemon-$$
rrun --degraded --timeout 1 -- /bin/sh -c "(setsid sh -c 'while :; do sleep 1; done' $mark &); sleep 1000"
sleep 0.2
if [ "$(j verdict)" = timeout ] && ! pgrep -f "$mark" >/dev/null; then pass rootless_timeout_kills_tree
else fail rootless_timeout_kills_tree "verdict $(j verdict), left: $(pgrep -af "$mark")"; fi
[ $created = 1 ] && userdel "$user" 2>/dev/null
rm -rf "$rl"
summary
