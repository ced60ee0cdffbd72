#!/bin/sh
# preflight.sh - check (and where safe, fix) what the native builder needs.
# Adds root:100000:65536 to /etc/subuid and /etc/subgid when missing: the
# runtime maps sandbox ids 0..65535 to host ids 100000..165535, and the
# builder (unshare --map-users, mmdebstrap --mode=unshare) uses that range.
set -eu
missing=
for c in mmdebstrap unshare newuidmap newgidmap python3 getcap sha256sum; do
    command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
if [ -n "$missing" ]; then
    echo "preflight: missing commands:$missing" >&2
    echo "preflight: apt-get install mmdebstrap uidmap python3 libcap2-bin util-linux" >&2
    exit 1
fi
for f in /etc/subuid /etc/subgid; do
    if ! grep -q '^root:100000:65536$' "$f" 2>/dev/null; then
        if grep -q '^root:' "$f" 2>/dev/null; then
            echo "preflight: $f has a root entry other than root:100000:65536; the runtime's id mapping needs exactly that range" >&2
            exit 1
        fi
        echo "root:100000:65536" >>"$f"
        echo "preflight: added root:100000:65536 to $f"
    fi
done
