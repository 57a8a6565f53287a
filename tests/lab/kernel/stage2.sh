# Stage 2 of the lab guest: PID 1 inside the host's root (read-only 9p
# under a tmpfs overlay), run by the host's /bin/sh. It prepares what a
# normally booted system would have (/run, devpts, configfs), runs the
# guest script, stores its exit status where the host looks for it and
# powers the VM off.
#
# Files exchanged with the host live in the run directory, mounted
# writable at /lab: guest.sh (the script), args, env (exported SECSTAT_*
# variables), guest-lib.sh; the guest writes rc, boot_s and out/.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb

mount -t tmpfs -o mode=755 run /run
mkdir -p /run/lock /run/netns
mkdir -p /dev/shm /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t devpts devpts /dev/pts
# LIO is configured through configfs; debugfs helps when debugging.
mount -t configfs configfs /sys/kernel/config 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 lab /lab
hostname seclab
ip link set lo up

# The guest has no network device (qemu -nic none): nothing it does can
# reach outside the VM.
read up _ </proc/uptime
echo "$up" >/lab/boot_s

cd /lab
# ttyS1 is the host's view of the script's stdout and stderr; ttyS0 stays
# the kernel console (console.log on the host).
bash -c '. /lab/env; eval "set -- $(cat /lab/args)"; exec bash /lab/guest.sh "$@"' \
	</dev/null >/dev/ttyS1 2>&1
echo $? >/lab/rc.tmp
mv /lab/rc.tmp /lab/rc
sync
# sysrq "o" powers off at once; -no-reboot makes qemu exit.
echo o >/proc/sysrq-trigger
sleep 10
