#!/usr/bin/env bash
# Installs the Debian packages secstat needs, only those missing.
#   deps.sh build   compiler, libraries, code generators
#   deps.sh test    build + what the test suite drives (real daemons,
#                   the real-kernel guest, sanitizers, valgrind)
set -euo pipefail

build_pkgs=(
	gcc make cmake pkg-config python3
	libnng-dev libprotobuf-c-dev protobuf-c-compiler
	libmnl-dev libinih-dev libmbedtls-dev
	iproute2
)
test_pkgs=(
	libcmocka-dev valgrind clang libclang-rt-14-dev
	strongswan-charon strongswan-swanctl libcharon-extra-plugins
	qemu-system-x86 busybox-static cpio kmod linux-image-amd64
	open-iscsi util-linux file procps psmisc libcap2-bin openssl
	prometheus bash-completion man-db groff-base systemd
	iputils-ping xz-utils zstd perl
)

want=("${build_pkgs[@]}")
case "${1:-build}" in
build) ;;
test) want+=("${test_pkgs[@]}") ;;
*)
	echo "usage: $0 build|test" >&2
	exit 64
	;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: need root to install: ${missing[*]}" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists of a fresh machine are empty or old.
apt-get update -qq
# strongSwan's and open-iscsi's postinst scripts try to start services;
# there is no init system to start them in a container, and the tests
# start their own daemons.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
