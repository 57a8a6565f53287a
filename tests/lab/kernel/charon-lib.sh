# charon-lib.sh: strongSwan's charon with its kernel backend
# (kernel-netlink, PSK IKEv2) for the kernel lab guest scripts. Source it
# after guest-lib.sh:
#     . "$SECSTAT_SOURCE_DIR/tests/lab/kernel/charon-lib.sh"
# run-guest.sh copies only the guest script and guest-lib.sh into the run
# directory (/lab); the host's / is the guest's root (read-only 9p), so
# this file is read from the source tree at its host path, like
# iscsi-lib.sh.
#
# The sourcing script sets D, its scratch directory (side S lives in
# $D/S: strongswan.conf, swanctl.conf, charon.log, charon.stdout,
# charon.vici, run/), and defines die MSG (stop at once, with its logs).
#
# Globals: CHARON (the daemon), CHARON_PLUGINS (only what PSK IKEv2 with
# AES/SHA-256/MODP needs: every plugin costs start-up time under
# emulation, openssl does the crypto), CHARON_PSK, CHARON_PIDS (every
# charon started, for the script's cleanup) and CHARON_PID (the last).
#
# charon_require     dies unless charon, swanctl and the plugins are there
# charon_conf SIDE ME PEER MYID PEERID CHILD MODE LOCAL_TS REMOTE_TS ESP
#                    writes SIDE's strongswan.conf and swanctl.conf: IKE_SA
#                    "lab" from ME to PEER, CHILD_SA CHILD in MODE (tunnel
#                    or transport) with the traffic selectors and ESP
#                    proposals given, not started on its own
# sw SIDE COMMAND ARGS...   swanctl COMMAND on SIDE's vici socket (90 s at most)
# charon_start SIDE PREFIX...  starts SIDE's charon in the background
#                    under PREFIX (e.g. ip netns exec NS), with its own /run
# charon_wait SIDE   waits (60 s at most) for SIDE's vici socket
# charon_check_kernel SIDE  dies unless SIDE's charon answers and runs
#                    kernel-netlink, not kernel-libipsec
# charon_load SIDE   swanctl --load-all of SIDE's swanctl.conf, its output in
#                    $D/load-SIDE.txt; returns swanctl's status
# nap SECONDS        sleeps without starting a process (under emulation a
#                    process start costs up to a second on a busy host)

CHARON=/usr/lib/ipsec/charon
CHARON_PLUGINS="random nonce openssl kdf kernel-netlink socket-default vici counters"
CHARON_PSK='0sbGFiLWdvb2QtcHNrLTEyMzQ1Njc4OTA='
CHARON_PIDS=
CHARON_PID=

# A read that times out on a FIFO nobody writes.
nap()
{
	if [ -z "${NAP_FD:-}" ]; then
		mkdir -p "$D"
		[ -p "$D/nap.fifo" ] || mkfifo "$D/nap.fifo"
		exec {NAP_FD}<>"$D/nap.fifo"
	fi
	read -r -t "$1" -u "$NAP_FD" _ || :
}

charon_require()
{
	local p
	[ -x "$CHARON" ] && command -v swanctl >/dev/null ||
		die "strongSwan missing on the host (strongswan-charon strongswan-swanctl libcharon-extra-plugins)"
	for p in $CHARON_PLUGINS; do
		[ -e /usr/lib/ipsec/plugins/libstrongswan-$p.so ] ||
			die "charon plugin $p missing on the host"
	done
}

charon_conf()
{
	local d=$D/$1
	mkdir -p "$d/run"
	cat >"$d/strongswan.conf" <<-EOF
		charon {
		    load_modular = no
		    load = $CHARON_PLUGINS
		    install_routes = yes
		    retransmit_tries = 3
		    retransmit_timeout = 2.0
		    filelog {
		        lab {
		            path = $d/charon.log
		            time_format = %T
		            flush_line = yes
		            default = 1
		            knl = 2
		            ike_name = yes
		        }
		    }
		    syslog {
		    }
		    plugins {
		        vici {
		            socket = unix://$d/charon.vici
		        }
		    }
		}
		swanctl {
		    # PSKs only: no key parsers, and no openssl start-up.
		    load = random
		}
	EOF
	cat >"$d/swanctl.conf" <<-EOF
		connections {
		    lab {
		        version = 2
		        local_addrs = $2
		        remote_addrs = $3
		        proposals = aes256-sha256-modp2048
		        local {
		            auth = psk
		            id = $4
		        }
		        remote {
		            auth = psk
		            id = $5
		        }
		        children {
		            $6 {
		                mode = $7
		                local_ts = $8
		                remote_ts = $9
		                esp_proposals = ${10}
		                start_action = none
		            }
		        }
		    }
		}
		secrets {
		    ike-lab {
		        id-1 = $4
		        id-2 = $5
		        secret = $CHARON_PSK
		    }
		}
	EOF
}

sw()
{
	local side=$1 cmd=$2
	shift 2
	STRONGSWAN_CONF=$D/$side/strongswan.conf timeout 90 swanctl "$cmd" \
		--uri "unix://$D/$side/charon.vici" "$@"
}

# charon writes /var/run/charon.pid whatever the configuration says: the
# shell binds the side's own run directory over /run in the mount
# namespace PREFIX gives it (ip netns exec and unshare -m make one), then
# execs charon, so the PIDs are charon's.
charon_start()
{
	local side=$1
	shift
	"$@" /bin/sh -c 'mount --bind "$1" /run || exit 97
		STRONGSWAN_CONF="$2" exec "$3"' sh "$D/$side/run" \
		"$D/$side/strongswan.conf" "$CHARON" >"$D/$side/charon.stdout" 2>&1 &
	CHARON_PID=$!
	CHARON_PIDS="$CHARON_PIDS $CHARON_PID"
}

charon_wait()
{
	for _ in $(seq 600); do
		[ -S "$D/$1/charon.vici" ] && return 0
		nap 0.1
	done
	cat "$D/$1/charon.stdout"
	die "charon $1 did not create its vici socket"
}

charon_check_kernel()
{
	local raw=$D/stats-$1.raw
	sw "$1" --stats --raw >"$raw" 2>&1 ||
		{ cat "$D/$1/charon.stdout" "$raw"; die "charon $1 does not answer"; }
	grep -q 'kernel-netlink' "$raw" && ! grep -q 'kernel-libipsec' "$raw" ||
		die "charon $1: not kernel-netlink alone ($(cat "$raw"))"
}

charon_load()
{
	sw "$1" --load-all --noprompt --file "$D/$1/swanctl.conf" \
		>"$D/load-$1.txt" 2>&1
}
