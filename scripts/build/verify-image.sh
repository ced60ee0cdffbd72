#!/bin/sh
# verify-image.sh - run the verification probes inside a built image with the
# native runtime: every tool of the manifest exists and runs, every
# capability has a probe that proves it, FULL images reach the network.
#
#   verify-image.sh ROOTFS MANIFEST OUTFILE
#
# OUTFILE receives the probe lines (OK/FAIL ...). Exit 1, naming each false
# claim, when the image does not do what its manifest says.
set -eu
ROOTFS=$1 MANIFEST=$2 OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
LIB=$TOP/container_images/lib
RUNNER=${LCS_NATIVE_RUN:-$TOP/build/lcs-native-run}
SECCOMP=${LCS_SECCOMP:-$TOP/container_images/seccomp.json}
TOOL="python3 $HERE/imagetool.py"

[ -x "$RUNNER" ] || {
    echo "verify: $RUNNER not built: run 'make' at the repository root first" >&2
    exit 1
}
tools=$($TOOL list "$MANIFEST" tools | tr '\n' ' ')
caps=$($TOOL list "$MANIFEST" capabilities | tr '\n' ' ')
access=$($TOOL field "$MANIFEST" default_access_mode)

# The probes are copied to a directory the sandbox user can read.
pdir=$(mktemp -d /tmp/lcs-probe.XXXXXX)
cp "$LIB/probe.sh" "$LIB/selenium_probe.py" "$pdir/"
chmod 0755 "$pdir"
chmod 0644 "$pdir"/*
trap 'rm -rf "$pdir"' EXIT

envargs=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
env = {"PATH": "/home/sandbox/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
       "HOME": "/home/sandbox", "USER": "sandbox"}
env.update(d.get("environment") or {})
print(" ".join("--env %s=%s" % kv for kv in env.items()))' "$MANIFEST")

run() { # run NETWORK ARGS... ; prints the command's stdout, exit = its status
    net=$1
    shift
    # shellcheck disable=SC2086
    "$RUNNER" --rootfs "$ROOTFS" --seccomp "$SECCOMP" --network "$net" --memory 2G --pids 512 \
        --timeout 600 --tmp 512M --nofile 4096 --input "$pdir" $envargs -- "$@" >"$pdir/result.json" || true
    python3 - "$pdir/result.json" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print("FAIL runtime - could not run the probes: %s" % e)
    sys.exit(1)
sys.stdout.write(r.get("stdout", ""))
if r.get("verdict") not in ("ok", "exit"):
    print("FAIL runtime - verdict %s: %s" % (r.get("verdict"), r.get("stderr", "")[-2000:]))
    sys.exit(1)
sys.exit(r.get("exit_code", 1))
PY
}

: >"$OUT"
status=0
# shellcheck disable=SC2086
run none /bin/sh /home/sandbox/input/probe.sh tools $tools >>"$OUT" || status=1
# shellcheck disable=SC2086
run none /bin/sh /home/sandbox/input/probe.sh caps $caps >>"$OUT" || status=1

if [ "$access" = full ]; then
    # A FULL image must reach the outside: the Debian archive, through the
    # sandbox's NAT (the only outside host this machine reaches).
    r=$(run full curl -sS -o /dev/null -m 30 -w '%{http_code}' http://deb.debian.org/debian/ 2>&1) || true
    case "$r" in
    [1-5][0-9][0-9]) echo "OK net full http://deb.debian.org -> HTTP $r (a server answered)" >>"$OUT" ;;
    *) echo "FAIL net full cannot reach http://deb.debian.org from a FULL sandbox: $r" >>"$OUT" && status=1 ;;
    esac
fi

# Every listed tool and capability must have an OK line.
for t in $tools; do
    grep -q "^OK tool $t " "$OUT" || {
        grep -q "^FAIL tool $t " "$OUT" || echo "FAIL tool $t no probe result" >>"$OUT"
        status=1
    }
done
for c in $caps; do
    grep -q "^OK cap $c " "$OUT" || {
        grep -q "^FAIL cap $c " "$OUT" || echo "FAIL cap $c no probe result" >>"$OUT"
        status=1
    }
done
if [ $status != 0 ]; then
    echo "verify: the image does not do what its manifest claims:" >&2
    grep '^FAIL' "$OUT" | sed 's/^/  /' >&2
fi
exit $status
