#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then use it the way a
# consumer would, with nothing but the installed files:
# - the layout (binaries, libsecstat shared with its SONAME links and
#   static, headers, generated headers, .proto files, pkg-config, CMake
#   package, man pages, unit, sysusers, completion, example config);
# - examples/noc-console built with its Makefile through pkg-config and
#   run for one round against real agents;
# - a program using the exported protobuf-c API (pack/unpack, descriptors)
#   built with pkg-config, shared and static;
# - find_package(secstat) with secstat::secstat and the version rule;
# - every installed man page renders with man -l, every public function
#   has a page, every option of secstatd and secstat is in its page and
#   every secstatd option has a config key documented in secstatd.conf(5)
#   and the example config;
# - the example config parses; unknown keys and bad values are reported
#   as FILE:LINE;
# - the systemd unit passes systemd-analyze verify;
# - the bash completion completes commands and options.
set -euo pipefail

: "${SECSTATD:?}" "${SECSTAT:?}" "${SECSTAT_SOURCE_DIR:?}" "${SECSTAT_BUILD_DIR:?}"
. "$SECSTAT_SOURCE_DIR/tests/support/testlib.sh"

# $1: SECSTAT_SANITIZE of the build. The installed library then needs
# the sanitizer runtime, so the consumers are built with the same flags.
san=()
if [ "${1:-OFF}" = ON ]; then
	san=(-fsanitize=address,undefined -fno-omit-frame-pointer)
fi
prefix=$work/prefix
cmake --install "$SECSTAT_BUILD_DIR" --prefix "$prefix" >"$work/install.log" ||
	{ cat "$work/install.log" >&2; fail "cmake --install"; }
libdir=$(dirname "$(find "$prefix" -name secstat.pc -path '*/pkgconfig/*')")
libdir=${libdir%/pkgconfig}
export PKG_CONFIG_PATH=$libdir/pkgconfig
export LD_LIBRARY_PATH=$libdir

# Layout.
for f in sbin/secstatd bin/secstat include/secstat/secstat.h \
	include/secstat/fwpmu.h include/secstat/winerror.h \
	include/secstat/v1/service.pb-c.h include/secstat/v1/stream.pb-c.h \
	share/secstat/proto/secstat/v1/service.proto \
	share/man/man8/secstatd.8 share/man/man5/secstatd.conf.5 \
	share/man/man1/secstat.1 share/man/man3/libsecstat.3 \
	share/bash-completion/completions/secstat \
	share/doc/secstat/examples/secstatd.conf \
	lib/systemd/system/secstatd.service lib/sysusers.d/secstat.conf \
	etc/secstat/secstatd.conf; do
	[ -e "$prefix/$f" ] || fail "not installed: $f"
done
[ -x "$prefix/sbin/secstatd" ] && [ -x "$prefix/bin/secstat" ] || fail "binaries not executable"
[ -f "$libdir/libsecstat.a" ] || fail "no libsecstat.a"
[ -f "$libdir/cmake/secstat/secstatConfig.cmake" ] &&
	[ -f "$libdir/cmake/secstat/secstatConfigVersion.cmake" ] || fail "no CMake package"
real=$(readlink -f "$libdir/libsecstat.so")
[ "$(readlink "$libdir/libsecstat.so")" = libsecstat.so.0 ] || fail "libsecstat.so -> $(readlink "$libdir/libsecstat.so")"
[ "$(basename "$real")" = "libsecstat.so.0.1.0" ] || fail "real library: $real"
readelf -d "$real" | grep -q 'SONAME.*\[libsecstat.so.0\]' || fail "SONAME"
# The library exports its API and the generated protobuf-c code, and
# nothing of its internals (ASan builds add their __odr_asan markers).
nm -D --defined-only "$real" | awk '{print $3}' >"$work/syms"
grep -qx secstat_fleet_query "$work/syms" || fail "secstat_fleet_query not exported"
grep -qx secstat__v1__reply__unpack "$work/syms" || fail "generated unpack not exported"
grep -qx secstat__v1__reply__descriptor "$work/syms" || fail "generated descriptor not exported"
bad=$(grep -Ev '^(secstat_|secstat__v1__|Fwpm|IPsec|Ikeext|_init$|_fini$|__odr_asan[.])' "$work/syms" || true)
[ -z "$bad" ] || fail "internal symbols exported: $(echo $bad | head -c 300)"
[ "$("$prefix/bin/secstat" --version)" = "secstat 0.1.0" ] || fail "installed secstat --version"
pkg-config --print-requires secstat | grep -q libprotobuf-c || fail "secstat.pc: Requires libprotobuf-c"
[ "$(pkg-config --modversion secstat)" = 0.1.0 ] || fail "secstat.pc version"

# Agents to talk to.
a=tcp://127.0.0.1:$(free_port)
b=tcp://127.0.0.1:$(free_port)
start_cmd a "$prefix/sbin/secstatd" --provider sim --sim-seed 1 --hostname inst-a \
	--listen "$a" --allow-loopback-insecure
start_cmd b "$prefix/sbin/secstatd" --provider sim --sim-seed 2 --hostname inst-b \
	--listen "$b" --allow-loopback-insecure
printf '%s gw-a\n%s gw-b\n' "$a" "$b" >"$work/hosts"

# The example, built from a copy of its directory with its Makefile.
cp -r "$SECSTAT_SOURCE_DIR/examples/noc-console" "$work/noc"
make -C "$work/noc" CFLAGS="-O2 -g -Wall -Wextra ${san[*]}" LDFLAGS="${san[*]}" \
	>"$work/make.log" 2>&1 || { cat "$work/make.log" >&2; fail "noc-console: make"; }
grep -q -- "-I$libdir/pkgconfig/../../include\|-I$prefix/include" "$work/make.log" ||
	fail "noc-console not built with the installed prefix's flags"
timeout 30 "$work/noc/noc-console" --once --hosts "$work/hosts" >"$work/noc.out" ||
	fail "noc-console --once"
grep -q 'hosts answering: 2/2' "$work/noc.out" || fail "noc-console: $(cat "$work/noc.out")"
grep -Eq 'active SAs +[0-9]+' "$work/noc.out" || fail "noc-console: no aggregate"
timeout 30 "$work/noc/noc-console" --count 2 --interval 1 "$a" "$b" >"$work/noc2.out" ||
	fail "noc-console --count 2"
[ "$(grep -c '^== ' "$work/noc2.out")" = 2 ] || fail "noc-console --count 2: rounds"
grep -q 'encryptedByteCount' "$work/noc2.out" || fail "noc-console: no rates in round 2"

# A consumer of the protobuf-c API: repack a reply, unpack it with the
# exported generated code, read it through the descriptor.
cat >"$work/consumer.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <secstat/secstat.h>
#include <secstat/fwpmu.h>

int
main(int argc, char *argv[])
{
	secstat_session *s;
	Secstat__V1__Reply *r, *copy;
	uint8_t *buf;
	size_t len;

	if (argc != 2 || secstat_session_open(&s, argv[1], NULL) != ERROR_SUCCESS ||
	    secstat_ipsec_get_statistics1(s, &r) != ERROR_SUCCESS) {
		return 1;
	}
	len = secstat__v1__reply__get_packed_size(r);
	buf = malloc(len);
	secstat__v1__reply__pack(r, buf);
	copy = secstat__v1__reply__unpack(NULL, len, buf);
	if (copy == NULL || copy->ipsec == NULL ||
	    copy->ipsec->statistics->aggregate_sa_statistics->active_sas !=
	        r->ipsec->statistics->aggregate_sa_statistics->active_sas) {
		return 2;
	}
	printf("%s %s %llu\n", copy->base.descriptor->name,
	       copy->host->hostname,
	       (unsigned long long)copy->ipsec->statistics
	           ->aggregate_sa_statistics->active_sas);
	protobuf_c_message_free_unpacked(&copy->base, NULL);
	free(buf);
	secstat_reply_free(r);
	secstat_session_close(s);
	return 0;
}
C
# shellcheck disable=SC2046
cc "${san[@]}" -Wall -Werror -o "$work/consumer" "$work/consumer.c" $(pkg-config --cflags --libs secstat) ||
	fail "consumer: shared build"
"$work/consumer" "$a" | grep -q '^secstat.v1.Reply inst-a [0-9]' || fail "consumer: shared run"
static_libs=$(pkg-config --static --libs-only-l secstat | sed 's/-lsecstat//')
# shellcheck disable=SC2046,SC2086
cc "${san[@]}" -Wall -Werror -o "$work/consumer-static" "$work/consumer.c" \
	$(pkg-config --cflags secstat) "$libdir/libsecstat.a" $static_libs ||
	fail "consumer: static build"
ldd "$work/consumer-static" | grep -q libsecstat && fail "static consumer uses libsecstat.so"
LD_LIBRARY_PATH= "$work/consumer-static" "$b" | grep -q ' inst-b ' || fail "consumer: static run"

# find_package(secstat).
mkdir -p "$work/cm"
cp "$work/consumer.c" "$work/cm/"
cat >"$work/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(secstat 0.1 REQUIRED)
add_executable(consumer consumer.c)
target_link_libraries(consumer PRIVATE secstat::secstat)
add_executable(consumer_static consumer.c)
target_link_libraries(consumer_static PRIVATE secstat::secstat_static)
CM
cmake -S "$work/cm" -B "$work/cm/b" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_C_FLAGS="${san[*]}" >"$work/cm.log" 2>&1 &&
	cmake --build "$work/cm/b" >>"$work/cm.log" 2>&1 || { cat "$work/cm.log" >&2; fail "find_package build"; }
LD_LIBRARY_PATH= "$work/cm/b/consumer" "$a" | grep -q ' inst-a ' ||
	fail "find_package consumer (no LD_LIBRARY_PATH: the imported target's path)"
"$work/cm/b/consumer_static" "$a" | grep -q ' inst-a ' || fail "find_package static consumer"
sed -i 's/find_package(secstat 0.1 REQUIRED)/find_package(secstat 1.0 REQUIRED)/' "$work/cm/CMakeLists.txt"
cmake -S "$work/cm" -B "$work/cm/b2" -DCMAKE_PREFIX_PATH="$prefix" >"$work/cm2.log" 2>&1 &&
	fail "find_package(secstat 1.0) accepted version 0.1 (SameMajorVersion)"

# The installed .proto files compile from their import root.
if command -v protoc-c >/dev/null; then
	mkdir -p "$work/pc"
	protoc-c --c_out="$work/pc" -I"$prefix/share/secstat/proto" \
		"$prefix"/share/secstat/proto/secstat/v1/*.proto || fail "installed .proto files"
fi

# Man pages: render, one per public function, every option documented.
export MANPATH=$prefix/share/man
for page in $(find "$prefix/share/man" -type f); do
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$page" 2>&1 >/dev/null) ||
		fail "man -l $page"
	[ -z "$out" ] || fail "man -l $page: $out"
done
funcs=$(sed -n 's/^.*[ *]\([A-Za-z_0-9]*\)(.*$/\1/p' \
	<(grep -h -A2 '^SECSTAT_DECL' "$prefix"/include/secstat/*.h | tr '\n' ' ' | sed 's/SECSTAT_DECL/\n/g') |
	sort -u)
[ "$(echo "$funcs" | wc -l)" -gt 40 ] || fail "could not list the public functions"
for f in $funcs; do
	[ -e "$prefix/share/man/man3/$f.3" ] || fail "no man page for $f"
	man 3 "$f" 2>/dev/null | grep -q "$f" || fail "man 3 $f does not render its page"
done
for o in $("$SECSTATD" --help | sed -n 's/^  --\([a-z0-9-]*\).*/\1/p'); do
	grep -q -- "^\.BI\? \\\\-\\\\-$(echo "$o" | sed 's/-/\\\\-/g')\b" "$prefix/share/man/man8/secstatd.8" ||
		fail "secstatd(8) lacks --$o"
	case $o in config | help | version) continue ;; esac
	grep -q "^\.BI\? $(echo "$o" | sed 's/-/\\\\-/g')\b" "$prefix/share/man/man5/secstatd.conf.5" ||
		fail "secstatd.conf(5) lacks key $o"
	grep -Eq "^#?$o = " "$prefix/etc/secstat/secstatd.conf" || fail "example config lacks key $o"
done
for o in $("$SECSTAT" --help | grep -o -- '--[a-z0-9-]*' | sort -u); do
	grep -q -- "$(echo "$o" | sed 's/-/\\\\-/g')" "$prefix/share/man/man1/secstat.1" ||
		fail "secstat(1) lacks $o"
done
for c in $("$SECSTAT" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p'); do
	grep -q "^\.BR\? $c\b" "$prefix/share/man/man1/secstat.1" || fail "secstat(1) lacks command $c"
done

# The example config parses (every key); file errors say FILE:LINE.
c=tcp://127.0.0.1:$(free_port)
start_cmd conf "$prefix/sbin/secstatd" --config "$prefix/etc/secstat/secstatd.conf" \
	--listen "$c" --provider sim --allow-loopback-insecure
"$prefix/bin/secstat" -s "$c" info >/dev/null || fail "agent from the example config"
cp "$prefix/etc/secstat/secstatd.conf" "$work/bad.conf"
echo "no-such-key = 1" >>"$work/bad.conf"
n=$(wc -l <"$work/bad.conf")
rc=0
"$prefix/sbin/secstatd" --config "$work/bad.conf" 2>"$work/err" || rc=$?
[ $rc = 64 ] && grep -q "^$work/bad.conf:$n: unknown key 'no-such-key'" "$work/err" ||
	fail "unknown key: exit $rc, $(cat "$work/err")"
printf 'listen = ipc:///tmp/x.sock\ncollect-interval = 5\n' >"$work/bad2.conf"
rc=0
"$prefix/sbin/secstatd" --config "$work/bad2.conf" 2>"$work/err" || rc=$?
[ $rc = 64 ] && grep -q "^$work/bad2.conf:2: collect-interval: " "$work/err" ||
	fail "bad value: exit $rc, $(cat "$work/err")"
# Every key of the example, uncommented, is accepted by the parser: the
# agent gets past the configuration (exit 64 would be a parse error)
# and fails, if at all, on what the values point to.
sed -e 's/^#\([a-z-]* = \)/\1/' -e 's/^ipc-group = .*/ipc-group = 0/' \
	"$prefix/etc/secstat/secstatd.conf" >"$work/all.conf"
[ "$(grep -c '^[a-z-]* = ' "$work/all.conf")" -ge 29 ] || fail "example config: keys missing"
rc=0
timeout 5 "$prefix/sbin/secstatd" --config "$work/all.conf" 2>"$work/err" || rc=$?
[ $rc != 64 ] || fail "a documented key is rejected: $(cat "$work/err")"
grep -q 'unknown key' "$work/err" && fail "unknown key in the example: $(cat "$work/err")"
# A second install keeps the administrator's config.
echo "# edited" >>"$prefix/etc/secstat/secstatd.conf"
cmake --install "$SECSTAT_BUILD_DIR" --prefix "$prefix" >/dev/null
tail -n1 "$prefix/etc/secstat/secstatd.conf" | grep -q '^# edited$' || fail "reinstall overwrote the config"

# The systemd unit: paths of this prefix, hardening, and systemd's own
# verifier.
unit=$prefix/lib/systemd/system/secstatd.service
grep -q "^ExecStart=$prefix/sbin/secstatd --config $prefix/etc/secstat/secstatd.conf$" "$unit" ||
	fail "unit ExecStart: $(grep ExecStart "$unit")"
for d in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
	RuntimeDirectory=secstat User=secstat Group=secstat \
	'CapabilityBoundingSet=CAP_NET_ADMIN CAP_SYS_ADMIN' \
	'AmbientCapabilities=CAP_NET_ADMIN CAP_SYS_ADMIN'; do
	grep -qx "$d" "$unit" || fail "unit lacks $d"
done
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$unit" 2>"$work/verify" || { cat "$work/verify" >&2; fail "systemd-analyze verify"; }
	[ ! -s "$work/verify" ] || { cat "$work/verify" >&2; fail "systemd-analyze verify warnings"; }
fi

# Bash completion (bash-completion package).
if [ -f /usr/share/bash-completion/bash_completion ]; then
	comp() {
		bash -c '. /usr/share/bash-completion/bash_completion
. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; "$FN"; echo "${COMPREPLY[*]}"' \
			_ "$prefix/share/bash-completion/completions/secstat" "$@"
	}
	FN=_secstat comp secstat pr | grep -qw prom || fail "completion: commands"
	FN=_secstat comp secstat --ho | grep -qw -- --hosts || fail "completion: options"
	FN=_secstat comp secstat -s tcp://x prom --p | grep -qw -- --per-host || fail "completion: prom options"
	# _secstatd lists the options from the installed secstatd --help.
	PATH=$prefix/sbin:$PATH FN=_secstatd comp secstatd --metr |
		grep -qw -- --metrics-listen || fail "completion: secstatd"
	FN=_secstatd comp secstatd --provider s | grep -qw sim || fail "completion: providers"
fi
finish
