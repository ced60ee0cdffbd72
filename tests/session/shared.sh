#!/bin/bash
# shared.sh [BUILD_DIR] - the session tests every backend passes: create,
# exec (streams, exit codes, stdin, environment, concurrency, output caps,
# timeouts), memory kills, files (binary, odd names, symlinks and ".."),
# disk caps, ps, destroy, a killed monitor, idle timeout and churn.
# Prints PASS/FAIL/SKIP lines; exits 1 if any failed.
#
#   LCS_SESSION_ROOTFS=DIR   native sessions on that rootfs (tests/session/run.sh)
#   LCS_SESSION_ENGINE=unix:///PATH
#                            Docker-backend sessions on that engine, of the
#                            base image; test names get the prefix docker_session_
#                            (tests/docker/run.sh)
#
# Uses LLMCORE_SANDBOX_STATE when set (the caller's private state directory),
# else one of its own.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$(realpath "${1:-$top/build}")
C=$B/llmcore-sandbox H=$B/lcs-session-helper
W=${LCS_TEST_WAIT_SCALE:-1}
engine=${LCS_SESSION_ENGINE:-}
FAILS=0
if [ -n "$engine" ]; then
    pfx=docker_session_ churn=8
    SB=(--image llmcore-sandbox-base --backend docker --engine "$engine")
else
    pfx= churn=30
    [ -d "${LCS_SESSION_ROOTFS:-}" ] || { echo "FAIL sessions: LCS_SESSION_ROOTFS is not a directory"; exit 1; }
    SB=(--rootfs "$LCS_SESSION_ROOTFS")
fi
pass() { echo "PASS $pfx$1"; }
fail() { echo "FAIL $pfx$1: $2"; FAILS=$((FAILS + 1)); }
skip() { echo "SKIP $pfx$1: $2"; }
tmp=$(mktemp -d /tmp/lcs-shared-XXXXXX); chmod 755 "$tmp"
own_state=
if [ -z "${LLMCORE_SANDBOX_STATE:-}" ]; then own_state=1; export LLMCORE_SANDBOX_STATE=$tmp/state; fi
cleanup() {
    if [ -n "$own_state" ]; then
        for d in "$LLMCORE_SANDBOX_STATE"/sessions/*/; do
            [ -d "$d" ] && "$C" rm "$(basename "$d")" >/dev/null 2>&1
        done
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
sanitizer_check() { grep -q Sanitizer "$tmp/err" 2>/dev/null && fail sanitizer_clean "$(head -c 400 "$tmp/err")"; }
. "$top/tests/session/lib.sh"

# ---------------------------------------------------------------- basics
id=$("$C" create "${SB[@]}" --label basic 2>"$tmp/err"); sanitizer_check
if [[ "$id" =~ ^[0-9a-f]{16}$ ]]; then pass create_prints_id; else fail create_prints_id "'$id' $(cat "$tmp/err")"; fi
out=$("$C" exec "$id" -- sh -c 'echo out; echo err >&2; exit 3' 2>"$tmp/err"); rc=$?
if [ "$out" = out ] && [ "$rc" = 3 ] && grep -q '^err$' "$tmp/err"; then pass exec_streams_and_exit_code
else fail exec_streams_and_exit_code "rc=$rc out=$out err=$(cat "$tmp/err")"; fi
"$C" exec "$id" -- sh -c 'echo state > keep.txt; mkdir -p sub; export X=1' >/dev/null
out=$("$C" exec -w /home/sandbox/work/sub "$id" -- sh -c 'cat ../keep.txt; pwd')
if [ "$out" = "$(printf 'state\n/home/sandbox/work/sub')" ]; then pass state_persists_across_execs
else fail state_persists_across_execs "$out"; fi
out=$("$C" exec -e FOO='a b$c' "$id" -- sh -c 'echo "$FOO"; id -u; echo $PATH')
if [ "$(echo "$out" | head -2 | tr '\n' '|')" = 'a b$c|1000|' ] && [ -n "$(echo "$out" | sed -n 3p)" ]; then pass exec_env_added_uid_1000
else fail exec_env_added_uid_1000 "$out"; fi
# the command's own environment (a shell would hide duplicates)
# (where the entry goes is the backend's choice: the engine keeps it in place)
out=$("$C" exec -e HOME=/override "$id" -- cat /proc/self/environ | tr '\0' '\n' | grep -E '^(HOME|LANG)=' | sort | tr '\n' '|')
if [ "$out" = 'HOME=/override|LANG=C.UTF-8|' ]; then pass exec_env_addition_replaces_session_entry
else fail exec_env_addition_replaces_session_entry "$out"; fi
# init serves a second exec while the first still runs
"$C" exec "$id" -- sleep 2 >/dev/null 2>&1 & bg=$!
sleep 0.3
t0=$(date +%s.%N); out=$("$C" exec "$id" -- echo second); t1=$(date +%s.%N)
wait $bg; rc=$?
if [ "$out" = second ] && [ $rc = 0 ] && python3 -c "import sys; sys.exit(0 if $t1-$t0 < 1.0 else 1)"; then
    pass concurrent_execs; else fail concurrent_execs "out=$out rc=$rc $t0 $t1"; fi
out=$(printf 'line1\nline2\n' | "$C" exec -i "$id" -- wc -l)
if [ "$out" = 2 ]; then pass exec_stdin; else fail exec_stdin "$out"; fi
"$C" exec --json "$id" -- sh -c 'exit 0' >"$tmp/r.json"
if python3 -c "import json,sys; d=json.load(open('$tmp/r.json')); sys.exit(0 if d['verdict']=='ok' and d['enforced']['seccomp']['enabled'] and 'policy' in d else 1)"; then
    pass exec_json_has_verdict_enforced_policy; else fail exec_json_has_verdict_enforced_policy "$(head -c 300 "$tmp/r.json")"; fi
"$C" exec --output-limit 4k "$id" -- sh -c 'yes flood' >"$tmp/flood" 2>"$tmp/err"; rc=$?
n=$(wc -c <"$tmp/flood")
if [ "$rc" = 125 ] && [ "$n" -le 4096 ] && grep -q 'verdict output' "$tmp/err"; then pass exec_output_cap_verdict_output
else fail exec_output_cap_verdict_output "rc=$rc bytes=$n $(cat "$tmp/err")"; fi
# the session's own cap (create --output-limit) applies to an exec without
# one, and output past it is the verdict even when the command ends first
cid=$("$C" create "${SB[@]}" --output-limit 1k)
ok=1
for i in 1 2 3; do
    "$C" exec --json "$cid" -- sh -c 'yes | head -c 5000' >"$tmp/cap.json"
    python3 -c "import json,sys; d=json.load(open('$tmp/cap.json')); sys.exit(0 if (len(d['stdout']), d['stdout_truncated'], d['verdict']) == (1024, True, 'output') else 1)" || ok=0
done
if [ $ok = 1 ]; then pass exec_session_output_cap_applies; else fail exec_session_output_cap_applies "$(head -c 300 "$tmp/cap.json")"; fi
"$C" rm "$cid" >/dev/null
"$H" stream "$id" >"$tmp/stream"
if awk '/^chunk/ {t[++n]=$2} END {exit !(n==3 && t[1] < 0.25 && t[3]-t[1] > 0.4)}' "$tmp/stream"; then pass exec_output_streams_live
else fail exec_output_streams_live "$(cat "$tmp/stream")"; fi
# non-finite or out-of-range numbers are invalid input (4) with a message
# naming the value, never "out of memory" (jansson cannot encode inf/nan)
ok=1; msgs=
for a in "exec --timeout inf $id -- true" "exec --timeout 1e300 $id -- true" "create ${SB[*]} --idle-timeout inf" "create ${SB[*]} --idle-timeout 1e300"; do
    # shellcheck disable=SC2086
    m=$("$C" $a 2>&1 >/dev/null); r=$?
    { [ $r = 4 ] && grep -Eq "inf|1e\+?300" <<<"$m" && ! grep -q "out of memory" <<<"$m"; } || { ok=0; msgs="$msgs [$a: rc=$r $m]"; }
done
if [ $ok = 1 ]; then pass exec_and_create_reject_non_finite_numbers; else fail exec_and_create_reject_non_finite_numbers "$msgs"; fi
# a working directory that cannot be entered: the command never ran, which
# is an exec error naming the directory (exit 1), not 125 (limits only)
"$C" exec -w /no/such/dir "$id" -- true >/dev/null 2>"$tmp/err"; rc=$?
"$C" exec -w /etc/passwd "$id" -- true >/dev/null 2>"$tmp/err2"; rc2=$?
if [ $rc = 1 ] && grep -q 'cannot change to the working directory /no/such/dir: No such file or directory' "$tmp/err" &&
   [ $rc2 = 1 ] && grep -q 'working directory /etc/passwd: Not a directory' "$tmp/err2"; then
    pass exec_bad_workdir_is_an_error_not_125
else fail exec_bad_workdir_is_an_error_not_125 "rc=$rc $(cat "$tmp/err"); rc=$rc2 $(cat "$tmp/err2")"; fi
out=$("$C" exec "$id" -- /no/such/program 2>&1); rc=$?
if [ "$rc" = 127 ]; then pass exec_missing_program_127; else fail exec_missing_program_127 "rc=$rc $out"; fi

# ---------------------------------------------------------------- timeout
mark=lcs-sess-daemon-$$
t0=$(date +%s.%N)
# a daemon that ignores SIGTERM/SIGHUP, double-forked into its own session;
# its script name makes it findable with pgrep -f from the host
"$C" exec "$id" -- sh -c "printf 'trap \"\" TERM HUP\nwhile :; do sleep 1; done\n' > /tmp/$mark.sh" >/dev/null
# (native: the exec's cgroup is killed, so even a setsid daemon goes; the
# docker backend kills the exec's session, so its daemon stays in it and a
# setsid one lives until destroy: destroy_leaves_nothing checks that one)
if [ -n "$engine" ]; then detach= tname=exec_timeout_kills_double_forked_child
else detach=setsid tname=exec_timeout_kills_double_forked_daemon; fi
"$C" exec --timeout 1 "$id" -- sh -c "($detach sh /tmp/$mark.sh &); sleep 1000" >/dev/null 2>"$tmp/err"; rc=$?
t1=$(date +%s.%N)
sleep 0.3
if [ "$rc" = 124 ] && ! pgrep -f "/tmp/$mark.sh" >/dev/null && python3 -c "import sys; sys.exit(0 if $t1-$t0 < 4 else 1)"; then
    pass $tname
else fail $tname "rc=$rc left=$(pgrep -af "$mark") $(cat "$tmp/err")"; fi
out=$("$C" exec "$id" -- cat keep.txt)
if [ "$out" = state ]; then pass session_survives_exec_timeout; else fail session_survives_exec_timeout "$out"; fi

# ---------------------------------------------------------------- OOM
# An exec that exceeds the session's memory limit dies alone: the OOM
# killer must never take init (the session would die with it), on cgroup
# v1 or v2 (where memory.oom.group must not widen the kill to the session).
# Each try fills an unlinked workspace file (a tmpfs charged to the
# session's memory cgroup, freed when its writer dies) from a process whose
# resident size is smaller than init's: the case where the OOM killer, if it
# may choose init, prefers it. A following exec must work.
oid=$("$C" create "${SB[@]}" -m 32m --label oom 2>"$tmp/err"); sanitizer_check
if [ -n "$oid" ]; then
    bad=
    for i in 1 2 3 4 5 6 7; do
        v=$("$C" exec --json "$oid" -- sh -c 'exec 3>fill; rm fill; exec head -c 100m /dev/zero >&3' 2>&1 |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["verdict"])' 2>/dev/null || echo 'no result')
        out=$("$C" exec "$oid" -- echo alive 2>&1)
        [ "$v" = memory ] && [ "$out" = alive ] || { bad="try $i: verdict '$v', then '$out'"; break; }
    done
    # (native: init is outside the memory cgroup the execs are charged to;
    # docker: the engine's init shares it, exempted from the OOM killer)
    adj=$("$C" exec --json "$oid" -- true | python3 -c 'import json,sys; o=json.load(sys.stdin)["enforced"]["oom"]; print(o.get("init_outside_memory_cgroup", o.get("init_exempt")))' 2>&1)
    if [ -z "$bad" ] && [ "$adj" = True ]; then pass session_oom_kills_exec_not_init
    else fail session_oom_kills_exec_not_init "${bad:-enforced.oom (init outside the memory cgroup, or exempt): $adj}"; fi
    "$C" rm "$oid" >/dev/null 2>&1
else fail session_oom_kills_exec_not_init "create: $(cat "$tmp/err")"; fi

# ---------------------------------------------------------------- files
head -c 10485760 /dev/urandom >"$tmp/big.bin"
"$C" cp "$tmp/big.bin" "$id:big.bin" && "$C" cp "$id:big.bin" "$tmp/big.back"
sum=$("$C" exec "$id" -- md5sum big.bin | cut -d' ' -f1)
if cmp -s "$tmp/big.bin" "$tmp/big.back" && [ "$sum" = "$(md5sum <"$tmp/big.bin" | cut -d' ' -f1)" ]; then
    pass files_10mb_binary_round_trip; else fail files_10mb_binary_round_trip "sum=$sum"; fi
ok=1
for name in 'with space' "quo'te\"d" 'dollar$HOME' $'new\nline' 'ünïcødé-文件' '-dash'; do
    printf 'content of %s' "$name" >"$tmp/src"
    "$C" cp "$tmp/src" "$id:./$name" 2>>"$tmp/err" || ok=0
    got=$("$C" cp "$id:./$name" - 2>>"$tmp/err")
    [ "$got" = "content of $name" ] || { ok=0; echo "  name '$name' -> '$got'"; }
    inside=$("$C" exec -e "N=$name" "$id" -- sh -c 'cat "./$N"')
    [ "$inside" = "content of $name" ] || { ok=0; echo "  inside '$name' -> '$inside'"; }
done
if [ $ok = 1 ]; then pass files_odd_names_round_trip; else fail files_odd_names_round_trip "$(tail -3 "$tmp/err")"; fi
printf 'data' | "$C" cp - "$id:from-stdin" && out=$("$C" exec "$id" -- cat from-stdin)
if [ "$out" = data ]; then pass cp_from_stdin; else fail cp_from_stdin "$out"; fi
"$C" ls --json "$id" >"$tmp/ls.json"
if python3 -c "import json,sys; d=json.load(open('$tmp/ls.json')); n=[x['path'] for x in d]; sys.exit(0 if '/home/sandbox/work/big.bin' in n and '/home/sandbox/work/new\nline' in n else 1)"; then
    pass ls_json_lists_workspace; else fail ls_json_lists_workspace "$(head -c 300 "$tmp/ls.json")"; fi
"$C" export "$id" >"$tmp/w.tar"
if tar tf "$tmp/w.tar" | grep -q '^big.bin$' && tar tf "$tmp/w.tar" | grep -q '^sub/$'; then pass export_tar_of_workspace
else fail export_tar_of_workspace "$(tar tf "$tmp/w.tar" 2>&1 | head -5)"; fi
# A static CLI runs tar work in llmcore-sandbox-archive; without it, the
# error names the helper and the fix (a dynamic CLI loads libarchive itself).
if ! ldd "$C" >/dev/null 2>&1; then
    LLMCORE_SANDBOX_ARCHIVE=$tmp/no-such-helper "$C" export "$id" >/dev/null 2>"$tmp/err"; rc=$?
    if [ $rc -ne 0 ] && grep -q 'LLMCORE_SANDBOX_ARCHIVE=.*no-such-helper is not executable' "$tmp/err"; then
        pass static_cli_export_names_a_missing_helper
    else fail static_cli_export_names_a_missing_helper "rc $rc: $(cat "$tmp/err")"; fi
fi
# planted symlinks and ..: the host side must stay inside the sandbox
echo host-secret >"$tmp/secret"; chmod 644 "$tmp/secret"
echo host-victim >"$tmp/victim"
"$C" exec "$id" -- sh -c "ln -s $tmp/secret leak; ln -s $tmp/victim victim; ln -s / rootlink; ln -s ../../../.. up" >/dev/null
bad=0
for p in leak rootlink$tmp/secret up$tmp/secret "../../../../../..$tmp/secret" "$tmp/secret"; do
    got=$("$C" cp "$id:$p" - 2>/dev/null)
    [ "$got" = host-secret ] && { bad=1; echo "  read host file via $p"; }
done
for p in victim rootlink$tmp/victim up$tmp/victim "../../../../../..$tmp/victim"; do
    echo pwned | "$C" cp - "$id:$p" 2>/dev/null
done
[ "$(cat "$tmp/victim")" = host-victim ] || { bad=1; echo "  host victim changed"; }
[ -L "$tmp/victim" ] && bad=1
if [ $bad = 0 ]; then pass files_symlinks_and_dotdot_stay_inside; else fail files_symlinks_and_dotdot_stay_inside "see above"; fi

# disk fill: a session's writable layer is capped (--disk); a fill from
# inside and an oversized put from the host both end in ENOSPC, the file a
# failed put would replace is intact, and nothing lands on the host's disk.
did=$("$C" create "${SB[@]}" --disk 16m --label disk 2>"$tmp/err"); sanitizer_check
if [ -n "$did" ]; then
    before=$(du -sk "$LLMCORE_SANDBOX_STATE" /var/tmp 2>/dev/null | awk '{s+=$1} END {print s}')
    out=$("$C" exec "$did" -- sh -c 'dd if=/dev/zero of=fill bs=1M count=64 2>&1; echo rc=$?; rm fill; echo kept > f; df -k . | tail -1')
    head -c 40000000 /dev/zero >"$tmp/40m"
    "$C" cp "$tmp/40m" "$did:f" 2>"$tmp/err"; rc=$?
    after=$(du -sk "$LLMCORE_SANDBOX_STATE" /var/tmp 2>/dev/null | awk '{s+=$1} END {print s}')
    kept=$("$C" exec "$did" -- cat f)
    cap=$("$C" exec --json "$did" -- true | python3 -c '
import json, re, sys
e = json.load(sys.stdin)["enforced"]
if e.get("backend") == "docker":
    m = re.search(r"size=(\d+)", e["tmpfs"]["/home/sandbox/work"])
    print(m and m.group(1))
else:
    print(e["limits"].get("disk_bytes"))')
    if grep -q 'No space left on device' <<<"$out" && grep -q 'rc=1' <<<"$out" && [ $rc -ne 0 ] &&
       grep -q 'No space left on device' "$tmp/err" && [ "$kept" = kept ] && [ "$cap" = 16777216 ] &&
       [ $((after - before)) -lt 8192 ]; then
        pass session_disk_fill_is_capped
    else fail session_disk_fill_is_capped "out=$out rc=$rc err=$(cat "$tmp/err") kept=$kept cap=$cap host grew $((after - before)) KiB"; fi
    "$C" rm "$did" >/dev/null
else fail session_disk_fill_is_capped "create: $(cat "$tmp/err")"; fi
"$C" create "${SB[@]}" --disk 1m 2>"$tmp/err"; rc=$?
if [ $rc -ne 0 ] && grep -q 'disk (writable layer) size 1 MiB is outside 4 MiB..1 TiB' "$tmp/err"; then
    pass session_disk_below_minimum_is_refused
else fail session_disk_below_minimum_is_refused "rc=$rc $(cat "$tmp/err")"; fi

# ---------------------------------------------------------------- ps, destroy
"$C" ps --json >"$tmp/ps.json"
if python3 -c "import json,sys; d=json.load(open('$tmp/ps.json')); sys.exit(0 if any(s['id']=='$id' and s['label']=='basic' for s in d) else 1)"; then
    pass ps_lists_session; else fail ps_lists_session "$(cat "$tmp/ps.json")"; fi
"$C" exec "$id" -- sh -c "cp /tmp/$mark.sh /tmp/$mark-bg.sh; (setsid sh /tmp/$mark-bg.sh &) ; echo started" >/dev/null
pgrep -f "/tmp/$mark-bg.sh" >/dev/null || fail background_daemon_runs "not found before destroy"
"$C" rm --keep-workspace "$tmp/kept" "$id" 2>"$tmp/err"; rc=$?
sleep 0.2
left=$(leftovers "$id"; pgrep -af "/tmp/$mark-bg.sh")
if [ $rc = 0 ] && [ -z "$left" ]; then pass destroy_leaves_nothing; else fail destroy_leaves_nothing "rc=$rc $(cat "$tmp/err") left: $left"; fi
if cmp -s "$tmp/kept/big.bin" "$tmp/big.bin" && [ "$(cat "$tmp/kept/keep.txt")" = state ]; then pass destroy_keeps_workspace_on_request
else fail destroy_keeps_workspace_on_request "$(ls -la "$tmp/kept" 2>&1 | head)"; fi
"$C" exec "$id" -- true 2>/dev/null; rc=$?
if [ $rc = 3 ]; then pass exec_on_destroyed_session_is_not_found; else fail exec_on_destroyed_session_is_not_found "rc=$rc"; fi
id=$("$C" create "${SB[@]}")
"$C" exec "$id" -- sh -c "printf 'while :; do sleep 1; done\n' > /tmp/$mark-k9.sh; (setsid sh /tmp/$mark-k9.sh &)" >/dev/null
mpid=$(python3 -c "import json; print(json.load(open('$LLMCORE_SANDBOX_STATE/sessions/$id/info.json'))['monitor_pid'])")
pgrep -f "/tmp/$mark-k9.sh" >/dev/null || fail k9_daemon_runs "not found before the kill"
kill -9 "$mpid"; sleep 0.3
"$C" ps >/dev/null
sleep 0.2
left=$(leftovers "$id"; pgrep -af "/tmp/$mark-k9.sh")
if [ -z "$left" ]; then pass monitor_kill9_then_ps_cleans_up; else fail monitor_kill9_then_ps_cleans_up "$left"; fi
# idle timeout
id=$("$C" create "${SB[@]}" --idle-timeout 1)
sleep 2.5
if [ -z "$(leftovers "$id")" ]; then pass idle_timeout_destroys; else fail idle_timeout_destroys "$(leftovers "$id")"; fi

# churn
bad=0
for i in $(seq 1 "$churn"); do
    id=$("$C" create "${SB[@]}" 2>>"$tmp/churn.err") || { bad=1; continue; }
    [ "$("$C" exec "$id" -- echo $i)" = "$i" ] || bad=1
    "$C" rm "$id" 2>>"$tmp/churn.err" || bad=1
    [ -z "$(leftovers "$id")" ] || { bad=1; leftovers "$id"; }
done
left=$(ls "$LLMCORE_SANDBOX_STATE/sessions" 2>/dev/null)
if [ $bad = 0 ] && [ -z "$left" ]; then pass churn_${churn}_sessions_leave_nothing; else fail churn_${churn}_sessions_leave_nothing "$(tail -3 "$tmp/churn.err") $left"; fi

[ "$FAILS" -eq 0 ]
