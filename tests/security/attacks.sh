#!/bin/bash
# attacks.sh - escape attempts from inside a RESTRICTED busybox sandbox.
# Every case really tries (the output must show the attempt ran) and must be
# refused. Run by tests/runtime/run-all.sh as root; the rootfs must contain
# /bin/attack (tests/security/attack.c, static).
. "$(dirname "$0")/../runtime/lib.sh"
ST=(--state-dir "$STATE")

# attack CASE ARGS...: /bin/attack must print ATTEMPT and DENIED.
attack() {
    local case=$1; shift
    sb "${ST[@]}" -- /bin/attack "$@"
    local out; out=$(j stdout 2>/dev/null)
    if ! grep -q "^ATTEMPT $1" <<<"$out"; then fail "$case" "attempt did not run: $out $(cat "$WORK/r.err")"
    elif grep -q "^DENIED $1" <<<"$out"; then pass "$case"
    else fail "$case" "$out"; fi
}
# allowed CASE ARGS...: /bin/attack must print ATTEMPT and ALLOWED (system
# calls a normal program needs must not be caught by the profile).
allowed() {
    local case=$1; shift
    sb "${ST[@]}" -- /bin/attack "$@"
    local out; out=$(j stdout 2>/dev/null)
    if grep -q "^ALLOWED $1" <<<"$out"; then pass "$case"; else fail "$case" "$out $(cat "$WORK/r.err")"; fi
}
allowed seccomp_allows_fchmodat2 fchmodat2
allowed seccomp_allows_futex_wake futex_wake
# shell CASE 'script' 'regex proving the attempt ran and failed'
shell() {
    sb "${ST[@]}" -- /bin/sh -c "$2"
    local out; out="$(j stdout | tr -d '\0')$(j stderr | tr -d '\0')"
    if grep -qE "$3" <<<"$out"; then pass "$1"; else fail "$1" "$out $(cat "$WORK/r.err")"; fi
}

for a in ptrace-init ptrace-parent ptrace-traceme keyctl bpf userfaultfd io_uring perf_event_open \
         init_module finit_module reboot kexec_load sethostname setuid0 setgid0 capset-raise mknod \
         clone-newuser clone3 unshare-net unshare-mnt unshare-user unshare-pid unshare-uts \
         unshare-ipc unshare-cgroup unshare-time fanotify_init setns-init mount-tmpfs umount-proc chroot \
         pivot_root socket-alg socket-vsock socket-packet socket-raw-icmp socket-netlink-audit \
         socket-netlink-uevent open_by_handle_at name_to_handle_at process_vm_readv kcmp \
         personality-norandom syslog swapon acct settimeofday iopl raise-nofile proc1-exe-write \
         proc1-exe-read proc1-environ proc1-mem proc1-root leaked-fds; do
    attack "attack_$a" "$a"
done
# The same escapes from a session's exec. A session's init is filtered by
# the profile with clone3 let through (it starts every command in its
# cgroup with clone3 CLONE_INTO_CGROUP); each command stacks a guard that
# refuses clone3 again, so a command sees exactly the profile.
CLI=$(dirname "$RUN")/llmcore-sandbox
SID=$(LLMCORE_SANDBOX_STATE="$WORK/sess-state" "$CLI" create --rootfs "$ROOTFS" --seccomp "$SECCOMP" 2>"$WORK/c.err")
if [ -z "$SID" ]; then
    fail session_attacks "create: $(cat "$WORK/c.err")"
else
    for a in clone3 clone-newuser unshare-user unshare-cgroup unshare-mnt ptrace-init ptrace-parent \
             setns-init mount-tmpfs proc1-mem proc1-environ leaked-fds; do
        out=$(LLMCORE_SANDBOX_STATE="$WORK/sess-state" "$CLI" exec "$SID" -- /bin/attack "$a" 2>&1)
        if ! grep -q "^ATTEMPT $a" <<<"$out"; then fail "session_attack_$a" "attempt did not run: $out"
        elif grep -q "^DENIED $a" <<<"$out"; then pass "session_attack_$a"
        else fail "session_attack_$a" "$out"; fi
    done
    # two filters in every command: the profile (from init) and the guard
    out=$(LLMCORE_SANDBOX_STATE="$WORK/sess-state" "$CLI" exec "$SID" -- /bin/sh -c 'grep -E "^Seccomp(_filters)?:" /proc/self/status' 2>&1)
    if grep -q "^Seccomp:.2" <<<"$out" && grep -q "^Seccomp_filters:.2" <<<"$out"; then pass session_exec_stacks_the_clone3_guard
    else fail session_exec_stacks_the_clone3_guard "$out"; fi
    LLMCORE_SANDBOX_STATE="$WORK/sess-state" "$CLI" rm "$SID" >/dev/null 2>&1
fi
attack attack_open_dev_vda open /dev/vda
attack attack_open_dev_sda open /dev/sda
attack attack_open_dev_mem open /dev/mem
attack attack_open_dev_kmsg open /dev/kmsg
attack attack_write_proc_sys_kernel write /proc/sys/kernel/hostname
attack attack_write_proc_sysrq write /proc/sysrq-trigger
attack attack_write_sys write /sys/kernel/uevent_helper
attack attack_write_cgroup write /sys/fs/cgroup/cgroup.procs
attack attack_write_image_root write /etc/passwd
attack attack_write_new_file_in_root write /pwned

# host hostname unchanged after sethostname attempts
h=$(hostname)
sb "${ST[@]}" -- /bin/sh -c 'hostname pwned 2>&1; hostname'
if [ "$(hostname)" = "$h" ] && j stdout | grep -q sandbox; then pass host_hostname_unchanged; else fail host_hostname_unchanged "$(hostname)"; fi

# /proc/self/mountinfo must not name host paths: where the image lives and
# the state directory (the overlay's layers are given by descriptor).
sb "${ST[@]}" -- /bin/cat /proc/self/mountinfo
mi=$(j stdout)
if grep -q ' - overlay ' <<<"$mi" && ! grep -qF -e "$ROOTFS" -e "$STATE" <<<"$mi"; then pass mountinfo_names_no_host_path
else fail mountinfo_names_no_host_path "$(grep ' - overlay ' <<<"$mi" | head -1)"; fi

# Network: servers on the host's loopback must be unreachable.
port=$((20000 + RANDOM % 20000))
python3 -c "
import socket,sys,time
t=socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(('127.0.0.1',$port)); t.listen(5)
u=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1',$port)); u.settimeout(6)
a=socket.socket(socket.AF_UNIX); a.bind('\0lcs-test-$port'); a.listen(5)
open('$WORK/srv.ready','w').close()
try:
    d=u.recv(100); open('$WORK/udp.got','w').write(d.decode())
except Exception: pass
time.sleep(1)
" & srv=$!
for i in $(seq 50); do [ -e "$WORK/srv.ready" ] && break; sleep 0.1; done
shell tcp_to_host_loopback_refused "nc -w 2 127.0.0.1 $port </dev/null 2>&1; echo rc=\$?" 'Connection refused|rc=1'
shell udp_to_host_loopback_not_delivered "echo leak | nc -u -w 1 127.0.0.1 $port 2>&1; echo rc=\$?" 'rc='
attack abstract_unix_socket_to_host abstract-connect "lcs-test-$port"
wait $srv
if [ -e "$WORK/udp.got" ]; then fail udp_never_reached_host "got $(cat "$WORK/udp.got")"; else pass udp_never_reached_host; fi
shell tcp_to_outside_unreachable 'nc -w 2 1.1.1.1 80 </dev/null 2>&1; echo rc=$?' 'unreachable|rc=1'
shell dns_lookup_fails 'nslookup example.com 2>&1; echo rc=$?' 'rc=1'
shell only_loopback_interface 'ls /sys/class/net 2>/dev/null; cat /proc/net/dev | tail -n +3 | cut -d: -f1' '^ *lo$'
shell ping_denied 'ping -c 1 -W 1 127.0.0.1 2>&1; echo rc=$?' 'rc=1'

# Host files are not visible.
marker=lcs-marker-$$-$RANDOM
echo secret > "/root/$marker"; echo secret > "/tmp/$marker"
sb "${ST[@]}" -- /bin/sh -c "cat /root/$marker 2>&1; cat /tmp/$marker 2>&1; find / -name '$marker' 2>/dev/null; echo done"
if j stdout | grep -q secret || j stdout | grep -q "/$marker\$" || ! j stdout | grep -q '^done'; then fail host_marker_files_invisible "$(j stdout)"; else pass host_marker_files_invisible; fi
rm -f "/root/$marker" "/tmp/$marker"
shell host_etc_shadow_invisible 'cat /etc/shadow 2>&1; echo done' 'No such file|done'
shell busybox_mount_denied 'mount -t tmpfs x /mnt 2>&1; mount --bind / /tmp 2>&1; echo done' 'denied|not permitted'
shell busybox_umount_denied 'umount /proc 2>&1; echo rc=$?' 'rc=1'
shell busybox_unshare_denied 'unshare -U -r id 2>&1; echo rc=$?' 'not permitted'
shell busybox_nsenter_denied 'nsenter -t 1 -m true 2>&1; echo rc=$?' 'rc=[1-9]'
shell busybox_pivot_root_denied 'pivot_root /tmp /tmp 2>&1; echo rc=$?' 'rc=1'
shell busybox_chroot_denied 'chroot /tmp /bin/true 2>&1; echo rc=$?' 'not permitted|rc=1'

# Host processes cannot be signalled.
sleep 1000 & victim=$!
shell kill_all_from_inside 'kill -9 -1 2>&1; echo rc=$?' 'rc='
shell kill_host_pid_from_inside "kill -9 $victim 2>&1; echo rc=\$?" 'No such process|rc=1'
if kill -0 $victim 2>/dev/null; then pass host_process_survives; else fail host_process_survives "victim $victim died"; fi
kill $victim; wait $victim 2>/dev/null

# Set-uid files: nosuid mounts + no_new_privs + locked securebits.
for owner in 0 100000; do
    cp "$ROOTFS/bin/attack" "$ROOTFS/bin/attack-suid-$owner"
    chown $owner:$owner "$ROOTFS/bin/attack-suid-$owner"; chmod 6755 "$ROOTFS/bin/attack-suid-$owner"
    attack "setuid_binary_owned_by_host_uid_${owner}_gives_no_root" euid
    sb "${ST[@]}" -- "/bin/attack-suid-$owner" euid
    if j stdout | grep -q '^euid=1000'; then pass "setuid_file_${owner}_runs_as_1000"; else fail "setuid_file_${owner}_runs_as_1000" "$(j stdout)"; fi
    rm -f "$ROOTFS/bin/attack-suid-$owner"
done

# Host environment must not leak.
export LCS_SECRET_TOKEN=hunter2
sb "${ST[@]}" -- /bin/sh -c 'env; cat /proc/1/environ 2>&1; cat /proc/self/environ | tr "\0" "\n"'
if j stdout | grep -q hunter2; then fail host_env_does_not_leak "$(j stdout)"; else pass host_env_does_not_leak; fi
unset LCS_SECRET_TOKEN
shell init_cmdline_scrubbed 'cat /proc/1/cmdline; echo; cat /proc/1/comm' '^init'
shell no_sysfs 'ls /sys 2>&1 | wc -l' '^0$'
shell capabilities_all_zero 'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status | grep -vc "0000000000000000"' '^0$'
shell no_new_privs_set 'grep NoNewPrivs /proc/self/status' '1'
shell seccomp_filter_active 'grep "^Seccomp:" /proc/self/status' '2'

# FULL network (pasta): outbound works, the host's loopback stays unreachable.
if command -v pasta >/dev/null; then
    port=$((20000 + RANDOM % 20000)); rm -f "$WORK/full.got"
    python3 -c "
import socket
t=socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(('0.0.0.0',$port)); t.listen(5); t.settimeout(10)
open('$WORK/full.ready','w').close()
try:
    c,a=t.accept(); open('$WORK/full.got','w').write(str(a))
except Exception: pass
" & srv=$!
    for i in $(seq 50); do [ -e "$WORK/full.ready" ] && break; sleep 0.1; done
    # Targets: loopback and this host's own IPv4 addresses only (the
    # listener is on 0.0.0.0); tests/runtime/fullnet.sh tries every form.
    own=$(ip -4 -o addr show | awk '{sub(/\/.*/, "", $4); print $4}' | grep -v '^127\.' | tr '\n' ' ')
    sb "${ST[@]}" --network full --timeout 20 -- /bin/sh -c "for h in 127.0.0.1 $own; do echo | nc -w 2 \$h $port 2>&1; echo \"\$h rc=\$?\"; done"
    wait $srv
    if [ -e "$WORK/full.got" ]; then fail full_network_cannot_reach_host_services "host got $(cat "$WORK/full.got"): $(j stdout)"
    elif j stdout | grep -q '127.0.0.1 rc=1'; then pass full_network_cannot_reach_host_services
    else fail full_network_cannot_reach_host_services "$(j stdout) $(cat "$WORK/r.err")"; fi
    # The host's resolver, wherever it is (loopback, a private address),
    # through pasta's forwarder: the sandbox's only way to it.
    sb "${ST[@]}" --network full --timeout 20 -- /bin/sh -c "nslookup deb.debian.org 2>&1"
    if j stdout | grep -q '^Address'; then pass full_network_reaches_outside; else fail full_network_reaches_outside "$(j stdout) $(cat "$WORK/r.err")"; fi
    if pgrep -x pasta >/dev/null; then fail pasta_gone_after_run "$(pgrep -ax pasta)"; else pass pasta_gone_after_run; fi
else
    skip full_network "pasta not installed"
fi
summary
