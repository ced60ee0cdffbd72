#!/usr/bin/env bash
# Start-up benchmark, measured the way agents call: every case in one
# interleaved run (round-robin, bench/pace.c), at two paces: back to back
# and GAP ms apart (default 50: an agent's calls come tens of milliseconds
# apart, and a machine that idles between calls behaves differently).
# Reports p50/p95 and the ratios against bubblewrap and host fork+exec;
# writes bench/results.json and bench/startup.png (the README shows both).
#
#   bench/run.sh [ROUNDS]        (default 40 rounds; needs root)
#   GAP=100 bench/run.sh         (the second pace, in ms)
#
# Cases (busybox root filesystem unless named python):
#   host        fork+exec+wait of the rootfs's /bin/true on the host
#   ours        llmcore-sandbox run: user, mount, pid, ipc, uts, cgroup and
#               net namespaces, overlay root, cgroup limits, seccomp, no caps
#   ours-warm   llmcore-sandbox run --warm: the same sandbox, started in
#               advance (after the run that used its predecessor)
#   bwrap       bubblewrap --unshare-all over the same rootfs
#   runc        runc run of an OCI bundle of it (if runc is installed)
#   floor       bench/minimal.c: pid, mount, ipc, uts and net namespaces,
#               pivot_root and /proc only (no user namespace, cgroups, /dev,
#               seccomp or monitor): not a sandbox, the kernel work alone
#   cli-exec    llmcore-sandbox exec ID -- /bin/true in a live session
#   api-exec    lcs_session_exec of /bin/true in that session, in-process
#   py-ours     llmcore-sandbox run --image llmcore-sandbox-python:1.0.0 --
#               python3 -c print(1)
#   py-bwrap    bubblewrap over that image's rootfs, the same command
# and, apart, 64 processes at once each creating a session, running
# /bin/true in it and destroying it (p50/p95 of each one's total, failures).
# Also bench/cgmove.c: what each way of entering a cgroup costs after a gap.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=${1:-40}
GAP=${GAP:-50}
CONC=${CONC:-64}
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (cgroups and bwrap as root)" >&2; exit 1; }
need=()
command -v bwrap >/dev/null || need+=(bubblewrap)
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null || need+=(python3-matplotlib)
if [ ${#need[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi
make -s
PYIMG=llmcore-sandbox-python:1.0.0
STORE=${LLMCORE_SANDBOX_IMAGES:-/var/lib/llmcore-sandbox/images}
PYRFS=$STORE/llmcore-sandbox-python/1.0.0/rootfs
WORK=$(mktemp -d /tmp/lcs-bench.XXXXXX)
chmod 755 "$WORK"   # the sandbox's host uid must reach the rootfs
RFS=$WORK/rootfs
sh tests/fixtures/mkrootfs.sh "$RFS" >/dev/null
cc -O2 -static -o "$WORK/minimal" bench/minimal.c
export LLMCORE_SANDBOX_STATE=$WORK/state
cleanup() {
    local d
    for d in "$LLMCORE_SANDBOX_STATE"/sessions/*/; do
        [ -d "$d" ] && build/llmcore-sandbox rm "$(basename "$d")" >/dev/null 2>&1
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
C=$ROOT/build/llmcore-sandbox
SID=$("$C" create --rootfs "$RFS" --label bench)
BW="/usr/bin/bwrap --unshare-all --die-with-parent --proc /proc --dev /dev --tmpfs /tmp"
cases=(
    "host=$RFS/bin/true"
    "ours=$C run --rootfs $RFS -- /bin/true"
    "ours-warm=$C run --warm --rootfs $RFS -- /bin/true"
    "bwrap=$BW --ro-bind $RFS / /bin/true"
    "floor=$WORK/minimal $RFS /bin/true"
    "cli-exec=$C exec $SID -- /bin/true"
    "api-exec=@api-exec:$SID"
)
if [ -x "$PYRFS/usr/bin/python3" ]; then
    cases+=("py-ours=$C run --image $PYIMG -- python3 -c print(1)"
            "py-bwrap=$BW --ro-bind $PYRFS / /usr/bin/python3 -c print(1)")
else
    echo "bench: $PYIMG is not built (make -C container_images python): no python cases" >&2
fi
if command -v runc >/dev/null; then
    mkdir -p "$WORK/bundle"
    (cd "$WORK/bundle" && runc spec && /usr/bin/python3 - "$RFS" <<'PY'
import json, sys
c = json.load(open("config.json"))
c["root"] = {"path": sys.argv[1], "readonly": True}
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
json.dump(c, open("config.json", "w"))
PY
    )
    # a fresh container name per run: a tiny wrapper (its start-up, ~1 ms,
    # is in runc's figure)
    printf '#!/bin/sh\nexec runc --root %s/runc-state run --bundle %s/bundle bench-$$\n' \
        "$WORK" "$WORK" >"$WORK/runc.sh"
    chmod +x "$WORK/runc.sh"
    cases+=("runc=$WORK/runc.sh")
fi
echo "bench: $ROUNDS rounds of ${#cases[@]} cases, interleaved, at 0 and $GAP ms apart" >&2
build/lcs-bench-pace -n "$ROUNDS" -g "0,$GAP" "${cases[@]}" >"$WORK/pace.txt"
"$C" rm "$SID" >/dev/null
for w in $("$C" ps --json | /usr/bin/python3 -c 'import json,sys; print(" ".join(s["id"] for s in json.load(sys.stdin)))'); do
    "$C" rm "$w" >/dev/null 2>&1 || true
done
echo "bench: $CONC sessions created, used and destroyed at once" >&2
build/lcs-bench-pace -c "$CONC" -r "$RFS" >>"$WORK/pace.txt" 2>"$WORK/conc.err" || true
build/lcs-bench-cgmove -n 30 -g "$GAP" -j >"$WORK/cgmove.json"
# File transfer: 1 GiB of random data into a session and out of it, beside
# cp of the same file on the host (page cache to page cache), alternating.
echo "bench: 1 GiB into and out of a session, beside cp" >&2
SID=$("$C" create --rootfs "$RFS" --label bench-transfer)
head -c $((1 << 30)) /dev/urandom >"$WORK/big.bin"
secs() { local a b; a=$(date +%s%N); "$@" >/dev/null || return 1; b=$(date +%s%N); echo $(((b - a) / 1000)); }
for i in 1 2 3 4 5; do
    rm -f "$WORK/big2.bin"; h=$(secs cp "$WORK/big.bin" "$WORK/big2.bin")
    "$C" exec "$SID" -- rm -f /home/sandbox/work/big.bin
    in=$(secs "$C" cp "$WORK/big.bin" "$SID:/home/sandbox/work/big.bin")
    rm -f "$WORK/big2.bin"; out=$(secs "$C" cp "$SID:/home/sandbox/work/big.bin" "$WORK/big2.bin")
    cmp -s "$WORK/big.bin" "$WORK/big2.bin" || out=-1
    echo "transfer host_us $h in_us $in out_us $out" >>"$WORK/pace.txt"
done
"$C" rm "$SID" >/dev/null
rm -f "$WORK/big.bin" "$WORK/big2.bin"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
machine="$(nproc) CPUs ($cpu), $(free -g | awk '/Mem:/{print $2}') GiB, Linux $(uname -r), cgroup $(
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo v2; elif [ -d /sys/fs/cgroup/unified ]; then echo hybrid; else echo v1; fi)"
/usr/bin/python3 bench/report.py "$WORK/pace.txt" "$WORK/cgmove.json" "$GAP" "$ROUNDS" "$machine" \
    bench/results.json bench/startup.png
[ -s "$WORK/conc.err" ] && { echo "concurrent failures:"; sort "$WORK/conc.err" | uniq -c | head; } || true
