#!/bin/busybox sh
# Stage 1 of the lab guest: /init of the initramfs, run by the kernel as
# PID 1 with nothing but static busybox and the few modules needed to
# reach the host's root filesystem (virtio PCI, 9p, overlayfs).
#
# It mounts the host's / (shared read-only over 9p) under a tmpfs overlay
# so the guest can write anywhere without touching the host, then hands
# over to stage 2 *inside* that root. Switching root matters: the kernel's
# usermode helpers (modprobe for the crypto algorithms esp4 requests, for
# instance) must resolve to the host's kmod and /lib/modules, which only
# exist in the host root.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

fail() {
	# Whatever went wrong ends up on the kernel console, which the host
	# prints when the guest never reports a status.
	echo "lab-init: $*"
	dmesg | tail -n 20
	poweroff -f
}

for m in $(cat /mods/order); do
	insmod "/mods/$m.ko" || echo "lab-init: insmod $m failed"
done

# The virtio device may show up a moment after its driver is loaded:
# retry for up to 5 s.
i=0
until mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose \
	hostroot /lower 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "cannot mount the host root over 9p"
	sleep 0.1
done

# Writes go to guest RAM; index/xino off because the lower layer is 9p.
mount -t tmpfs -o size=70% rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work,xino=off,index=off \
	overlay /newroot || fail "cannot mount the overlay root"

mkdir -p /newroot/lab /newroot/.lab
cp /stage2.sh /newroot/.lab/stage2.sh
mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
exec switch_root /newroot /bin/sh /.lab/stage2.sh
