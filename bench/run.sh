#!/usr/bin/env bash
# Start-up benchmark: one-shot `/bin/true` in a sandbox, side by side with
# the anchors, in one run (absolute times on a VM are noisy; ratios are what
# to read). Prints a table of medians and ratios and writes bench/results.json.
#
#   bench/run.sh [RUNS]          (default 50 runs per case; needs root)
#
# Every case waits GAP seconds (default 0.05, env GAP) before each timed run,
# as an agent's calls are apart: a warm sandbox is started after the run that
# used its predecessor (in a loop without gaps --warm does not pay off; use a
# session there).
#
# Cases (all on the same busybox root filesystem):
#   host          fork+exec of /bin/true on the host
#   ours          llmcore-sandbox run: user, mount, pid, ipc, uts, cgroup and
#                 net namespaces, overlay root, cgroup limits, seccomp, no caps
#   ours-warm     llmcore-sandbox run --warm: the same sandbox, started in
#                 advance (by the previous run) and used by this run only
#   bwrap         bubblewrap --unshare-all (as root)
#   runc          runc run of an OCI bundle (if runc is installed)
#   floor         bench/minimal.c: only pid, mount, ipc, uts and net
#                 namespaces, pivot_root and /proc (no user namespace,
#                 cgroups, /dev, seccomp, caps or monitor): not a sandbox,
#                 the machine's cost for the kernel work alone
#   ours-exec     exec of /bin/true in a live session through the CLI
#                 (llmcore-sandbox exec ID -- /bin/true: CLI start-up included)
#   api-exec      the same through lcs_session_exec in a loop (no process
#                 start-up: build/lcs-session-helper exec-loop), next to
#   api-host      fork+exec+wait of /bin/true in the same kind of loop
#                 (target: api-exec <= 1.5 x api-host)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-50}
GAP=${GAP:-0.05}
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (runc and cgroups need it)" >&2; exit 1; }
for t in hyperfine bwrap; do
    command -v $t >/dev/null || { echo "bench: $t missing: apt-get install hyperfine bubblewrap runc" >&2; exit 1; }
done
[ -x build/llmcore-sandbox ] || make -s
WORK=$(mktemp -d /tmp/lcs-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"   # the sandbox's host uid must reach the rootfs
RFS=$WORK/rootfs
sh tests/fixtures/mkrootfs.sh "$RFS" >/dev/null

cc -O2 -static -o "$WORK/minimal" bench/minimal.c
# Each case: NAME COMMAND (run without a shell by hyperfine -N).
cases=(
    "host|$RFS/bin/true"
    "ours|$ROOT/build/llmcore-sandbox run --rootfs $RFS -- /bin/true"
    "ours-warm|$ROOT/build/llmcore-sandbox run --warm --rootfs $RFS -- /bin/true"
    "bwrap|bwrap --unshare-all --ro-bind $RFS / --proc /proc --dev /dev /bin/true"
    "floor|$WORK/minimal $RFS /bin/true"
)
if command -v runc >/dev/null; then
    mkdir -p "$WORK/bundle"
    (cd "$WORK/bundle" && runc spec && python3 - "$RFS" <<'PY'
import json, sys
c = json.load(open("config.json"))
c["root"] = {"path": sys.argv[1], "readonly": True}
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
json.dump(c, open("config.json", "w"))
PY
    )
    # runc needs a fresh container name per run: a tiny wrapper (its own
    # start-up, ~2 ms, is included in runc's figure).
    cat >"$WORK/runc.sh" <<EOS
#!/bin/sh
exec runc --root $WORK/runc-state run --bundle $WORK/bundle bench-\$\$
EOS
    chmod +x "$WORK/runc.sh"
    cases+=("runc|$WORK/runc.sh")
fi
# A live session for the exec cases (private state directory).
export LLMCORE_SANDBOX_STATE=$WORK/state
SID=$(build/llmcore-sandbox create --rootfs "$RFS" --label bench)
# On exit: that session, and the warm sandbox the last warm run left.
cleanup() {
    local d
    for d in "$LLMCORE_SANDBOX_STATE"/sessions/*/; do
        [ -d "$d" ] && build/llmcore-sandbox rm "$(basename "$d")" >/dev/null 2>&1
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
cases+=("ours-exec|$ROOT/build/llmcore-sandbox exec $SID -- /bin/true")
jsons=()
for c in "${cases[@]}"; do
    name=${c%%|*} cmd=${c#*|}
    hyperfine -N --warmup 5 --runs "$RUNS" --prepare "sleep $GAP" --export-json "$WORK/$name.json" --style none \
        -n "$name" "$cmd" >/dev/null 2>"$WORK/$name.err" || { echo "bench: $name failed:"; cat "$WORK/$name.err"; }
    jsons+=("$WORK/$name.json")
done
# In-process loops (hyperfine cannot time inside a process): medians in us.
build/lcs-session-helper host-loop "$RUNS" >"$WORK/api-host.txt" 2>&1 || true
build/lcs-session-helper exec-loop "$SID" "$RUNS" >"$WORK/api-exec.txt" 2>&1 || true
python3 - bench/results.json "$WORK/api-host.txt" "$WORK/api-exec.txt" "${jsons[@]}" <<'PY'
import json, sys
res = []
loops = {}
for name, f in (("api-host", sys.argv[2]), ("api-exec", sys.argv[3])):
    try:
        w = open(f).read().split()
        loops[name] = float(w[w.index("median_us") + 1]) / 1000
    except (OSError, ValueError):
        pass
for f in sys.argv[4:]:
    try:
        res += json.load(open(f))["results"]
    except (OSError, ValueError, KeyError):
        pass
med = {r["command"]: r["median"] * 1000 for r in res}
med.update(loops)
out = {"median_ms": med}
print(f"{'case':<10} {'median ms':>10} {'vs host':>8} {'vs bwrap':>9}")
for name, ms in med.items():
    vh = ms / med["host"] if "host" in med else float("nan")
    vb = ms / med["bwrap"] if "bwrap" in med else float("nan")
    print(f"{name:<10} {ms:>10.2f} {vh:>8.2f} {vb:>9.2f}")
if "ours" in med and "bwrap" in med:
    out["ours_vs_bwrap"] = med["ours"] / med["bwrap"]
    print(f"\none-shot target: ours <= 0.6 x bwrap -> cold {out['ours_vs_bwrap']:.2f}", end="")
    if "ours-warm" in med:
        out["ours_warm_vs_bwrap"] = med["ours-warm"] / med["bwrap"]
        print(f", warm {out['ours_warm_vs_bwrap']:.2f}", end="")
    print()
if "api-exec" in med and "api-host" in med:
    out["api_exec_vs_host"] = med["api-exec"] / med["api-host"]
    print(f"session exec target: api-exec <= 1.5 x api-host -> {out['api_exec_vs_host']:.2f}")
if "ours-exec" in med and "host" in med:
    out["cli_exec_vs_host"] = med["ours-exec"] / med["host"]
    print(f"session exec via the CLI: ours-exec / host = {out['cli_exec_vs_host']:.2f}")
json.dump(out, open(sys.argv[1], "w"), indent=2)
PY
