#!/bin/bash
# buildmode.sh - the image builder's build mode (--root --keep-caps --upper)
# and FULL-mode DNS. Run by run-all.sh (root).
. "$(dirname "$0")/lib.sh"

# An id-shifted copy of the fixture: host id = inside id + 100000, as the
# image builder produces it (files of an unmapped owner cannot be copied up).
rs="$WORK/shifted-rootfs"; up="$WORK/layer"
rm -rf "$rs" "$up"; cp -a "$ROOTFS" "$rs"
chown -hR 100000:100000 "$rs"; chown -h 101000:101000 "$rs/home/sandbox" "$rs/home/sandbox/work"
bsb() { "$RUN" --rootfs "$rs" --seccomp "$SECCOMP" --state-dir "$STATE" "$@" >"$WORK/r.json" 2>"$WORK/r.err"; }

bsb --root --keep-caps --upper "$up" -- /bin/sh -c 'id -u; mkdir -p /opt/pkg; echo hi > /opt/pkg/f; chown 5:7 /opt/pkg/f; echo x >> /etc/passwd; touch /etc/built'
if [ "$(j verdict)" = ok ] && [ "$(j stdout | head -1)" = 0 ]; then pass build_runs_as_root_inside
else fail build_runs_as_root_inside "$(j verdict) $(j stdout) $(j stderr) $(cat "$WORK/r.err")"; fi
if [ "$(stat -c %u:%g "$up/opt/pkg/f" 2>/dev/null)" = 100005:100007 ] && [ "$(stat -c %u "$up/etc/built" 2>/dev/null)" = 100000 ]; then
    pass build_upper_kept_with_shifted_ids
else fail build_upper_kept_with_shifted_ids "$(ls -lnR "$up" 2>&1 | head -20)"; fi
if [ ! -e "$up/proc" ] && [ ! -e "$up/home" ] && [ -z "$(ls -d "$up".work-* 2>/dev/null)" ]; then pass build_upper_has_no_runtime_litter
else fail build_upper_has_no_runtime_litter "$(ls -la "$up" "$up".work-* 2>&1)"; fi
if [ "$(tail -c 2 "$rs/etc/passwd")" != "x" ]; then pass build_lower_untouched; else fail build_lower_untouched "lower /etc/passwd changed"; fi
bsb --root --keep-caps --upper "$up" -- /bin/sh -c 'grep Cap[BPE] /proc/self/status; mknod /tmp/n c 1 3 2>&1; mount -t tmpfs x /mnt 2>&1; cat /proc/self/status | grep NoNewPrivs'
caps=$(j stdout | awk '/CapPrm/ {print $2}')
if [ "$caps" = 00000000a00004ff ] && j stdout | grep -q 'NoNewPrivs:.1' && j stdout | grep -q 'mknod.*not permitted' && j stdout | grep -qi 'mount.*denied\|mount.*not permitted'; then
    pass build_keeps_only_build_caps_nnp_seccomp
else fail build_keeps_only_build_caps_nnp_seccomp "$(j stdout)"; fi
# The layer accumulates across runs (the builder applies recipe steps).
bsb --root --keep-caps --upper "$up" -- /bin/sh -c 'cat /opt/pkg/f'
if [ "$(j stdout)" = hi ]; then pass build_upper_reused_across_runs; else fail build_upper_reused_across_runs "$(j stdout) $(cat "$WORK/r.err")"; fi
# Without build mode the command is uid 1000 with no capabilities.
sb -- /bin/sh -c 'id -u; grep CapPrm /proc/self/status'
if [ "$(j stdout | head -1)" = 1000 ] && j stdout | grep -q 'CapPrm:.0000000000000000'; then pass default_mode_no_root_no_caps
else fail default_mode_no_root_no_caps "$(j stdout)"; fi

# FULL-mode DNS through pasta's forwarder; only deb.debian.org is resolved.
if command -v pasta >/dev/null; then
    sb --network full --writable -- /bin/sh -c 'cat /etc/resolv.conf; nslookup deb.debian.org 2>&1; echo > /etc/resolv.conf 2>/dev/null && echo writable'
    # the host's nameservers, or pasta's forwarder when the host's is on loopback
    if j stdout | grep -q '^nameserver ' && j stdout | grep -Eq '^Address:? [0-9a-f.:]+$' && ! j stdout | grep -q writable; then
        pass full_network_dns_resolves
    else fail full_network_dns_resolves "$(j stdout) $(j stderr) $(cat "$WORK/r.err")"; fi
    sb -- /bin/sh -c 'nslookup deb.debian.org 2>&1; echo rc=$?'
    if ! j stdout | grep -Eq '^Address:? [0-9]+\.' ; then pass restricted_network_dns_fails
    else fail restricted_network_dns_fails "$(j stdout)"; fi
    bsb --root --keep-caps --upper "$WORK/layer2" --network full -- /bin/sh -c 'nslookup deb.debian.org >/dev/null 2>&1; echo rc=$?'
    if [ "$(j stdout)" = rc=0 ] && [ ! -e "$WORK/layer2/etc/resolv.conf" ]; then pass build_full_network_dns_no_resolv_in_layer
    else fail build_full_network_dns_no_resolv_in_layer "$(j stdout) $(ls -la "$WORK/layer2/etc" 2>&1)"; fi
else
    skip full_network_dns_resolves "pasta not installed"
fi
if [ -z "$(leftovers)" ]; then pass build_no_leftovers; else fail build_no_leftovers "$(leftovers)"; fi
rm -rf "$rs" "$up" "$WORK/layer2"
summary
