#!/bin/bash
# budgets.sh - shared kernel budgets: a sandbox that takes all it can of a
# per-user kernel budget (inotify instances and watches, POSIX message-queue
# bytes, queued signals, SHM_LOCK'ed memory) must leave the host user that
# owns sandboxes (root here; the caller in rootless mode) and a second
# sandbox what they need. For each budget: a sandbox runs "attack hog-KIND"
# and holds what it got; meanwhile the host user runs "attack need-KIND"
# directly and a second sandbox runs it too. Run by run-all.sh as root, then
# the same as an ordinary user (rootless, degraded: no cgroups).
#
# BUDGET_KINDS (default all) picks the budgets; BUDGET_ROOTLESS=0 skips the
# rootless pass.
. "$(dirname "$0")/lib.sh"
kinds=${BUDGET_KINDS:-inotify watch mq sigq memlock}
hog_pid= hog_dir=
# Ends the hog: it releases what it holds and exits once its stop file
# exists; the runner is killed only if it does not end within 5 s.
cleanup() {
    [ -n "$hog_pid" ] || return 0
    touch "$hog_dir/out/stop" 2>/dev/null
    local i
    for i in $(seq 100); do kill -0 "$hog_pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$hog_pid" 2>/dev/null
    wait "$hog_pid" 2>/dev/null
    hog_pid=
}
trap cleanup EXIT

# budget_case MODE KIND: MODE root, root-full (FULL network: the namespace
# stays owned by root) or rootless ($ruser runs everything).
budget_case() {
    local mode=$1 kind=$2 d as=() runopts=() sbuid=101000
    d=$(mktemp -d "$WORK/budget-$kind.XXXXXX")
    if [ "$mode" = rootless ]; then
        as=(runuser -u "$ruser" --)
        runopts=(--rootfs "$rlroot" --degraded --state-dir "$rlstate")
        sbuid=$ruser
    elif [ "$mode" = root-full ]; then
        runopts=(--rootfs "$ROOTFS" --state-dir "$STATE" --network full)
    else
        runopts=(--rootfs "$ROOTFS" --state-dir "$STATE")
    fi
    chmod 755 "$d"
    mkdir "$d/out" && chown "$sbuid" "$d/out"
    "${as[@]}" "$RUN" "${runopts[@]}" --seccomp "$SECCOMP" --timeout 40 --output "$d/out" \
        -- /bin/attack "hog-$kind" /home/sandbox/output >"$d/hog.json" 2>"$d/hog.err" &
    hog_pid=$! hog_dir=$d
    local i
    for i in $(seq 300); do
        [ -s "$d/out/ready" ] && break
        kill -0 "$hog_pid" 2>/dev/null || break
        sleep 0.05
    done
    if [ ! -s "$d/out/ready" ]; then
        cleanup
        fail "budget_${mode}_${kind}_hog_ran" "the hog did not report: $(head -c 400 "$d/hog.err") $(head -c 400 "$d/hog.json")"
        return
    fi
    local took host sbox
    took=$(cat "$d/out/ready")
    # the host user, outside any sandbox, while the hog holds its share
    host=$(cd /tmp && "${as[@]}" "$rlattack" "need-$kind" 2>&1)
    local host_rc=$?
    # a second sandbox, meanwhile
    "${as[@]}" "$RUN" "${runopts[@]}" --seccomp "$SECCOMP" --timeout 20 \
        -- /bin/attack "need-$kind" >"$d/sb2.json" 2>"$d/sb2.err"
    sbox=$(WORK=$d j_file "$d/sb2.json" stdout)
    cleanup
    echo "# $mode $kind: hog took $took; host: $host; second sandbox: $sbox"
    # Under the sanitizer build any report is a failure of its own.
    if grep -q Sanitizer "$d/hog.err" "$d/sb2.err"; then
        fail sanitizer_clean "$(cat "$d/hog.err" "$d/sb2.err" | head -c 600)"; fi
    if [ $host_rc -eq 0 ]; then pass "budget_${mode}_${kind}_host_keeps_some"
    else fail "budget_${mode}_${kind}_host_keeps_some" "hog took $took, then the host user got: $host"; fi
    if [ "${sbox%% *}" = GOT ]; then pass "budget_${mode}_${kind}_second_sandbox_keeps_some"
    else fail "budget_${mode}_${kind}_second_sandbox_keeps_some" "hog took $took, then: $sbox $(head -c 300 "$d/sb2.err")"; fi
    rm -rf "$d"
}
# j_file FILE KEY: a field of a result file
j_file() {
    python3 - "$@" 2>/dev/null <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    d = d[k]
print(d.strip() if isinstance(d, str) else d)
PY
}

# The report names the per-sandbox budgets.
sb --state-dir "$STATE" -- /bin/true
if [ "$(j enforced budgets user_namespace max_inotify_instances)" -ge 1 ] 2>/dev/null &&
   [ "$(j enforced rlimits sigpending)" -ge 1 ] 2>/dev/null &&
   [ "$(j enforced budgets owner_host_uid)" = 100000 ]; then
    pass budget_report_lists_budgets
else
    fail budget_report_lists_budgets "$(j enforced budgets) $(j enforced rlimits)"
fi
# ... and they are what the sandbox sees.
sb --state-dir "$STATE" -- /bin/sh -c 'cat /proc/sys/user/max_inotify_instances; ulimit -i'
want="$(j enforced budgets user_namespace max_inotify_instances) $(j enforced rlimits sigpending)"
if [ "$(j stdout | xargs echo)" = "$want" ]; then pass budget_limits_seen_inside
else fail budget_limits_seen_inside "inside: $(j stdout | tr '\n' ' '), report: $want"; fi

rlattack="$ROOTFS/bin/attack"
for k in $kinds; do budget_case root "$k"; done
# FULL network: pasta joins the namespace as its owner, so root owns it;
# the owner-level rlimits are half of root's.
if command -v pasta >/dev/null; then
    sb --state-dir "$STATE" --network full -- /bin/true
    if [ "$(j enforced budgets owner_host_uid)" = 0 ] &&
       [ "$(j enforced budgets all_sandboxes_rlimits sigpending)" -ge 1 ] 2>/dev/null; then
        pass budget_full_network_owned_by_root_with_half_rlimits
    else
        fail budget_full_network_owned_by_root_with_half_rlimits "$(j enforced budgets) $(head -c 300 "$WORK/r.err")"
    fi
    for k in $kinds; do
        case $k in inotify|mq|sigq) budget_case root-full "$k" ;; esac
    done
else
    skip budget_full_network "pasta is not installed"
fi

if [ "${BUDGET_ROOTLESS:-1}" = 1 ]; then
    ruser=lcs-budget-test
    created=0
    if ! id "$ruser" >/dev/null 2>&1; then
        useradd -M -d /nonexistent -s /usr/sbin/nologin "$ruser" 2>/dev/null && created=1
    fi
    if id "$ruser" >/dev/null 2>&1; then
        rl=$(mktemp -d "$WORK/budget-rl.XXXXXX")
        chmod 755 "$rl"
        cp -a "$ROOTFS" "$rl/rootfs"
        chown -R "$ruser" "$rl"
        rlroot=$rl/rootfs rlstate=$rl/state rlattack=$rl/rootfs/bin/attack
        for k in $kinds; do budget_case rootless "$k"; done
        rm -rf "$rl"
        [ $created = 1 ] && userdel "$ruser" 2>/dev/null
    else
        skip budget_rootless "cannot create user $ruser"
    fi
fi
summary
