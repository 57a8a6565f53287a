#!/bin/bash
# vici_test.sh -- the vici provider against two real strongSwan charon
# daemons. Creates two network namespaces joined by a veth pair, starts a
# charon in each (kernel-libipsec: ESP in userspace, own /run, PSK, IKEv2,
# counters plugin), starts the real secstatd (--provider vici --vici
# unix://...) for each daemon, then negotiates, passes traffic, rekeys and
# fails a negotiation with a wrong PSK, and checks after every step that
# the real secstat CLI reports what swanctl reports on the same daemon.
#
# Needs root and the Debian packages strongswan-charon, strongswan-swanctl,
# libcharon-extra-plugins, iproute2, iputils-ping. Fails (non-zero) when
# any of that is missing or the lab cannot be built: it never skips.
# Environment (set by ctest): SECSTATD, SECSTAT. Arguments: the CLI's path
# (wins over SECSTAT) and the path of vici_lab_sas (the per-SA listing
# through libsecstat; python3 reads its JSON). VICI_TEST_KEEP=1 keeps the
# lab directory (daemon and agent logs).

set -u
export LC_ALL=C

SECSTATD=${SECSTATD:?SECSTATD must name the secstatd binary}
SECSTAT=${1:-${SECSTAT:?SECSTAT must name the secstat binary}}
SAS=${2:?the path of vici_lab_sas}
CHARON=/usr/lib/ipsec/charon
DEADLINE=${VICI_TEST_DEADLINE:-130} # seconds, whole test
ID=$$
NS_A=vta$ID
NS_B=vtb$ID
OUTER_A=192.0.2.1
OUTER_B=192.0.2.2
INNER_A=198.51.100.1
INNER_B=203.0.113.1
INNER_A1=198.51.100.2 # IKEv1 tunnel
INNER_B1=203.0.113.2

T0=$(date +%s.%N)
ts() { awk -v t0="$T0" -v t1="$(date +%s.%N)" 'BEGIN{printf "%6.2fs", t1-t0}'; }
log() { echo "[$(ts)] $*" >&2; }
die() { echo "[$(ts)] FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, charon)"
for b in ip swanctl "$CHARON" ping mount timeout awk python3 "$SECSTATD" "$SECSTAT" "$SAS"; do
    command -v "$b" >/dev/null 2>&1 || [ -x "$b" ] ||
        die "missing $b (apt-get install strongswan-charon strongswan-swanctl libcharon-extra-plugins iproute2 iputils-ping)"
done
for p in counters vici kernel-libipsec; do
    [ -e "/usr/lib/ipsec/plugins/libstrongswan-$p.so" ] ||
        die "charon plugin $p missing (libcharon-extra-plugins / strongswan-charon)"
done

LAB=
WATCHDOG=
AGENT_PIDS=
ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }
cleanup() {
    local rc=$? ns p i
    trap - EXIT INT TERM
    [ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
    for p in $AGENT_PIDS; do kill "$p" 2>/dev/null; done
    for ns in "$NS_A" "$NS_B"; do
        ns_exists "$ns" || continue
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
    done
    for i in $(seq 1 30); do
        [ -z "$(ip netns pids "$NS_A" 2>/dev/null)$(ip netns pids "$NS_B" 2>/dev/null)" ] && break
        sleep 0.1
    done
    for ns in "$NS_A" "$NS_B"; do
        ns_exists "$ns" || continue
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        ip netns del "$ns"
    done
    for p in $AGENT_PIDS; do wait "$p" 2>/dev/null; done
    if [ $rc != 0 ] && [ -n "$LAB" ]; then
        for f in "$LAB"/*/charon.log "$LAB"/agent-*.log; do
            [ -f "$f" ] && { echo "---- $f (tail)"; tail -15 "$f"; } >&2
        done
    fi
    if [ -n "$LAB" ] && [ "${VICI_TEST_KEEP:-0}" = 1 ]; then
        log "kept $LAB"
    elif [ -n "$LAB" ]; then
        rm -rf "$LAB"
    fi
    log "cleanup done (rc=$rc)"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Watchdog: whatever happens, stop within DEADLINE seconds.
( trap 'kill "$sp" 2>/dev/null; exit 0' TERM
  sleep "$DEADLINE" & sp=$!; wait "$sp"
  echo "WATCHDOG: ${DEADLINE}s deadline reached" >&2; kill -TERM $$ ) &
WATCHDOG=$!

LAB=$(mktemp -d /tmp/vici-lab.XXXXXX)

# ---------------------------------------------------------------- network
ip netns add "$NS_A" || die "ip netns add"
ip netns add "$NS_B" || die "ip netns add"
for ns in "$NS_A" "$NS_B"; do
    # no IPv6: a late link-local address makes charon send MOBIKE updates
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
done
ip link add "va$ID" netns "$NS_A" type veth peer name "vb$ID" netns "$NS_B" || die "veth"
ip -n "$NS_A" addr add "$OUTER_A/24" dev "va$ID"
ip -n "$NS_B" addr add "$OUTER_B/24" dev "vb$ID"
ip -n "$NS_A" addr add "$INNER_A/32" dev lo
ip -n "$NS_B" addr add "$INNER_B/32" dev lo
ip -n "$NS_A" addr add "$INNER_A1/32" dev lo
ip -n "$NS_B" addr add "$INNER_B1/32" dev lo
ip -n "$NS_A" link set "va$ID" up
ip -n "$NS_B" link set "vb$ID" up

# ---------------------------------------------------------------- charon
PLUGINS="random nonce openssl aes sha1 sha2 hmac gmp pem pkcs1 x509 revocation constraints pubkey kdf kernel-libipsec kernel-netlink socket-default vici counters updown"
write_conf() { # dir
    local d=$1 sub
    mkdir -p "$d/run"
    for sub in x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8 pkcs12; do
        mkdir -p "$d/swanctl/$sub"
    done
    cat >"$d/strongswan.conf" <<EOF
charon {
    load_modular = no
    load = $PLUGINS
    install_routes = yes
    retransmit_tries = 2
    retransmit_timeout = 1.0
    retransmit_base = 1.4
    filelog {
        lab {
            path = $d/charon.log
            time_format = %T
            default = 1
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
    load = pem pkcs1 x509 revocation constraints pubkey openssl random
}
EOF
}
conn() { # name local remote local_id remote_id local_ts remote_ts child [version]
    cat <<EOF
    $1 {
        version = ${9:-2}
        local_addrs = $2
        remote_addrs = $3
        proposals = aes256-sha256-modp2048
        local { auth = psk
                id = $4 }
        remote { auth = psk
                 id = $5 }
        children {
            $8 {
                local_ts = $6/32
                remote_ts = $7/32
                esp_proposals = aes128-sha256-modp2048
                start_action = none
            }
        }
    }
EOF
}
PSK='0sbGFiLWdvb2QtcHNrLTEyMzQ1Njc4OTA='
write_conf "$LAB/a"
write_conf "$LAB/b"
{
    echo "connections {"
    conn lab "$OUTER_A" "$OUTER_B" a@lab b@lab "$INNER_A" "$INNER_B" net
    conn bad "$OUTER_A" "$OUTER_B" bad@lab b@lab "$INNER_A" "$INNER_B" badnet
    conn v1 "$OUTER_A" "$OUTER_B" a1@lab b1@lab "$INNER_A1" "$INNER_B1" v1net 1
    echo "}"
    echo "secrets {"
    echo "    ike-good { id-1 = a@lab
               id-2 = b@lab
               secret = $PSK }"
    echo "    ike-v1 { id-1 = a1@lab
             id-2 = b1@lab
             secret = $PSK }"
    echo "    ike-bad { id-1 = bad@lab
              id-2 = b@lab
              secret = \"the-WRONG-psk\" }"
    echo "}"
} >"$LAB/a/swanctl/swanctl.conf"
{
    echo "connections {"
    conn lab "$OUTER_B" "$OUTER_A" b@lab a@lab "$INNER_B" "$INNER_A" net
    conn bad "$OUTER_B" "$OUTER_A" b@lab bad@lab "$INNER_B" "$INNER_A" badnet
    conn v1 "$OUTER_B" "$OUTER_A" b1@lab a1@lab "$INNER_B1" "$INNER_A1" v1net 1
    echo "}"
    echo "secrets {"
    echo "    ike-good { id-1 = b@lab
               id-2 = a@lab
               secret = $PSK }"
    echo "    ike-v1 { id-1 = b1@lab
             id-2 = a1@lab
             secret = $PSK }"
    echo "    ike-bad { id-1 = b@lab
              id-2 = bad@lab
              secret = \"another-psk\" }"
    echo "}"
} >"$LAB/b/swanctl/swanctl.conf"

sw() { # side cmd args...
    local side=$1 cmd=$2
    shift 2
    STRONGSWAN_CONF="$LAB/$side/strongswan.conf" \
        timeout 15 swanctl "$cmd" --uri "unix://$LAB/$side/charon.vici" "$@"
}
start_charon() { # side ns
    # `ip netns exec` gives a private mount namespace: our own /run there,
    # because charon 5.9 writes /var/run/charon.pid unconditionally.
    ip netns exec "$2" /bin/sh -c 'mount --bind "$1" /run || exit 97
        STRONGSWAN_CONF="$2" exec "$3"' sh "$LAB/$1/run" "$LAB/$1/strongswan.conf" "$CHARON" \
        >"$LAB/$1/charon.stdout" 2>&1 &
}
start_charon a "$NS_A"
start_charon b "$NS_B"
for side in a b; do
    ok=0
    for i in $(seq 1 100); do
        if [ -S "$LAB/$side/charon.vici" ] && sw "$side" --stats >/dev/null 2>&1; then ok=1; break; fi
        sleep 0.1
    done
    [ $ok = 1 ] || die "charon $side did not come up"
done
log "both charons up"

# ---------------------------------------------------------------- agents
for side in a b; do
    "$SECSTATD" --provider vici --vici "unix://$LAB/$side/charon.vici" \
        --listen "ipc://$LAB/agent-$side.sock" --collect-interval 100 \
        --hostname "vici-lab-$side" >"$LAB/agent-$side.log" 2>&1 &
    AGENT_PIDS="$AGENT_PIDS $!"
done

# agent value: side command path -> value ("" when absent)
val() {
    "$SECSTAT" -s "ipc://$LAB/agent-$1.sock" --timeout 2000 --dump "$2" 2>/dev/null |
        awk -F'\t' -v p="$3" '$2 == p { print $3 }'
}
IKE=ikeext.statistics.ikeV2Statistics
V4=$IKE.v4Statistics
IN=ipsec.statistics.inboundTrafficStatistics
OUT=ipsec.statistics.outboundTrafficStatistics
AGG=ipsec.statistics.aggregateSaStatistics
FAILED=0
CHECKS=0
# expect side command path want what: waits up to 15 s (a loaded CI host)
# for the agent's next snapshots to show `want`, then records a failure.
expect() {
    local side=$1 cmd=$2 path=$3 want=$4 what=$5 got i
    CHECKS=$((CHECKS + 1))
    for i in $(seq 1 150); do
        got=$(val "$side" "$cmd" "$path")
        [ "$got" = "$want" ] && { log "ok   $side $what: $path = $got"; return 0; }
        sleep 0.1
    done
    log "FAIL $side $what: $path = '$got', swanctl says '$want'"
    FAILED=1
}

# The event stream is registered once the negotiation totals are present.
for side in a b; do
    for i in $(seq 1 50); do
        [ -n "$(val "$side" ikeext "$V4.totalSuccessfulMainModes")" ] && break
        sleep 0.1
    done
    [ -n "$(val "$side" ikeext "$V4.totalSuccessfulMainModes")" ] ||
        { "$SECSTAT" -s "ipc://$LAB/agent-$side.sock" --dump ikeext | head -20 >&2; die "agent $side: no vici event stream (see $LAB/agent-$side.log)"; }
done
log "agents up, vici events registered"

sw a --load-all --noprompt --file "$LAB/a/swanctl/swanctl.conf" >/dev/null || die "load a"
sw b --load-all --noprompt --file "$LAB/b/swanctl/swanctl.conf" >/dev/null || die "load b"

# swanctl's view: values of CHILD_SAs in state $3 (or any), summed
child_sum() { # side field state
    sw "$1" --list-sas --raw | grep -o '[a-z]*-[0-9]* {name=[^}]*}' |
        awk -v f="$2" -v s="$3" '
        { st = ""; v = 0
          if (match($0, /state=[A-Z]+/)) st = substr($0, RSTART + 6, RLENGTH - 6)
          if (match($0, f "=[0-9]+")) v = substr($0, RSTART + length(f) + 1, RLENGTH - length(f) - 1)
          if (s == "" || st == s) sum += v }
        END { print sum + 0 }'
}
ike_count() { # side state [list-sas filter...]
    local side=$1 state=$2
    shift 2
    sw "$side" --list-sas --raw "$@" | grep -c "state=$state local-host"
}
child_count() { # side state [list-sas filter...]
    local side=$1 state=$2
    shift 2
    sw "$side" --list-sas --raw "$@" | grep -o "[a-z0-9]*-[0-9]* {name=[^}]*state=$state" | wc -l
}
counters_in() { # side: IKE messages received per the counters plugin
    sw "$1" --counters --raw | tr ' {}' '\n\n\n' |
        awk -F= '/^(ike-init|ike-auth|create-child|info)-in-(req|resp)=/ || /^invalid(-spi)?=/ { s += $2 } END { print s + 0 }'
}
counters_invalid() {
    sw "$1" --counters --raw | tr ' {}' '\n\n\n' |
        awk -F= '/^invalid(-spi)?=/ { s += $2 } END { print s + 0 }'
}

# ---------------------------------------------------------------- 1. up
sw a --initiate --ike lab --child net --timeout 10 >/dev/null || die "initiate lab"
ip netns exec "$NS_A" ping -n -q -c 10 -i 0.1 -W 1 -s 200 -I "$INNER_A" "$INNER_B" >/dev/null ||
    die "no traffic through the CHILD_SA"
log "IKE_SA + CHILD_SA up, 10 pings through"

check_sas() { # side step
    local s=$1 what=$2
    expect "$s" ikeext "$V4.currentActiveMainModes" "$(ike_count "$s" ESTABLISHED)" "$what IKE_SAs"
    expect "$s" ikeext "$V4.currentActiveQuickModes" "$(child_count "$s" INSTALLED)" "$what CHILD_SAs"
    expect "$s" ipsec "$AGG.activeSas" "$((2 * $(child_count "$s" INSTALLED)))" "$what IPsec SAs"
    expect "$s" ipsec "$AGG.activeTunnels" "$(child_count "$s" INSTALLED)" "$what tunnels"
    expect "$s" ikeext "ikeext.statistics.commonStatistics.totalPacketsReceived" "$(counters_in "$s")" "$what IKE packets"
    expect "$s" ikeext "ikeext.statistics.commonStatistics.totalInvalidPacketsReceived" "$(counters_invalid "$s")" "$what invalid IKE packets"
}
for s in a b; do
    check_sas "$s" "after setup:"
    expect "$s" ikeext "$V4.totalSuccessfulMainModes" 1 "IKE_SAs established"
    expect "$s" ikeext "$V4.totalMainModesStarted" 1 "IKE_SAs started"
    expect "$s" ikeext "$V4.totalSuccessfulQuickModes" 1 "CHILD_SAs established"
    expect "$s" ipsec "$AGG.totalSasAdded" 2 "SAs added"
    for d in in out; do
        [ $d = in ] && P=$IN || P=$OUT
        expect "$s" ipsec "$P.encryptedByteCount" "$(child_sum "$s" bytes-$d INSTALLED)" "bytes-$d"
        expect "$s" ipsec "$P.authenticatedESPByteCount" "$(child_sum "$s" bytes-$d INSTALLED)" "bytes-$d (ESP auth)"
        expect "$s" ipsec "$P.tunnelByteCount" "$(child_sum "$s" bytes-$d INSTALLED)" "bytes-$d (tunnel)"
        expect "$s" ipsec "$P.totalSuccessfulPackets" "$(child_sum "$s" packets-$d INSTALLED)" "packets-$d"
    done
done
expect a ikeext "$V4.totalResponderMainModes" 0 "responder IKE_SAs"
expect b ikeext "$V4.totalResponderMainModes" 1 "responder IKE_SAs"
# The per-SA listing: the IKE_SA and its CHILD_SA as swanctl shows them,
# and both configured connections, "bad" down.
check_listing() { # what
    local raw want
    CHECKS=$((CHECKS + 1))
    raw=$(sw a --list-sas --raw | grep -o 'net-[0-9]* {name=[^}]*state=INSTALLED[^}]*}')
    want="lab ESTABLISHED 192.0.2.2 INSTALLED $((16#$(echo "$raw" | grep -o 'spi-in=[0-9a-f]*' | cut -d= -f2))) $(echo "$raw" | grep -o 'bytes-in=[0-9]*' | cut -d= -f2) | bad:False:0 lab:True:1 v1:False:0"
    for i in $(seq 1 50); do
        got=$("$SAS" "ipc://$LAB/agent-a.sock" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
ike = [s for s in d.get("ikeSas", []) if s.get("state") == "ESTABLISHED"]
out = []
for s in ike:
    for c in s.get("childSas", []):
        if c.get("state") == "INSTALLED":
            out.append("%s %s %s %s %d %d" % (s["name"], s["state"], s["remoteAddress"], c["state"], c["spiIn"], c.get("bytesIn", 0)))
conns = sorted("%s:%s:%d" % (c["name"], c.get("established"), c.get("activeChildSas", 0)) for c in d.get("connections", []))
print(" ".join(out) + " | " + " ".join(conns))' 2>&1)
        [ "$got" = "$want" ] && { log "ok   a $1: per-SA listing = $got"; return 0; }
        sleep 0.1
    done
    log "FAIL a $1: per-SA listing '$got', swanctl says '$want'"
    FAILED=1
}
check_listing "after setup"
A_IN0=$(child_sum a bytes-in INSTALLED)
A_OUT0=$(child_sum a bytes-out INSTALLED)
A_PIN0=$(child_sum a packets-in INSTALLED)
[ "$A_IN0" -gt 0 ] || die "swanctl shows no CHILD_SA bytes after traffic"

# ---------------------------------------------------------------- 2. rekey
sw a --rekey --child net >/dev/null || die "rekey child"
sw a --rekey --ike lab >/dev/null || die "rekey ike"
sleep 0.3
ip netns exec "$NS_A" ping -n -q -c 5 -i 0.1 -W 1 -s 100 -I "$INNER_A" "$INNER_B" >/dev/null ||
    die "no traffic after the rekey"
log "CHILD_SA and IKE_SA rekeyed, 5 more pings"
# Per-SA counters restarted with the new SA; the totals carry on: old
# SA's final counters plus the new SA's.
expect a ipsec "$IN.encryptedByteCount" "$((A_IN0 + $(child_sum a bytes-in INSTALLED)))" "bytes-in across the rekey"
expect a ipsec "$OUT.encryptedByteCount" "$((A_OUT0 + $(child_sum a bytes-out INSTALLED)))" "bytes-out across the rekey"
expect a ipsec "$IN.totalSuccessfulPackets" "$((A_PIN0 + $(child_sum a packets-in INSTALLED)))" "packets-in across the rekey"
for s in a b; do
    expect "$s" ipsec "$AGG.successfulRekeys" 2 "CHILD_SA rekeys (one per SA replaced)"
    expect "$s" ikeext "$V4.totalSuccessfulQuickModes" 2 "CHILD_SAs negotiated"
    expect "$s" ipsec "$AGG.totalSasAdded" 4 "SAs added"
    expect "$s" ipsec "$AGG.totalSasDeleted" 2 "SAs deleted"
    check_sas "$s" "after rekey:"
done
A_IN1=$(val a ipsec "$IN.encryptedByteCount")

# ---------------------------------------------------------------- 3. bad PSK
if sw a --initiate --ike bad --child badnet --timeout 10 >/dev/null 2>&1; then
    die "the wrong PSK negotiated"
fi
log "wrong-PSK negotiation failed as it should"
for s in a b; do
    expect "$s" ikeext "$V4.totalFailedMainModes" 1 "failed IKE_SAs"
    expect "$s" ikeext "$V4.totalMainModesStarted" 2 "IKE_SAs started"
    expect "$s" ikeext "$V4.totalSuccessfulMainModes" 1 "IKE_SAs established"
    # ERROR_IPSEC_IKE_AUTH_FAIL = 13801 = errorCodeBase + 1
    expect "$s" ikeext "$IKE.errorFrequencyTable[1]" 1 "ERROR_IPSEC_IKE_AUTH_FAIL"
    expect "$s" ikeext "$IKE.errorCodeBase" 13800 "error code base"
    check_sas "$s" "after failure:"
done
expect b ikeext "$V4.totalResponderMainModes" 2 "responder IKE_SAs"
check_listing "after failure"
A_IN2=$(val a ipsec "$IN.encryptedByteCount")
[ -n "$A_IN2" ] && [ "$A_IN2" -ge "$A_IN1" ] || { log "FAIL totals went backwards: $A_IN1 -> $A_IN2"; FAILED=1; }

# ---------------------------------------------------------------- 4. IKEv1
# An IKEv1 tunnel next to the IKEv2 one: its SAs land in ikeStatistics.
sw a --initiate --ike v1 --child v1net --timeout 10 >/dev/null || die "initiate IKEv1"
ip netns exec "$NS_A" ping -n -q -c 4 -i 0.1 -W 1 -I "$INNER_A1" "$INNER_B1" >/dev/null ||
    die "no traffic through the IKEv1 CHILD_SA"
log "IKEv1 main mode + quick mode up, 4 pings through"
V1=ikeext.statistics.ikeStatistics.v4Statistics
for s in a b; do
    expect "$s" ikeext "$V1.currentActiveMainModes" "$(ike_count "$s" ESTABLISHED --ike v1)" "IKEv1 SAs"
    expect "$s" ikeext "$V1.currentActiveQuickModes" "$(child_count "$s" INSTALLED --ike v1)" "IKEv1 quick modes"
    expect "$s" ikeext "$V1.totalSuccessfulMainModes" 1 "IKEv1 SAs established"
    expect "$s" ikeext "$V4.currentActiveMainModes" "$(ike_count "$s" ESTABLISHED --ike lab)" "IKEv2 SAs unchanged"
    expect "$s" ipsec "$AGG.activeSas" "$((2 * $(child_count "$s" INSTALLED)))" "IPsec SAs, both versions"
done
expect a ikeext "$V1.totalResponderMainModes" 0 "IKEv1 responder"
expect b ikeext "$V1.totalResponderMainModes" 1 "IKEv1 responder"
# The IPsec totals cover both tunnels.
A_IN3=$(val a ipsec "$IN.encryptedByteCount")
[ -n "$A_IN3" ] && [ "$A_IN3" -gt "$A_IN2" ] || { log "FAIL IKEv1 traffic not in the totals: $A_IN2 -> $A_IN3"; FAILED=1; }

# ---------------------------------------------------------------- 5. daemon gone
# The agent keeps answering; the provider reports the failure.
for p in $(ip netns pids "$NS_B"); do kill -TERM "$p"; done
CHECKS=$((CHECKS + 1))
DOWN=0
for i in $(seq 1 50); do
    "$SECSTAT" -s "ipc://$LAB/agent-b.sock" --timeout 3000 --json ikeext >"$LAB/b-down.json" 2>&1
    RC=$?
    if [ $RC != 0 ] && [ $RC != 1 ]; then
        break
    fi
    if awk '/"name": "vici"/ { f = 1 } f && /"health"/ { print; exit }' "$LAB/b-down.json" |
        grep -q -E 'HEALTH_(FAILING|ABSENT|STALE)'; then
        DOWN=1
        break
    fi
    sleep 0.2
done
if [ $DOWN = 1 ]; then
    log "ok   b: agent answers, vici provider reports the daemon gone"
else
    log "FAIL agent b after charon stopped: rc=$RC, vici health not failing/absent"
    FAILED=1
fi

log "$CHECKS checks, $([ $FAILED = 0 ] && echo all passed || echo SOME FAILED) in $(ts)"
exit $FAILED
