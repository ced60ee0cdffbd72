#!/bin/bash
# rootless.sh - the native runtime started by an ordinary user (run by
# run-all.sh as root: it creates a throw-away user and runs the sandbox via
# runuser). Checks what works and that missing cgroups fail closed.
. "$(dirname "$0")/lib.sh"
user=lcs-rootless-test
created=0
if ! id "$user" >/dev/null 2>&1; then
    useradd -M -d /nonexistent -s /usr/sbin/nologin "$user" 2>/dev/null && created=1
fi
if ! id "$user" >/dev/null 2>&1; then skip rootless "cannot create user $user"; summary; exit; fi
rl="$WORK/rootless"; mkdir -p "$rl"; cp -a "$ROOTFS" "$rl/rootfs"; chown -R "$user" "$rl"
uid=$(id -u "$user")
rrun() { runuser -u "$user" -- "$RUN" --rootfs "$rl/rootfs" --seccomp "$SECCOMP" --state-dir "$rl/state" "$@" >"$WORK/r.json" 2>"$WORK/r.err"; }

rrun -- /bin/true
if [ $? -eq 2 ] && grep -q 'unsupported: refusing to run without memory-limit' "$WORK/r.err"; then
    pass rootless_without_cgroups_fails_closed
elif [ "$(j verdict)" = ok ]; then
    pass rootless_with_delegated_cgroups_runs
else
    fail rootless_without_cgroups_fails_closed "$(cat "$WORK/r.err")"
fi
rrun --degraded -- /bin/sh -c 'id -u; echo x > /home/sandbox/work/f && cat /home/sandbox/work/f; touch /etc/x 2>&1; true'
if [ "$(j verdict)" = ok ] && [ "$(j stdout | head -2 | tr '\n' ' ')" = "1000 x " ] && j stdout | grep -q 'Read-only'; then
    pass rootless_degraded_run_works; else fail rootless_degraded_run_works "$(j stdout) $(cat "$WORK/r.err")"; fi
if [ "$(j enforced user host_uid)" = "$uid" ] && [ "$(j enforced user mode)" = rootless ]; then
    pass rootless_maps_caller_uid_to_1000; else fail rootless_maps_caller_uid_to_1000 "$(j enforced user)"; fi
if j enforced degraded | grep -q memory-limit; then pass rootless_report_lists_downgrades; else fail rootless_report_lists_downgrades "$(j enforced degraded)"; fi
mark=lcs-rl-daemon-$$
rrun --degraded --timeout 1 -- /bin/sh -c "(setsid sh -c 'while :; do sleep 1; done' $mark &); sleep 1000"
sleep 0.2
if [ "$(j verdict)" = timeout ] && ! pgrep -f "$mark" >/dev/null; then pass rootless_timeout_kills_tree
else fail rootless_timeout_kills_tree "verdict $(j verdict), left: $(pgrep -af "$mark")"; fi
# FULL network rootless: nft must get CAP_NET_ADMIN although init is not
# uid 0 of its namespace. Target: this host's own link-local address (pasta
# never copies it into the sandbox), with a listener on [::] started here.
# pasta needs /dev/net/tun usable by the user: a 0666 node of our own is
# bound over it in a private mount namespace (the host's stays as it is).
dev=$(ip route show default | awk '{print $5; exit}')
ll=$(ip -6 addr show dev "$dev" scope link 2>/dev/null | awk '/inet6/ {sub("/.*", "", $2); print $2; exit}')
if ! command -v pasta >/dev/null || ! command -v nft >/dev/null || [ -z "$ll" ] \
    || ! mknod "$rl/tun" c 10 200 2>/dev/null; then
    skip rootless_full_network_host_unreachable "needs pasta, nft, a link-local address and mknod"
else
    chmod 666 "$rl/tun"
    port=$((20000 + RANDOM % 20000)); rm -f "$WORK/rl.got" "$WORK/rl.ready"
    python3 -c "
import socket
t=socket.socket(socket.AF_INET6); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); t.bind(('::',$port)); t.listen(5); t.settimeout(8)
open('$WORK/rl.ready','w').close()
try:
    c,a=t.accept(); open('$WORK/rl.got','w').write(str(a)); c.sendall(b'HOST\\n')
except Exception: pass
" & srv=$!
    for i in $(seq 50); do [ -e "$WORK/rl.ready" ] && break; sleep 0.1; done
    unshare -m --propagation private sh -c 'mount --bind "$0" /dev/net/tun && exec "$@"' "$rl/tun" \
        runuser -u "$user" -- "$RUN" --rootfs "$rl/rootfs" --seccomp "$SECCOMP" --state-dir "$rl/state" \
        --degraded --network full -- /bin/sh -c "/bin/attack net tcp $ll%$dev $port; /bin/attack nft-delete" \
        >"$WORK/r.json" 2>"$WORK/r.err"
    kill $srv 2>/dev/null; wait $srv 2>/dev/null
    if [ "$(j enforced network)" = "full (pasta)" ] && j stdout | grep -q '^NOREPLY' \
        && j stdout | grep -q '^DENIED nft-delete' && [ ! -e "$WORK/rl.got" ]; then
        pass rootless_full_network_host_unreachable
    else fail rootless_full_network_host_unreachable "host saw: $(cat "$WORK/rl.got" 2>/dev/null) $(j stdout) $(cat "$WORK/r.err")"; fi
fi
# A rootless FULL session: the monitor adds an address the host gains
# while the session lives (it entered the sandbox's user namespace to do
# so). The "host" is a network namespace made here; the new address gets a
# listener on [::].
B=$(dirname "$RUN")
if [ ! -e "$rl/tun" ] || [ ! -x "$B/llmcore-sandbox" ]; then
    skip rootless_full_session_new_host_address "needs the FULL set-up above and the CLI"
else
    hn=lcs-rlh-$$
    ip netns add "$hn"; ip -n "$hn" link set lo up
    ip -n "$hn" link add up0 type veth peer name up1
    ip -n "$hn" addr add 198.51.100.1/24 dev up0
    ip -n "$hn" link set up0 up; ip -n "$hn" link set up1 up
    ip -n "$hn" route add default via 198.51.100.2
    rm -f "$WORK/rl.got" "$WORK/rl.ready"
    ip netns exec "$hn" python3 -c "
import socket
t=socket.socket(socket.AF_INET6); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); t.bind(('::',7009)); t.listen(5); t.settimeout(10)
open('$WORK/rl.ready','w').close()
try:
    c,a=t.accept(); open('$WORK/rl.got','w').write(str(a)); c.sendall(b'HOST')
except Exception: pass
" & srv=$!
    for i in $(seq 50); do [ -e "$WORK/rl.ready" ] && break; sleep 0.1; done
    mkdir -p "$rl/sess"; chown "$user" "$rl/sess"; : >"$WORK/rl.out"; chmod 666 "$WORK/rl.out"
    cat >"$rl/sess.sh" <<EOF
export LLMCORE_SANDBOX_STATE=$rl/sess/state
id=\$("$B/llmcore-sandbox" create --rootfs "$rl/rootfs" --network full --allow-degraded) || exit 1
echo created >"$rl/sess/created"
for i in \$(seq 50); do [ -e "$rl/sess/added" ] && break; sleep 0.1; done
"$B/llmcore-sandbox" exec "\$id" -- /bin/attack net tcp 203.0.113.99 7009
"$B/llmcore-sandbox" rm "\$id"
EOF
    chmod 755 "$rl/sess.sh"
    ( for i in $(seq 100); do [ -e "$rl/sess/created" ] && break; sleep 0.1; done
      ip -n "$hn" addr add 203.0.113.99/32 dev up1; touch "$rl/sess/added" ) &
    nsenter --net="/run/netns/$hn" unshare -m --propagation private \
        sh -c 'mount --bind "$0" /dev/net/tun && exec "$@"' "$rl/tun" \
        runuser -u "$user" -- sh "$rl/sess.sh" >"$WORK/rl.out" 2>&1
    kill $srv 2>/dev/null; wait $srv 2>/dev/null
    ip netns del "$hn"
    if grep -q '^NOREPLY' "$WORK/rl.out" && [ ! -e "$WORK/rl.got" ]; then
        pass rootless_full_session_new_host_address
    else fail rootless_full_session_new_host_address "host saw: $(cat "$WORK/rl.got" 2>/dev/null) $(cat "$WORK/rl.out")"; fi
fi
[ $created = 1 ] && userdel "$user" 2>/dev/null
rm -rf "$rl"
summary
