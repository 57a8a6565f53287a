#!/bin/bash
# run-guest.sh GUEST_SCRIPT [ARGS...]
#
# Runs GUEST_SCRIPT as root inside Debian's own kernel (linux-image-amd64)
# booted under qemu, and exits with the script's status.
#
# Why a VM: the kernels the project's CI and development machines run may
# lack ESP, xfrm_user or the iSCSI modules (the development VMs' own kernel
# has none of them), while Debian's kernel has all of them. Booting it under
# qemu with the host's / shared read-only over 9p gives real kernel sources
# for the tests, while the freshly built secstatd/secstat and the host's
# daemons (iscsid, charon, ...) run inside at their host paths.
#
# The guest has no network device: everything it does stays in the VM.
#
# Environment (all optional):
#   SECSTAT_LAB_DIR   cache and run directories
#                     (default $SECSTAT_BUILD_DIR/lab-kernel, else
#                     /tmp/secstat-lab-kernel)
#   LAB_TIMEOUT       seconds for the whole VM run (default 300)
#   LAB_MEM, LAB_CPUS guest RAM in MiB (1024) and vCPUs (2)
#   LAB_KVER          kernel version (default: newest installed *-amd64)
#   LAB_ACCEL         kvm or tcg (default: kvm only when it really works)
#   LAB_NO_INSTALL=1  never run apt-get; fail when something is missing
#   LAB_KEEP=1        keep the run directory (console.log, guest.log, out/)
#   LAB_APPEND        extra kernel command line (e.g. loglevel=7)
# Every variable whose name starts with SECSTAT is exported into the guest
# (SECSTATD, SECSTAT, SECSTAT_BUILD_DIR, ...), and LAB_LIB names the
# guest-side helper library (guest-lib.sh).
#
# Exit status: the guest script's; 124 when the VM ran out of time; 125
# when the guest never reported a status; 126 when the environment could
# not be built (missing package, no kernel, initramfs failure). Every
# failure prints why, with the tail of the kernel console: CI must never
# mistake a broken environment for a skipped or passed test.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T0=$(date +%s.%N)

elapsed()
{
	awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

log()
{
	printf '[lab %5ss] %s\n' "$(elapsed)" "$*" >&2
}

# An environment failure: never a skip.
die_env()
{
	log "ENVIRONMENT FAILURE: $*"
	exit 126
}

usage()
{
	echo "usage: $0 GUEST_SCRIPT [ARGS...]" >&2
	exit 2
}

# Installs the host packages the lab needs, only those missing. The list
# is also what the project's setup script installs.
ensure_packages()
{
	local need=()

	command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
	# Stage 1 runs before any library is reachable: busybox must be static.
	if ! [ -x /bin/busybox ] || ! file -L /bin/busybox 2>/dev/null |
		grep -q 'statically linked'; then
		need+=(busybox-static)
	fi
	command -v file >/dev/null || need+=(file)
	command -v cpio >/dev/null || need+=(cpio)
	command -v modprobe >/dev/null || need+=(kmod)
	command -v ip >/dev/null || need+=(iproute2)
	command -v nsenter >/dev/null || need+=(util-linux)
	command -v iscsiadm >/dev/null || need+=(open-iscsi)
	command -v xz >/dev/null || need+=(xz-utils)
	command -v zstd >/dev/null || need+=(zstd)
	ls /boot/vmlinuz-*-amd64 >/dev/null 2>&1 || need+=(linux-image-amd64)

	[ ${#need[@]} -eq 0 ] && return 0
	if [ -n "${LAB_NO_INSTALL:-}" ]; then
		die_env "missing packages (LAB_NO_INSTALL set): ${need[*]}"
	fi
	log "installing: ${need[*]}"
	# --no-install-recommends keeps qemu small. Installing the kernel
	# writes /boot and /lib/modules only; the running kernel is untouched.
	# open-iscsi's postinst does not start iscsid without systemd as PID 1.
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || die_env "apt-get update failed"
	apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 ||
		die_env "apt-get install ${need[*]} failed"
}

# The kernel to boot: LAB_KVER, or the newest */lib/modules/*-amd64 that
# has its vmlinuz (linux-image-amd64 is a moving metapackage).
pick_kernel()
{
	local v d

	if [ -n "${LAB_KVER:-}" ]; then
		KVER=$LAB_KVER
	else
		KVER=
		for d in /lib/modules/*-amd64; do
			v=${d##*/}
			[ -f "/boot/vmlinuz-$v" ] && KVER="$KVER $v"
		done
		KVER=$(printf '%s\n' $KVER | sort -V | tail -n 1)
	fi
	[ -n "$KVER" ] && [ -f "/boot/vmlinuz-$KVER" ] ||
		die_env "no Debian kernel (/boot/vmlinuz-*-amd64) found"
	[ -d "/lib/modules/$KVER" ] ||
		die_env "/lib/modules/$KVER missing: the guest could not load modules"
	KERNEL=/boot/vmlinuz-$KVER
}

# KVM only when it really works: on the project's VMs /dev/kvm exists and
# KVM_CREATE_VM succeeds, but the CPU has no vmx/svm flag and a KVM guest
# stalls right after entering long mode. TCG boots in about 3 s.
pick_accel()
{
	ACCEL=${LAB_ACCEL:-}
	if [ -z "$ACCEL" ]; then
		if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
			ACCEL=kvm
		else
			ACCEL=tcg
		fi
	fi
	case $ACCEL in
	kvm) CPU=host ;;
	tcg) CPU=max ACCEL=tcg,thread=multi ;;
	*) die_env "LAB_ACCEL must be kvm or tcg, not '$ACCEL'" ;;
	esac
}

# Copies one kernel module into the initramfs, decompressed (busybox
# insmod takes plain .ko files only).
copy_module()
{
	local ko=$1 dst=$2 base

	base=$(basename "$ko")
	case $ko in
	*.ko.xz) xz -dc "$ko" >"$dst/${base%.xz}" ;;
	*.ko.zst) zstd -qdc "$ko" >"$dst/${base%.zst}" ;;
	*) cp "$ko" "$dst/" ;;
	esac
	echo "${base%%.ko*}" >>"$dst/order"
}

# Builds the initramfs (static busybox, stage-1 init, the modules needed to
# mount the host root) once per kernel and per version of init.sh and
# stage2.sh; later runs reuse it.
build_initramfs()
{
	local key work m ko mods

	key=$(cat "$HERE/init.sh" "$HERE/stage2.sh" | md5sum | cut -c1-12)
	INITRD=$LAB_DIR/initramfs-$KVER-$key.cpio.gz
	[ -f "$INITRD" ] && return 0

	log "building $INITRD"
	work=$(mktemp -d "$LAB_DIR/initrd.XXXXXX")
	mkdir -p "$work"/{bin,dev,proc,sys,lower,rw,newroot,mods}
	cp /bin/busybox "$work/bin/busybox"
	# One module per modprobe call: with several names, modprobe takes
	# the rest as module parameters. Built-in ones print no insmod line.
	mods=
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		mods="$mods$(modprobe -S "$KVER" --show-depends "$m")" ||
			die_env "modprobe cannot resolve $m for $KVER"
		mods="$mods
"
	done
	touch "$work/mods/order"
	for ko in $(echo "$mods" |
		awk '$1 == "insmod" && !seen[$2]++ { print $2 }'); do
		copy_module "$ko" "$work/mods" ||
			die_env "cannot copy module $ko"
	done
	cp "$HERE/init.sh" "$work/init"
	cp "$HERE/stage2.sh" "$work/stage2.sh"
	chmod +x "$work/init"
	(cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) \
		>"$INITRD.tmp" || die_env "cpio failed"
	mv "$INITRD.tmp" "$INITRD"
	# Older images of the same kernel are stale now.
	find "$LAB_DIR" -maxdepth 1 -name "initramfs-$KVER-*.cpio.gz" \
		! -name "${INITRD##*/}" -delete
	rm -rf "$work"
}

# The run directory, exported writable to the guest as /lab.
prepare_run()
{
	local script=$1 name
	shift

	RUN=$(mktemp -d "$LAB_DIR/run.XXXXXX")
	mkdir -p "$RUN/out"
	cp "$script" "$RUN/guest.sh"
	cp "$HERE/guest-lib.sh" "$RUN/guest-lib.sh"
	printf '%q ' "$@" >"$RUN/args"
	{
		echo "export LAB_LIB=/lab/guest-lib.sh LAB_OUT=/lab/out"
		for name in $(compgen -e | grep '^SECSTAT' || true); do
			printf 'export %s=%q\n' "$name" "${!name}"
		done
	} >"$RUN/env"
}

cleanup()
{
	if [ -n "${RUN:-}" ] && [ -z "${LAB_KEEP:-}" ]; then
		rm -rf "$RUN"
	fi
}

console_tail()
{
	echo "----- kernel console (last ${2:-40} lines) -----" >&2
	tail -n "${2:-40}" "$RUN/console.log" >&2 2>/dev/null || true
	echo "----- end of console -----" >&2
}

# Boots the VM and waits for it (bounded by LAB_TIMEOUT). ttyS0 is the
# kernel console (console.log), ttyS1 the guest script's output, shown live
# and kept in guest.log. no_timer_check: on a loaded host the emulated CPU
# is so slow against the wall clock that the kernel's IO-APIC timer test
# fails and it panics ("IO-APIC + timer doesn't work"); the test exists
# for broken hardware, not for qemu.
boot_guest()
{
	log "booting $KERNEL accel=$ACCEL mem=${LAB_MEM}M cpus=$LAB_CPUS"
	set +e
	timeout -k 5 "$LAB_TIMEOUT" qemu-system-x86_64 \
		-accel "$ACCEL" -cpu "$CPU" -m "$LAB_MEM" -smp "$LAB_CPUS" \
		-machine q35 -nodefaults -no-user-config -display none \
		-monitor none -no-reboot -nic none \
		-serial "file:$RUN/console.log" \
		-chardev "stdio,id=script,signal=off,logfile=$RUN/guest.log" \
		-serial chardev:script \
		-kernel "$KERNEL" -initrd "$INITRD" \
		-append "console=ttyS0 panic=-1 loglevel=4 no_timer_check ${LAB_APPEND:-}" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$RUN,mount_tag=lab,security_model=none,multidevs=remap" \
		-device virtio-rng-pci </dev/null
	QEMU_RC=$?
	set -e
}

# Turns what the VM left behind into this script's exit status.
report()
{
	local rc

	if [ "$QEMU_RC" -eq 124 ] || [ "$QEMU_RC" -eq 137 ]; then
		log "FAILURE: the VM did not finish within ${LAB_TIMEOUT}s"
		console_tail
		return 124
	fi
	if ! [ -f "$RUN/rc" ]; then
		log "FAILURE: the guest never reported a status (qemu exit $QEMU_RC)"
		console_tail 60
		return 125
	fi
	rc=$(cat "$RUN/rc")
	[ -f "$RUN/boot_s" ] &&
		log "guest script started at guest uptime $(cat "$RUN/boot_s")s"
	if [ "$rc" -ne 0 ]; then
		log "FAILURE: guest script exited $rc"
		console_tail 20
	fi
	log "total wall time $(elapsed)s, guest status $rc"
	[ -n "${LAB_KEEP:-}" ] && log "run directory kept: $RUN"
	return "$rc"
}

main()
{
	local script rc

	[ $# -ge 1 ] || usage
	script=$1
	shift
	[ -r "$script" ] || die_env "guest script $script not readable"

	if [ -n "${SECSTAT_BUILD_DIR:-}" ]; then
		LAB_DIR=${SECSTAT_LAB_DIR:-$SECSTAT_BUILD_DIR/lab-kernel}
	else
		LAB_DIR=${SECSTAT_LAB_DIR:-/tmp/secstat-lab-kernel}
	fi
	LAB_TIMEOUT=${LAB_TIMEOUT:-300}
	LAB_MEM=${LAB_MEM:-1024}
	LAB_CPUS=${LAB_CPUS:-2}
	mkdir -p "$LAB_DIR"
	# Guest scripts source their shared files (iscsi-lib.sh,
	# charon-lib.sh) from the source tree, which the guest sees at its
	# host path: a run by hand needs it as much as one from ctest.
	export SECSTAT_SOURCE_DIR=${SECSTAT_SOURCE_DIR:-$(cd "$HERE/../../.." && pwd)}

	ensure_packages
	pick_kernel
	pick_accel
	build_initramfs
	trap cleanup EXIT
	prepare_run "$script" "$@"
	boot_guest
	rc=0
	report || rc=$?
	# A guest that never reached the script (boot panic, qemu start-up
	# failure) is retried once on a fresh run directory: that is the
	# environment, not the test. A script that ran is never re-run.
	if [ "$rc" -eq 125 ] && ! [ -f "$RUN/boot_s" ]; then
		log "the guest did not boot; retrying once"
		cleanup
		prepare_run "$script" "$@"
		boot_guest
		rc=0
		report || rc=$?
	fi
	exit "$rc"
}

main "$@"
