#!/bin/bash
# doctor.sh - `llmcore-sandbox doctor` reports what this host gives, and says
# "ok" only when every required protection is there (run by run-all.sh as
# root; the CLI is the one next to $RUN).
. "$(dirname "$0")/lib.sh"
CLI=$(dirname "$RUN")/llmcore-sandbox
[ -x "$CLI" ] || { fail doctor_cli "$CLI missing"; summary; exit; }

# field NAME KEY: a field of one check in $WORK/d.json
field() {
    python3 - "$WORK/d.json" "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for c in d["checks"]:
    if c["name"] == sys.argv[2]:
        v = c.get(sys.argv[3])
        print(json.dumps(v) if isinstance(v, bool) else v)
PY
}

"$CLI" doctor --json >"$WORK/d.json" 2>"$WORK/d.err"; rc=$?
if [ $rc -eq 0 ] && [ "$(python3 -c "import json; print(json.load(open('$WORK/d.json'))['ok'])")" = True ] &&
   [ "$(field sandbox ok)" = true ] && [ "$(field user_namespaces ok)" = true ] &&
   [ "$(field seccomp ok)" = true ]; then
    pass doctor_reports_a_capable_host
else fail doctor_reports_a_capable_host "rc $rc: $(head -c 400 "$WORK/d.json") $(cat "$WORK/d.err")"; fi
# Every required check that is missing must make the whole report not ok.
python3 - "$WORK/d.json" <<'PY' && pass doctor_ok_is_the_and_of_required_checks || fail doctor_ok_is_the_and_of_required_checks "$(head -c 400 "$WORK/d.json")"
import json, sys
d = json.load(open(sys.argv[1]))
want = all(c["ok"] for c in d["checks"] if c["required"])
sys.exit(0 if d["ok"] == want and all("detail" in c for c in d["checks"]) else 1)
PY

# Subordinate ids: another user owning part of the sandboxes' host range is
# reported with the fix; root's own exact entry (the image builder's) is not.
# Each case sees its own /etc/subuid through a private mount namespace.
subids() { # CONTENT -> doctor JSON with that /etc/subuid and /etc/subgid
    printf '%s' "$1" >"$WORK/subids"
    unshare -m sh -c "mount --bind '$WORK/subids' /etc/subuid && mount --bind '$WORK/subids' /etc/subgid && '$CLI' doctor --json" >"$WORK/d.json" 2>"$WORK/d.err"
}
subids $'root:100000:65536\nalice:120000:1000\n'
if [ "$(field subordinate_ids ok)" = false ] && field subordinate_ids detail | grep -q alice &&
   field subordinate_ids fix | grep -q 165535; then
    pass doctor_flags_another_users_overlapping_subids
else fail doctor_flags_another_users_overlapping_subids "$(grep -o '{[^{]*subordinate_ids[^}]*}' "$WORK/d.json") $(cat "$WORK/d.err")"; fi
subids $'root:100000:65536\nbob:200000:65536\n'
if [ "$(field subordinate_ids ok)" = true ]; then pass doctor_accepts_roots_own_sandbox_range
else fail doctor_accepts_roots_own_sandbox_range "$(grep -o '{[^{]*subordinate_ids[^}]*}' "$WORK/d.json") $(cat "$WORK/d.err")"; fi
summary
