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
    "${P[@]}" system service --time=0 "unix://$run/engine.sock" >"$run/service.log" 2>&1 &
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
