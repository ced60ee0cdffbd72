#!/bin/bash
# image.sh DIR - build the cgroup-v2 lane's guest into DIR (root):
#
#   DIR/vmlinuz      Debian's linux-image-amd64 kernel (bookworm-backports)
#   DIR/initrd       a tiny busybox initramfs: loads the virtio, ext4 and 9p
#                    modules (Debian builds them as modules), mounts /dev/vda
#                    and switches to it, running /sbin/lane-init
#   DIR/root.ext4    the root file system: mmdebstrap bookworm (the host's
#                    release, so the project's build/ runs in it) with what
#                    the tests use, the kernel's modules and /sbin/lane-init
#
# tests/v2lane/run.sh calls this when its cache (keyed by a hash of this
# file) is missing. Needs mmdebstrap and mkfs.ext4, and the Debian archive
# (LCS_V2LANE_MIRROR, default http://deb.debian.org/debian); xz unpacks the
# kernel modules the initramfs loads.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
out=$1
mirror=${LCS_V2LANE_MIRROR:-http://deb.debian.org/debian}
# What the test scripts run in the guest: bash, coreutils, util-linux
# (mount, mountpoint, runuser), findutils, grep, sed, tar, diffutils come
# with the essential set; the fixture rootfs is made from busybox-static;
# libarchive13 is the runtime dependency loaded for tar exports.
pkgs=busybox-static,python3,iproute2,procps,kmod,passwd,mount,mawk,libarchive13
# Module trees no test needs (graphics, media, sound, wireless, ...): about
# half of the 390 MiB of modules.
drop="drivers/gpu drivers/media drivers/net/wireless drivers/net/ethernet drivers/infiniband
      drivers/staging drivers/scsi drivers/usb drivers/bluetooth drivers/iio drivers/hid sound
      net/wireless net/mac80211 net/bluetooth"
work=$(mktemp -d /tmp/lcs-v2lane-img-XXXXXX)
# (LCS_V2LANE_KEEP=1 keeps the work directory, to look into a failed build)
[ -n "${LCS_V2LANE_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
root=$work/root

# The root's own init (PID 1 after the initramfs): mounts the kernel file
# systems with cgroup2 alone at /sys/fs/cgroup, the two 9p shares (the
# project read-only at /lane/src, the results at /lane/out), runs the lane's
# guest driver and powers off. Without a driver (a broken share) it still
# powers off, so qemu ends.
cat > "$work/lane-init" <<'INIT'
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
ln -sf /proc/self/fd /dev/fd
ln -sf fd/0 /dev/stdin; ln -sf fd/1 /dev/stdout; ln -sf fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /var/tmp && mount -t tmpfs -o mode=1777 tmpfs /var/tmp
mkdir -p /lane/src /lane/out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro src /lane/src
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /lane/out
hostname lane
ip link set lo up
if [ -x /lane/src/tests/v2lane/guest.sh ]; then
    /lane/src/tests/v2lane/guest.sh >/lane/out/guest.log 2>&1
else
    echo "FAIL v2lane_guest: /lane/src/tests/v2lane/guest.sh missing (9p share?)" >/lane/out/results
fi
sync
echo o >/proc/sysrq-trigger
sleep 10
INIT

# The kernel is bookworm-backports' linux-image-amd64 (Linux 6.12): the
# runtime's size-capped writable layer needs Linux >= 6.6 (user xattrs on
# tmpfs) and fails closed on bookworm's 6.1. It is fetched with the root's
# own apt configuration (the same archive) into $LANE_DL: mmdebstrap empties
# the root's /tmp. The root itself stays plain bookworm.
export LANE_DL=$work/dl
mkdir -p "$LANE_DL"
mmdebstrap --variant=essential --include="$pkgs" \
    --customize-hook='cd "$LANE_DL" && export APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" &&
        apt-get download -q -t bookworm-backports "$(apt-cache -t bookworm-backports depends linux-image-amd64 |
            sed -n "s/.*Depends: \(linux-image-[0-9].*\)/\1/p")"' \
    bookworm "$root" "deb $mirror bookworm main" "deb $mirror bookworm-backports main" \
    "deb ${mirror%/debian}/debian-security bookworm-security main"
# (unpacked aside: dpkg-deb -x would replace the root's /lib -> usr/lib link)
dpkg-deb -x "$LANE_DL"/linux-image-*.deb "$work/kernel"
kver=$(ls "$work/kernel/lib/modules")
mkdir -p "$root/usr/lib/modules"
mv "$work/kernel/lib/modules/$kver" "$root/usr/lib/modules/"
mv "$work/kernel/boot/vmlinuz-$kver" "$work/vmlinuz"
for d in $drop; do rm -rf "$root/lib/modules/$kver/kernel/$d"; done
chroot "$root" depmod -a "$kver"
install -m 0755 "$work/lane-init" "$root/sbin/lane-init"
echo lane >"$root/etc/hostname"
rm -rf "$work/kernel" "$root/var/cache/apt"/*.bin "$root/var/lib/apt/lists"/*

# The initramfs: busybox, the modules for the virtio disk and the 9p shares
# (in dependency order, as modprobe resolves them), and an init.
ird=$work/initramfs
mkdir -p "$ird/bin" "$ird/dev" "$ird/proc" "$ird/newroot" "$ird/mod"
cp "$root/bin/busybox" "$ird/bin/busybox"
for a in sh mount umount insmod switch_root sleep echo cat; do ln -s busybox "$ird/bin/$a"; done
: >"$ird/mod/order"
for m in virtio_pci virtio_blk ext4 9pnet_virtio 9p; do
    chroot "$root" modprobe -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
    # (uncompressed: busybox insmod loads plain .ko files)
    m=${ko##*/}; m=${m%.xz}; m=${m%.zst}
    case "$ko" in
    *.xz) xz -dc "$root$ko" >"$ird/mod/$m" ;;
    *.zst) zstd -qdc "$root$ko" >"$ird/mod/$m" ;;
    *) cp "$root$ko" "$ird/mod/$m" ;;
    esac
    echo "$m" >>"$ird/mod/order"
done
cat > "$ird/init" <<'INIT'
#!/bin/sh
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
while read -r m; do insmod "/mod/$m" || echo "initrd: insmod $m failed"; done </mod/order
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mount -t ext4 /dev/vda /newroot || { echo "initrd: cannot mount /dev/vda"; echo o >/proc/sysrq-trigger; }
umount /proc
umount /dev
exec switch_root /newroot /sbin/lane-init
INIT
chmod 0755 "$ird/init"
(cd "$ird" && find . | "$root/bin/busybox" cpio -o -H newc 2>/dev/null) | gzip -1 >"$work/initrd"

# The root file system image, made from the directory (no loop mount).
size=$(( $(du -sm "$root" | cut -f1) + 512 ))
mkfs.ext4 -q -F -L lane-root -d "$root" "$work/root.ext4" "${size}M"
mkdir -p "$out"
mv "$work/vmlinuz" "$work/initrd" "$work/root.ext4" "$out/"
echo "$kver" >"$out/kernel-version"
