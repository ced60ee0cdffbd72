# lib.sh - helpers shared by tests/runtime and tests/security (sourced).
#
# Needs: RUN (path of lcs-native-run), ROOTFS (fixture rootfs), SECCOMP
# (profile), WORK (scratch dir). Each test prints PASS/FAIL/SKIP lines.
PASSES=0 FAILS=0 SKIPS=0
pass() { echo "PASS $1"; PASSES=$((PASSES + 1)); }
fail() { echo "FAIL $1: $2"; FAILS=$((FAILS + 1)); }
skip() { echo "SKIP $1: $2"; SKIPS=$((SKIPS + 1)); }
summary() {
    echo "# $(basename "$0"): $PASSES passed, $FAILS failed, $SKIPS skipped"
    [ "$FAILS" -eq 0 ]
}

# sb [runner options] -- CMD...: run in a sandbox; the JSON result goes to
# $WORK/r.json, errors to $WORK/r.err; returns the runner's status.
sb() {
    "$RUN" --rootfs "$ROOTFS" --seccomp "$SECCOMP" "$@" >"$WORK/r.json" 2>"$WORK/r.err"
    local rc=$?
    # Under the sanitizer build any report is a failure of its own.
    if grep -q 'Sanitizer' "$WORK/r.err"; then fail sanitizer_clean "$(head -c 600 "$WORK/r.err")"; fi
    return $rc
}
# j KEY [KEY...]: a field of the last result (nested keys allowed).
j() {
    python3 - "$WORK/r.json" "$@" 2>/dev/null <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    d = d[k]
print(json.dumps(d) if isinstance(d, (dict, list, bool)) or d is None else d)
PY
}
# expect NAME FIELD VALUE: compare one field of the last result.
expect() {
    local got
    got=$(j $2 2>/dev/null)
    if [ "$got" = "$3" ]; then pass "$1"; else fail "$1" "$2 is '$got', want '$3' (stderr: $(head -c 300 "$WORK/r.err"); out: $(j stdout 2>/dev/null | head -c 300 2>/dev/null))"; fi
}
# leftovers: prints whatever a finished run must not leave behind: run dirs
# in our private state dir, mounts under it, runner processes, and sandbox
# cgroups that stay empty for a second (a concurrent one-shot sandbox of
# another process on the same host is never empty for that long). A live
# session's cgroups are not leftovers even when empty (its memory cgroup
# holds only execs, none while it is idle): its monitor still runs.
empty_lcs_cgroups() {
    local cg d
    for cg in /sys/fs/cgroup/unified /sys/fs/cgroup/memory /sys/fs/cgroup/pids \
              /sys/fs/cgroup/cpu /sys/fs/cgroup/freezer /sys/fs/cgroup; do
        [ -d "$cg" ] || continue
        find "$cg" -maxdepth 4 -type d -name 'lcs-*' 2>/dev/null | while read -r d; do
            [ -s "$d/cgroup.procs" ] || [ -n "$(cat "$d/cgroup.procs" 2>/dev/null)" ] && continue
            pgrep -f "llmcore-sandbox-monitor .*/sessions/${d##*/lcs-}\$" >/dev/null && continue
            echo "$d"
        done
    done | sort -u
}
leftovers() {
    local a b
    a=$(empty_lcs_cgroups); sleep 1; b=$(empty_lcs_cgroups)
    comm -12 <(echo "$a") <(echo "$b") | grep .
    ls -d "$STATE"/lcs-* 2>/dev/null
    grep -F "$STATE" /proc/self/mountinfo
    pgrep -f "^$RUN" | grep -v "^$$\$"
}
