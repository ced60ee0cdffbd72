#!/bin/bash
# run.sh [BUILD_DIR] - the Docker backend's renderer on a real engine:
# Podman's Docker-compatible service (Debian's podman, started here with
# runc and the ulimits this machine needs), driven over its unix socket
# with the Docker Engine API. For each case the container body comes from
# BUILD_DIR/lcs-docker-render, the base image is loaded from the image
# store by `llmcore-sandbox images load`, and a script inside reports what
# the kernel really applies.
# Prints PASS/FAIL/SKIP lines.
#
# Podman's storage is cached in $LCS_PODMAN_CACHE (default
# /var/cache/llmcore-sandbox-test/podman); an empty one only costs the
# image load.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
B=${1:-$top/build}
render=$B/lcs-docker-render
[ "$(id -u)" = 0 ] || { echo "SKIP docker: the engine tests start a rootful podman service (need root)"; exit 0; }
for t in podman runc curl skopeo; do
    command -v $t >/dev/null || { echo "FAIL docker: $t is not installed (scripts/install-deps.sh installs it)"; exit 0; }
done
[ -x "$render" ] || { echo "FAIL docker: $render missing (run make)"; exit 0; }
store=${LLMCORE_SANDBOX_STORE:-/var/lib/llmcore-sandbox}
oci=$store/images/llmcore-sandbox-base/1.0.0/oci
[ -f "$oci/index.json" ] || { echo "FAIL docker: the base image is not built ($oci; make -C container_images base)"; exit 0; }

cache=${LCS_PODMAN_CACHE:-/var/cache/llmcore-sandbox-test/podman}
run=$(mktemp -d /tmp/lcs-docker-XXXXXX)
mkdir -p "$cache"
# crun refuses a hybrid cgroup layout: runc. A root without
# CAP_SYS_RESOURCE cannot raise rlimits: podman's defaults are lowered.
cat >"$run/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF=$run/containers.conf
# podman's database records its runroot: a fixed one beside the cached
# storage, one run at a time
exec 9>"$cache/.lock"
flock 9
P=(podman --root "$cache/root" --runroot /run/llmcore-sandbox-test-podman)
api() { curl -sS --max-time 60 --unix-socket "$run/engine.sock" "$@"; }
svc=
trap 'kill $svc 2>/dev/null; wait $svc 2>/dev/null; rm -rf "$run"' EXIT
start_service() {
    "${P[@]}" system service --time=0 "unix://$run/engine.sock" >"$run/service.log" 2>&1 9>&- &
    svc=$!
    for _ in $(seq 300); do
        api -o /dev/null http://d/_ping 2>/dev/null && return 0
        kill -0 $svc 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
if ! start_service && grep -q "database configuration mismatch" "$run/service.log"; then
    # a cache made with other settings (podman records them): start afresh
    kill $svc 2>/dev/null; wait $svc 2>/dev/null
    umount "$cache/root/overlay" 2>/dev/null
    rm -rf "$cache/root" /run/llmcore-sandbox-test-podman
    start_service || { echo "FAIL docker: the podman service did not answer: $(tail -n 3 "$run/service.log")"; exit 0; }
fi
api -o /dev/null http://d/_ping 2>/dev/null || { echo "FAIL docker: the podman service did not answer: $(tail -n 3 "$run/service.log")"; exit 0; }
ver=$(api http://d/version)
apiver=$(printf '%s' "$ver" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ApiVersion"])')
echo "# docker: $(podman --version), Docker Engine API $apiver, runc $(runc --version | head -n 1 | awk '{print $3}')"

# The base image, loaded by the command under test: images load, through
# the engine's API (skopeo). Then the errors it must give.
CLI=$B/llmcore-sandbox
image=llmcore-sandbox-base:1.0.0
if out=$("$CLI" images load --engine "unix://$run/engine.sock" --json llmcore-sandbox-base 2>&1) &&
   [ "$out" = "{\"engine\":\"unix://$run/engine.sock\",\"loaded\":[\"llmcore-sandbox-base:1.0.0\"]}" ] &&
   api "http://d/v1.41/images/json" | python3 -c '
import json, sys
tags = [t for i in json.load(sys.stdin) for t in i.get("RepoTags") or []]
sys.exit(0 if any(t.endswith("/llmcore-sandbox-base:1.0.0") or t == "llmcore-sandbox-base:1.0.0" for t in tags) else 1)'
then echo "PASS docker_images_load_puts_the_image_into_the_engine"
else echo "FAIL docker_images_load_puts_the_image_into_the_engine: $out"; exit 0; fi
cli_check() { # name want-exit pattern args...
    local name=$1 want=$2 pattern=$3 o rc; shift 3
    o=$("$CLI" "$@" 2>&1); rc=$?
    if [ $rc = "$want" ] && printf '%s' "$o" | grep -q -- "$pattern"; then echo "PASS $name"
    else echo "FAIL $name: exit $rc (want $want): $o"; fi
}
cli_check docker_images_load_unknown_image_is_not_found 3 "image 'nosuch' not found (available: " \
    images load --engine "unix://$run/engine.sock" nosuch
cli_check docker_images_load_without_an_engine_says_where_it_looked 3 "no engine at unix://$run/none.sock: No such file" \
    images load --engine "unix://$run/none.sock" llmcore-sandbox-base
cli_check docker_images_load_bad_engine_url_is_invalid 4 "give unix:///PATH (or a socket path) or tcp://HOST:PORT" \
    images load --engine ftp://example llmcore-sandbox-base

# The reverse direction: the engine's image into a native store of its own
# (images import docker-daemon:), which then runs it natively.
ist=$(mktemp -d /tmp/lcs-dimport.XXXXXX); chmod 755 "$ist"
if out=$("$CLI" --store "$ist" images import "docker-daemon:$image" --engine "unix://$run/engine.sock" \
        --name from-engine --json 2>&1) && printf '%s' "$out" | grep -q '"image":"from-engine:1.0.0"' &&
   [ "$("$CLI" --store "$ist" run --image from-engine -- sh -c 'echo "$(id -u) $(cat /etc/os-release | grep -c ^ID=)"' 2>&1)" = "1000 1" ]
then echo "PASS docker_images_import_from_the_engine_runs_natively"
else echo "FAIL docker_images_import_from_the_engine_runs_natively: $out"; fi
rm -rf "$ist"

# run_case NAME [RENDER OPTIONS] -- SCRIPT: the container's output (the
# multiplexed stream's 8-byte frame headers removed) in $out, its status in $st.
run_case() {
    local name=$1; shift
    local opts=()
    while [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
    "$render" --engine podman --nproc 32768 --seccomp "$top/container_images/seccomp.json" \
        "${opts[@]}" llmcore-sandbox-base:1.0.0 "$image" -- /bin/sh -c "$1" >"$run/$name.json" ||
        { out="render failed"; st=-1; return; }
    local r cid
    r=$(api -XPOST -H 'Content-Type: application/json' --data-binary @"$run/$name.json" \
        "http://d/v1.41/containers/create?name=lcs-test-$name-$$")
    cid=$(printf '%s' "$r" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("Id",""))' 2>/dev/null)
    if [ -z "$cid" ]; then out="create refused: $r"; st=-1; return; fi
    api -XPOST "http://d/v1.41/containers/$cid/start" >/dev/null
    st=$(api -XPOST "http://d/v1.41/containers/$cid/wait" | python3 -c 'import json,sys; print(json.load(sys.stdin)["StatusCode"])')
    out=$(api "http://d/v1.41/containers/$cid/logs?stdout=1&stderr=1" | python3 -c '
import sys
b = sys.stdin.buffer.read(); o = bytearray(); i = 0
while i + 8 <= len(b):
    n = int.from_bytes(b[i + 4:i + 8], "big"); o += b[i + 8:i + 8 + n]; i += 8 + n
sys.stdout.write(o.decode(errors="replace"))')
    api "http://d/v1.41/containers/$cid/json" >"$run/$name.inspect.json"
    api -XDELETE "http://d/v1.41/containers/$cid?force=1&v=1" >/dev/null
}

check() { # name condition-description: PASS if the grep pattern is in $out
    local name=$1 pattern=$2
    if printf '%s\n' "$out" | grep -Eq -- "$pattern"; then echo "PASS $name"
    else echo "FAIL $name: /$pattern/ not in: $(printf '%s' "$out" | tr '\n' '|' | head -c 400)"; fi
}

# RESTRICTED: what the kernel applies inside, read by the sandbox itself.
run_case restricted -- '
id -u; id -g
grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status
touch /probe 2>&1 || true
touch /home/sandbox/work/f && echo workspace-writable
grep -E " (/tmp|/home/sandbox/work) " /proc/mounts
echo nofile=$(ulimit -n) fsize=$(ulimit -f) core=$(ulimit -c)
echo ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | sort | tr "\n" ,)
unshare -U true 2>&1 || echo unshare-refused
find / -xdev -perm /6000 -type f 2>/dev/null | head -n 1 | sed "s/^/suid: /"
echo end'
if [ "$st" != 0 ]; then echo "FAIL docker_restricted_container_ran: status $st: $out"
else
    echo "PASS docker_restricted_container_ran"
    check docker_runs_as_uid_and_gid_1000 '^1000$'
    check docker_capabilities_all_dropped '^CapEff:[[:space:]]+0000000000000000$'
    check docker_bounding_set_empty '^CapBnd:[[:space:]]+0000000000000000$'
    check docker_no_new_privs '^NoNewPrivs:[[:space:]]+1$'
    check docker_seccomp_filter_loaded '^Seccomp:[[:space:]]+2$'
    check docker_seccomp_refuses_what_the_profile_refuses 'unshare-refused'
    check docker_root_is_read_only "touch: .*/probe.*Read-only file system"
    check docker_workspace_is_the_sandbox_users 'workspace-writable'
    check docker_tmp_is_a_sized_tmpfs '^tmpfs /tmp tmpfs rw,nosuid,nodev,.*size=262144k'
    check docker_workspace_is_a_sized_tmpfs '^tmpfs /home/sandbox/work tmpfs rw,nosuid,nodev,.*size=1048576k.*uid=1000,gid=1000'
    check docker_rlimits_applied '^nofile=1024 fsize=2097152 core=0$'
    check docker_restricted_has_only_loopback '^ifaces=lo,$'
    if printf '%s' "$out" | grep -q '^suid: '; then echo "FAIL docker_no_suid_files: $(printf '%s' "$out" | grep '^suid: ')"
    else check docker_no_suid_files '^end$'; fi
    # what the engine says it applied
    if python3 - "$run/restricted.inspect.json" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))["HostConfig"]
want = {"Memory": 512 << 20, "MemorySwap": 512 << 20, "NanoCpus": 10**9, "PidsLimit": 50,
        "ReadonlyRootfs": True, "Init": True, "NetworkMode": "none"}
bad = {k: h.get(k) for k in want if h.get(k) != want[k]}
assert not bad, bad
# (podman reports CapDrop as the list of its default set, not "ALL": the
# empty bounding set inside is the proof, docker_bounding_set_empty)
assert not h.get("CapAdd"), h.get("CapAdd")
PY
    then echo "PASS docker_engine_reports_the_limits_it_applied"
    else echo "FAIL docker_engine_reports_the_limits_it_applied: $(python3 -c 'import json,sys; h=json.load(open(sys.argv[1]))["HostConfig"]; print({k:h.get(k) for k in ["Memory","MemorySwap","NanoCpus","PidsLimit","ReadonlyRootfs","Init","NetworkMode","CapDrop"]})' "$run/restricted.inspect.json")"
    fi
fi

# Limits that act: the pids limit stops a fork bomb, the memory limit an
# allocation (the engine's OOM kill shows in its state).
# (after the bomb, no fork is left: only shell builtins read the counters)
run_case pids --pids 20 -- '
sh -c "i=0; while [ \$i -lt 40 ]; do sleep 5 & i=\$((i+1)); done" 2>/dev/null
echo bomb=$?
for f in /sys/fs/cgroup/pids.current /sys/fs/cgroup/pids/pids.current; do [ -r $f ] && read n <$f && echo current=$n; done
for f in /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max; do [ -r $f ] && read n <$f && echo max=$n; done
true'
cur=$(printf '%s\n' "$out" | sed -n 's/^current=//p')
if printf '%s\n' "$out" | grep -q '^max=20$' && ! printf '%s\n' "$out" | grep -q '^bomb=0$' &&
   [ -n "$cur" ] && [ "$cur" -le 20 ]; then echo "PASS docker_pids_limit_stops_a_fork_bomb"
else echo "FAIL docker_pids_limit_stops_a_fork_bomb: status $st: $(printf '%s' "$out" | tr '\n' ' ')"; fi
run_case memory --memory 32 -- 'dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo dd=$?'
oom=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["State"].get("OOMKilled"))' "$run/memory.inspect.json" 2>/dev/null)
# dd's 64 MiB buffer is more than the 32 MiB limit: the kernel kills dd
if printf '%s\n' "$out" | grep -q '^dd=137$'; then echo "PASS docker_memory_limit_kills_an_allocation_above_it"
else echo "FAIL docker_memory_limit_kills_an_allocation_above_it: status $st, OOMKilled $oom: $out"; fi

# The escape attempts of tests/security/attacks.sh, from inside a RESTRICTED
# container of the engine (the static attack helper comes in read-only as
# the input directory). Each must run and be refused.
mkdir -p "$run/attack"
if ! cc -static -O1 -o "$run/attack/attack" "$top/tests/security/attack.c" 2>"$run/cc.err"; then
    echo "FAIL docker_attacks: static attack helper: $(cat "$run/cc.err")"
else
    chmod 755 "$run" "$run/attack"
    list=$(awk '/^for a in ptrace-init/,/; do$/' "$top/tests/security/attacks.sh" | sed 's/for a in //; s/; do//; s/\\//g' | tr -s ' \n' ' ')
    run_case attacks --input "$run/attack" -- "for a in $list; do /home/sandbox/input/attack \$a 2>&1; done
        sed -n 's/^\(Uid\|CapEff\|CapBnd\|NoNewPrivs\|Seccomp\):[[:space:]]*/init-\1 /p' /proc/1/status"
    # What the engine cannot refuse: pid 1 is its init (catatonit), started
    # as the container's user, so the sandbox user may read its /proc files.
    # It is harmless only while that init has no more than the command: the
    # same uid 1000, no capabilities, no-new-privileges, the same filter.
    reaches_init="proc1-exe-read proc1-environ proc1-mem proc1-root"
    init_ok=0
    printf '%s\n' "$out" | grep -q '^init-Uid 1000[[:space:]]1000[[:space:]]1000[[:space:]]1000$' &&
        printf '%s\n' "$out" | grep -q '^init-CapEff 0000000000000000$' &&
        printf '%s\n' "$out" | grep -q '^init-CapBnd 0000000000000000$' &&
        printf '%s\n' "$out" | grep -q '^init-NoNewPrivs 1$' &&
        printf '%s\n' "$out" | grep -q '^init-Seccomp 2$' && init_ok=1
    for a in $list; do
        if ! printf '%s\n' "$out" | grep -q "^ATTEMPT $a"; then echo "FAIL docker_attack_$a: attempt did not run"
        elif [[ " $reaches_init " == *" $a "* ]]; then
            if printf '%s\n' "$out" | grep -q "^DENIED $a"; then
                echo "FAIL docker_attack_$a: now refused by the engine: update docs/backends.md"
            elif [ $init_ok = 1 ]; then echo "PASS docker_attack_${a}_reaches_only_an_unprivileged_init"
            else echo "FAIL docker_attack_$a: the engine's init is more privileged than the command: $(printf '%s\n' "$out" | grep '^init-' | tr '\n' ' ')"; fi
        elif printf '%s\n' "$out" | grep -q "^DENIED $a"; then echo "PASS docker_attack_$a"
        else echo "FAIL docker_attack_$a: $(printf '%s\n' "$out" | grep -A2 "^ATTEMPT $a" | tr '\n' ' ')"; fi
    done
fi

# ---------------------------------------------------------------------------
# The Docker backend itself (--backend docker): one-shot runs and sessions
# through the command, against this engine. Sessions live in their own
# state directory.
export LLMCORE_SANDBOX_STATE=$run/state
DK=(--backend docker --engine "unix://$run/engine.sock")
pyroot=$store/images/llmcore-sandbox-python/1.0.0/oci
if [ ! -f "$pyroot/index.json" ]; then
    echo "FAIL docker_run_python: the python image is not built ($pyroot)"
elif out=$("$CLI" run "${DK[@]}" --image llmcore-sandbox-python -- python3 -c 'print(1)' 2>&1) &&
     [ "$out" = 1 ]; then echo "PASS docker_run_python_prints_1"
else echo "FAIL docker_run_python_prints_1: $out"; fi

out=$("$CLI" run "${DK[@]}" --image "$image" -- sh -c 'echo out; echo err >&2; exit 7' 2>"$run/err"); st=$?
if [ $st = 7 ] && [ "$out" = out ] && [ "$(cat "$run/err")" = err ]; then echo "PASS docker_run_exit_code_and_streams"
else echo "FAIL docker_run_exit_code_and_streams: status $st, stdout '$out', stderr '$(cat "$run/err")'"; fi

out=$("$CLI" run "${DK[@]}" --json --image "$image" -- true 2>&1)
if printf '%s' "$out" | python3 -c '
import json, sys
e = json.load(sys.stdin)["enforced"]
k = e["kernel"]
ok = (e["backend"] == "docker" and e["engine"].startswith("Podman") and e["readonly_rootfs"] is True
      and e["network_mode"] == "none" and e["init"] is True and k["seccomp_mode"] == 2
      and k["no_new_privs"] == 1 and k["cap_eff"] == "0000000000000000" and k["uid"] == 1000
      and e["limits"]["pids"] > 0 and e["not_enforced"])
sys.exit(0 if ok else 1)'; then echo "PASS docker_run_enforced_report_names_the_engine_and_what_it_applied"
else echo "FAIL docker_run_enforced_report_names_the_engine_and_what_it_applied: $(printf '%s' "$out" | head -c 600)"; fi

out=$("$CLI" run "${DK[@]}" --image "$image" --memory 32m -- sh -c 'x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived' 2>&1); st=$?
if [ $st = 125 ] && printf '%s' "$out" | grep -q "verdict memory"; then echo "PASS docker_run_memory_verdict"
else echo "FAIL docker_run_memory_verdict: status $st: $out"; fi

out=$("$CLI" run "${DK[@]}" --image "$image" --pids-limit 20 -- sh -c 'for i in $(seq 40); do sleep 5 & done; wait' 2>&1); st=$?
if [ $st = 125 ] && printf '%s' "$out" | grep -q "verdict pids"; then echo "PASS docker_run_pids_verdict"
else echo "FAIL docker_run_pids_verdict: status $st: $out"; fi

out=$("$CLI" run "${DK[@]}" --image "$image" --output-limit 1k -- sh -c 'yes' 2>&1 >/dev/null); st=$?
if [ $st = 125 ] && printf '%s' "$out" | grep -q "verdict output"; then echo "PASS docker_run_output_cap_stops_the_command"
else echo "FAIL docker_run_output_cap_stops_the_command: status $st: $out"; fi

out=$("$CLI" run --backend nosuch --image "$image" -- true 2>&1); st=$?
if [ $st = 4 ] && printf '%s' "$out" | grep -q "unknown backend 'nosuch'"; then echo "PASS docker_unknown_backend_is_named"
else echo "FAIL docker_unknown_backend_is_named: status $st: $out"; fi
out=$("$CLI" run --backend docker --engine "unix://$run/no-engine.sock" --image "$image" -- true 2>&1); st=$?
if [ $st != 0 ] && printf '%s' "$out" | grep -q "no-engine.sock"; then echo "PASS docker_missing_engine_is_named"
else echo "FAIL docker_missing_engine_is_named: status $st: $out"; fi

# a session: stdin, files both ways (binary, 5 MiB), a path that escapes,
# a timeout that kills the exec's background processes, destroy
sid=$("$CLI" create "${DK[@]}" --image "$image" 2>&1)
if [ ${#sid} != 16 ]; then echo "FAIL docker_session_create: $sid"
else
    echo "PASS docker_session_create"
    out=$(printf 'line1\nline2\n' | "$CLI" exec -i "$sid" -- sh -c 'wc -l' 2>&1)
    [ "$out" = 2 ] && echo "PASS docker_session_exec_stdin" || echo "FAIL docker_session_exec_stdin: $out"
    "$CLI" exec "$sid" -- sh -c 'echo 1 > /home/sandbox/work/state' >/dev/null 2>&1
    out=$("$CLI" exec "$sid" -- cat /home/sandbox/work/state 2>&1)
    [ "$out" = 1 ] && echo "PASS docker_session_state_persists_between_execs" || echo "FAIL docker_session_state_persists_between_execs: $out"
    head -c 5242880 /dev/urandom >"$run/blob"; printf 'a\0b' >>"$run/blob"
    if "$CLI" cp "$run/blob" "$sid:/home/sandbox/work/blob" 2>"$run/cp.err" &&
       [ "$("$CLI" exec "$sid" -- sh -c 'wc -c < /home/sandbox/work/blob; stat -c %u /home/sandbox/work/blob' | tr '\n' ' ')" = "5242883 1000 " ] &&
       "$CLI" cp "$sid:/home/sandbox/work/blob" "$run/blob.back" 2>>"$run/cp.err" && cmp -s "$run/blob" "$run/blob.back"
    then echo "PASS docker_session_files_binary_both_ways"
    else echo "FAIL docker_session_files_binary_both_ways: $(cat "$run/cp.err")"; fi
    "$CLI" exec "$sid" -- ln -s / /home/sandbox/work/esc >/dev/null 2>&1
    rm -f /tmp/lcs-docker-escaped
    echo x >"$run/small"
    "$CLI" cp "$run/small" "$sid:/home/sandbox/work/esc/tmp/lcs-docker-escaped" >/dev/null 2>&1
    if [ ! -e /tmp/lcs-docker-escaped ] && "$CLI" exec "$sid" -- test -f /tmp/lcs-docker-escaped
    then echo "PASS docker_session_symlink_to_root_stays_in_the_container"
    else echo "FAIL docker_session_symlink_to_root_stays_in_the_container: host file $(ls -l /tmp/lcs-docker-escaped 2>&1)"; fi
    out=$("$CLI" exec --timeout 1 "$sid" -- sh -c 'sleep 300 & sleep 301 & sleep 302' 2>&1); st=$?
    left=$("$CLI" exec "$sid" -- sh -c 'ps -eo args | grep -c "^sleep 30[012]$"' 2>&1)
    if [ $st = 124 ] && [ "$left" = 0 ]; then echo "PASS docker_session_timeout_kills_the_exec_and_its_children"
    else echo "FAIL docker_session_timeout_kills_the_exec_and_its_children: status $st ($out), left $left"; fi
    cid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["resources"]["docker"]["container"])' "$run/state/sessions/$sid/info.json" 2>/dev/null)
    "$CLI" rm "$sid" >/dev/null 2>&1
    code=$(api -o /dev/null -w '%{http_code}' "http://d/v1.41/containers/$cid/json")
    if [ -n "$cid" ] && [ "$code" = 404 ] && [ ! -e "$run/state/sessions/$sid" ]; then echo "PASS docker_session_rm_leaves_nothing"
    else echo "FAIL docker_session_rm_leaves_nothing: container ${cid:-?} answers $code"; fi
fi

# a session whose monitor is killed: the next command's cleanup removes
# its container
sid=$("$CLI" create "${DK[@]}" --image "$image" 2>&1)
info=$run/state/sessions/$sid/info.json
mpid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["monitor_pid"])' "$info" 2>/dev/null)
cid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["resources"]["docker"]["container"])' "$info" 2>/dev/null)
if [ -n "$mpid" ] && [ -n "$cid" ]; then
    kill -9 "$mpid"; sleep 0.3
    "$CLI" ps >/dev/null 2>&1
    code=$(api -o /dev/null -w '%{http_code}' "http://d/v1.41/containers/$cid/json")
    if [ "$code" = 404 ] && [ ! -e "$run/state/sessions/$sid" ]; then echo "PASS docker_stale_session_container_is_removed"
    else echo "FAIL docker_stale_session_container_is_removed: container answers $code"; fi
else echo "FAIL docker_stale_session_container_is_removed: no session ($sid)"; fi

# The session suite's shared part (tests/session/shared.sh: exec, files,
# limits, destroy, a killed monitor, idle timeout, churn) on this backend,
# test names docker_session_*.
LCS_SESSION_ENGINE="unix://$run/engine.sock" "$top/tests/session/shared.sh" "$B" 9>&-

# The agent tools' end-to-end suite (tests/tools/e2e.py) on this backend:
# the busybox rootfs imported into the store as an image, every MCP server
# started with --backend docker (test names tools_docker_*). The lock on
# the podman cache is not handed to the session monitors it starts.
LCS_E2E_ENGINE="unix://$run/engine.sock" python3 "$top/tests/tools/e2e.py" "$CLI" 9>&-
api -o /dev/null -X DELETE "http://d/v1.41/images/lcs-e2e-busybox:1.0.0?force=true" 2>/dev/null

# The MCP suite's SDK conversations (tests/mcp/run.sh, the official
# TypeScript client) on this backend: the base and python images.
LCS_MCP_ENGINE="unix://$run/engine.sock" sh "$top/tests/mcp/run.sh" "$CLI" 9>&-
