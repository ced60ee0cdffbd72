#!/bin/bash
# fullnet.sh - a FULL-network sandbox reaches the outside and nothing of the
# host, however the host is configured. Run by run-all.sh (root).
#
# The test builds its own world out of two network namespaces:
#   "host" H: the runtime and pasta run here (nsenter). Its uplink
#             carries 198.51.100.1/24, 2001:db8:51::1/64 and the link-local
#             fe80::1; a second interface (a veth, like docker0 or a VPN) carries a
#             private 10.77.0.1, a public-looking 203.0.113.77, a global
#             2001:db8:77::1, a unique-local fd77::1 and fe80::77. Servers
#             listen on [::] (dual stack) and 0.0.0.0, TCP and UDP, and
#             answer "HOST".
#   "outside" O: the uplink's other end (198.51.100.2, the default
#             gateway), with a server answering "OUTSIDE" on 203.0.113.200
#             and 2001:db8:99::1, and a DNS stand-in on the private
#             10.99.0.53:53 that H's resolv.conf names.
# From a FULL sandbox in H every form of every host address is tried (TCP,
# UDP, IPv4, IPv6, IPv4-mapped, link-local with scope, broadcast,
# multicast, SO_BINDTODEVICE to walk around routing): none may answer and
# TCP must be refused at once; the outside must answer, and DNS through
# pasta's forwarder too. No packet leaves these namespaces.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v pasta >/dev/null || ! command -v nft >/dev/null; then
    skip full_network_host_unreachable "pasta or nft not installed"; summary; exit $?
fi
H=lcs-fnh-$$ O=lcs-fno-$$
srvpids=()
cleanup() {
    for p in "${srvpids[@]}"; do kill "$p" 2>/dev/null; done
    ip netns del "$H" 2>/dev/null; ip netns del "$O" 2>/dev/null
}
trap cleanup EXIT
set -e
ip netns add "$H"; ip netns add "$O"
ip link add uplink0 netns "$H" type veth peer name down0 netns "$O"
ip -n "$H" link add dock0 type veth peer name dockp
h() { ip -n "$H" "$@"; }
o() { ip -n "$O" "$@"; }
h link set lo up; o link set lo up
h addr add 198.51.100.1/24 dev uplink0
h addr add 2001:db8:51::1/64 dev uplink0 nodad
h addr add fe80::1/64 dev uplink0 nodad
h addr add 10.77.0.1/24 dev dock0
h addr add 203.0.113.77/32 dev dock0
h addr add 2001:db8:77::1/64 dev dock0 nodad
h addr add fd77::1/64 dev dock0 nodad
h addr add fe80::77/64 dev dock0 nodad
h link set uplink0 up; h link set dock0 up; h link set dockp up
h route add default via 198.51.100.2
h -6 route add default via 2001:db8:51::2
o addr add 198.51.100.2/24 dev down0
o addr add 2001:db8:51::2/64 dev down0 nodad
o addr add 203.0.113.200/32 dev lo
o addr add 2001:db8:99::1/128 dev lo
o addr add 10.99.0.53/32 dev lo
o addr add 2001:db8:99::53/128 dev lo
o link set down0 up
o -6 route add 2001:db8::/32 via 2001:db8:51::1
o route add default via 198.51.100.1
# The servers' UDP replies leave from the address that was asked.
o route replace 198.51.100.0/24 dev down0 src 203.0.113.200
o -6 route add 2001:db8:51::/64 dev down0 src 2001:db8:99::1 metric 1
echo "nameserver 10.99.0.53" >"$WORK/resolv.conf"
echo "nameserver 2001:db8:99::53" >"$WORK/resolv6.conf"
RESOLV=$WORK/resolv.conf
set +e
# inH CMD...: run CMD in H's network namespace, seeing H's resolv.conf (a
# private mount namespace; unlike ip netns exec, /sys and with it the
# cgroup file systems stay as they are).
inH() {
    nsenter --net="/run/netns/$H" unshare -m --propagation private \
        sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$RESOLV" "$@"
}

# server MARK LOG [dns]: TCP and UDP on [::] (dual stack) and 0.0.0.0,
# ports 7001-7004; every contact is logged; dns: also UDP 10.99.0.53:53.
cat >"$WORK/srv.py" <<'PY'
import select, socket, sys
mark, log = sys.argv[1], sys.argv[2]
socks = []
for fam, typ, addr, port in ((socket.AF_INET6, socket.SOCK_STREAM, "::", 7001),
                             (socket.AF_INET, socket.SOCK_STREAM, "0.0.0.0", 7002),
                             (socket.AF_INET6, socket.SOCK_DGRAM, "::", 7003),
                             (socket.AF_INET, socket.SOCK_DGRAM, "0.0.0.0", 7004)):
    s = socket.socket(fam, typ)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    if typ == socket.SOCK_DGRAM and fam == socket.AF_INET:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind((addr, port))
    if typ == socket.SOCK_STREAM:
        s.listen(16)
    socks.append(s)
if len(sys.argv) > 3:
    for fam, addr in ((socket.AF_INET, "10.99.0.53"), (socket.AF_INET6, "2001:db8:99::53")):
        d = socket.socket(fam, socket.SOCK_DGRAM)
        d.bind((addr, 53))
        socks.append(d)
open(log + ".ready", "w").close()
while True:
    for s in select.select(socks, [], [])[0]:
        if s.type == socket.SOCK_STREAM:
            c, a = s.accept()
            open(log, "a").write("tcp %s %s\n" % (s.getsockname()[1], a[0]))
            try:
                c.settimeout(1)
                c.recv(64)  # read the request first: closing unread data resets
                c.sendall(("%s %s\n" % (mark, a[0])).encode())
                c.shutdown(socket.SHUT_WR)
                c.recv(64)
            except OSError:
                pass
            c.close()
        else:
            data, a = s.recvfrom(512)
            port = s.getsockname()[1]
            open(log, "a").write("udp %s %s\n" % (port, a[0]))
            s.sendto(("%s %s\n" % ("DNS" if port == 53 else mark, a[0])).encode(), a)
PY
rm -f "$WORK/host.log" "$WORK/out.log" "$WORK/host.log.ready" "$WORK/out.log.ready"
ip netns exec "$H" python3 "$WORK/srv.py" HOST "$WORK/host.log" & srvpids+=($!)
ip netns exec "$O" python3 "$WORK/srv.py" OUTSIDE "$WORK/out.log" dns & srvpids+=($!)
for i in $(seq 50); do
    [ -e "$WORK/host.log.ready" ] && [ -e "$WORK/out.log.ready" ] && break; sleep 0.1
done

# Targets "label proto address port [options]": every form of the host.
I=uplink0
host_targets="
lo4 tcp 127.0.0.1 7001
lo4u udp 127.0.0.1 7004
any4 tcp 0.0.0.0 7002
lo6 tcp ::1 7001
lo6u udp ::1 7003
any6 tcp :: 7001
main4 tcp 198.51.100.1 7002
main4u udp 198.51.100.1 7004
main6 tcp 2001:db8:51::1 7001
second4 tcp 10.77.0.1 7002
second4d tcp 10.77.0.1 7001
second4u udp 10.77.0.1 7004
second4b tcp 10.77.0.1 7002 bind=$I
pub4 tcp 203.0.113.77 7002
pub4u udp 203.0.113.77 7004
pub4b tcp 203.0.113.77 7001 bind=$I
pub4bu udp 203.0.113.77 7003 bind=$I
glob6 tcp 2001:db8:77::1 7001
glob6u udp 2001:db8:77::1 7003
glob6b tcp 2001:db8:77::1 7001 bind=$I
ula6 tcp fd77::1 7001
ula6u udp fd77::1 7003
ll6 tcp fe80::1%$I 7001
ll6u udp fe80::1%$I 7003
ll6b tcp fe80::1%$I 7001 bind=$I
ll6dock tcp fe80::77%$I 7001
map_lo tcp ::ffff:127.0.0.1 7001
map_second tcp ::ffff:10.77.0.1 7001
map_pub tcp ::ffff:203.0.113.77 7001
map_pubu udp ::ffff:203.0.113.77 7003
dnsaddr tcp 169.254.1.1 7002
gwmeta tcp 169.254.169.254 7002
bcast udp 255.255.255.255 7004 bcast bind=$I
subnetbcast udp 198.51.100.255 7004 bcast
mcast4 udp 224.0.0.1 7004 mcast=$I
mcast6 udp ff02::1%$I 7003 mcast=$I
dns_direct udp 10.99.0.53 53
"
outside_targets="
out4 tcp 203.0.113.200 7002
out4d tcp 203.0.113.200 7001
out4u udp 203.0.113.200 7004
out6 tcp 2001:db8:99::1 7001
out6u udp 2001:db8:99::1 7003
dns udp 169.254.1.1 53
"
# The sandbox's script: wait for IPv6 address set-up (DAD), then try all
# targets at once (each prints one line).
script='for i in $(seq 40); do ip -6 addr | grep -q tentative || break; sleep 0.1; done
while read -r l p a port rest; do
    [ -n "$l" ] || continue
    (echo "$l $(/bin/attack net $p $a $port $rest)") &
done <<EOF
'"$host_targets$outside_targets"'EOF
wait
/bin/attack nft-delete'
fullsb() {
    inH "$RUN" --rootfs "$ROOTFS" --seccomp "$SECCOMP" --state-dir "$STATE" \
        --network full --timeout 30 "$@" >"$WORK/r.json" 2>"$WORK/r.err"
    if grep -q 'Sanitizer' "$WORK/r.err"; then fail sanitizer_clean "$(head -c 600 "$WORK/r.err")"; fi
}
fullsb -- /bin/sh -c "$script"
out=$(j stdout)
[ -n "$out" ] || fail full_network_sandbox_ran "$(cat "$WORK/r.err") $(j stderr)"
bad= slow=
while read -r l p a port rest; do
    [ -n "$l" ] || continue
    line=$(grep "^$l " <<<"$out")
    case "$line" in
    "$l NOREPLY "*) ms=${line##* }
        [ "$p" = tcp ] && [ "$ms" -gt 1000 ] && slow="$slow $l(${ms}ms)" ;;
    *) bad="$bad [$l $a: ${line:-no result}]" ;;
    esac
done <<<"$host_targets"
hostlog=$(cat "$WORK/host.log" 2>/dev/null | tr '\n' ';')
if [ -z "$bad" ] && [ -z "$hostlog" ]; then pass full_network_host_unreachable
else fail full_network_host_unreachable "reached:$bad host saw: $hostlog"; fi
if [ -z "$slow" ] && [ -z "$bad" ]; then pass full_network_host_refused_at_once
else fail full_network_host_refused_at_once "slow:$slow${bad:+ (or reached)}"; fi
bad=
while read -r l p a port rest; do
    [ -n "$l" ] || continue
    want=OUTSIDE; [ "$l" = dns ] && want=DNS
    grep -q "^$l REPLY $want " <<<"$out" || bad="$bad [$(grep "^$l " <<<"$out" || echo "$l none")]"
done <<<"$outside_targets"
if [ -z "$bad" ]; then pass full_network_reaches_outside_and_dns
else fail full_network_reaches_outside_and_dns "$bad $(cat "$WORK/r.err")"; fi
if grep -q '^DENIED nft-delete' <<<"$out"; then pass full_network_filter_cannot_be_removed
else fail full_network_filter_cannot_be_removed "$(grep nft-delete <<<"$out" || echo "$out" | tail -3)"; fi
n=$(j enforced network_blocked host_addresses 2>/dev/null)
# 198.51.100.1, 203.0.113.77, 2001:db8:51::1, 2001:db8:77::1 (the rest is
# in the blocked ranges).
if [ "$n" = 4 ] && j enforced network_blocked new_host_addresses | grep -q '^not added'; then pass full_network_report_names_filter
else fail full_network_report_names_filter "host_addresses=$n: $(j enforced 2>/dev/null | head -c 400)"; fi

# A host whose only resolver is IPv6: the sandbox gets pasta's IPv6
# forwarder (pasta forwards within a family), and the resolver itself
# stays closed.
RESOLV=$WORK/resolv6.conf
fullsb -- /bin/sh -c 'cat /etc/resolv.conf; ns=$(awk "/^nameserver/ {print \$2; exit}" /etc/resolv.conf)
for i in $(seq 40); do ip -6 addr | grep -q tentative || break; sleep 0.1; done
echo "fwd $(/bin/attack net udp $ns 53)"; echo "direct $(/bin/attack net udp 2001:db8:99::53 53)"'
RESOLV=$WORK/resolv.conf
out=$(j stdout)
if [ "$(grep -c '^nameserver' <<<"$out")" = 1 ] && grep -q '^nameserver fd' <<<"$out" \
    && grep -q '^fwd REPLY DNS' <<<"$out" && grep -q '^direct NOREPLY' <<<"$out"; then
    pass full_network_dns_ipv6_resolver
else fail full_network_dns_ipv6_resolver "$out $(cat "$WORK/r.err")"; fi

# Build mode (root of the namespace, the build capability set) and a
# session (init keeps its capabilities; execs do not) get the same filter;
# a session's also takes the addresses the host gains while it lives.
rm -f "$WORK/host.log"
fullsb --root --keep-caps --writable -- /bin/sh -c '/bin/attack net tcp 10.77.0.1 7002; /bin/attack net tcp 203.0.113.200 7002; /bin/attack nft-delete'
out=$(j stdout)
if grep -q '^NOREPLY' <<<"$out" && grep -q '^REPLY OUTSIDE' <<<"$out" && grep -q '^DENIED nft-delete' <<<"$out" \
    && [ ! -s "$WORK/host.log" ]; then pass full_network_build_mode_filtered
else fail full_network_build_mode_filtered "$out $(cat "$WORK/r.err")"; fi
B=$(dirname "$RUN")
if [ -x "$B/llmcore-sandbox" ]; then
    export LLMCORE_SANDBOX_STATE=$WORK/fn-sessions
    # a sanitizer build's detached monitor reports to files (checked below)
    export ASAN_OPTIONS="log_path=$WORK/fn-asan" UBSAN_OPTIONS="print_stacktrace=1:log_path=$WORK/fn-ubsan"
    id=$(inH "$B/llmcore-sandbox" create --rootfs "$ROOTFS" --network full 2>"$WORK/s.err")
    # addresses the host gains while the session lives: in a /64 it had,
    # a new public IPv4, an IPv6 in a new prefix (the monitor adds them)
    h addr add 2001:db8:77::99/64 dev dock0 nodad
    h addr add 203.0.113.99/32 dev dock0
    h addr add 2001:db8:88::1/64 dev dock0 nodad
    out=$(inH "$B/llmcore-sandbox" exec "$id" -- /bin/sh -c 'for t in "tcp fe80::1%uplink0 7001" "udp 203.0.113.77 7004" "tcp 2001:db8:77::99 7001" "tcp 203.0.113.99 7002" "udp 203.0.113.99 7004" "tcp 2001:db8:88::1 7001"; do echo "$t: $(/bin/attack net $t)"; done; /bin/attack net tcp 2001:db8:99::1 7001; /bin/attack nft-delete' 2>&1)
    inH "$B/llmcore-sandbox" rm "$id" >/dev/null 2>&1
    if [ "$(grep -c ': NOREPLY' <<<"$out")" = 6 ] && grep -q '^REPLY OUTSIDE' <<<"$out" \
        && grep -q '^DENIED nft-delete' <<<"$out" && [ ! -s "$WORK/host.log" ]; then
        pass full_network_session_filtered
    else fail full_network_session_filtered "id=$id $out $(cat "$WORK/s.err") host saw: $(cat "$WORK/host.log" 2>/dev/null | tr '\n' ';')"; fi
    unset LLMCORE_SANDBOX_STATE ASAN_OPTIONS UBSAN_OPTIONS
    if ls "$WORK"/fn-asan* "$WORK"/fn-ubsan* >/dev/null 2>&1; then
        fail sanitizer_clean "$(cat "$WORK"/fn-asan* "$WORK"/fn-ubsan* 2>/dev/null | head -c 600)"
    fi
fi
summary
