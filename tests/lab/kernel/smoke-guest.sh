#!/bin/bash
# kernel_lab_smoke: the harness itself works. Boots, loads esp4, installs
# one ESP SA pair (transport mode) between two namespaces, pings through
# it and checks that the SAs' lifetime counters moved. If this fails,
# every other kernel lab test fails for the same reason: look here first.
. "$LAB_LIB"

echo "guest kernel $(uname -r), script started at uptime $(cut -d' ' -f1 /proc/uptime)s"
lab_modprobe esp4 xfrm_user veth

lab_netns_pair a 198.51.100.1 b 198.51.100.2

# The keys are test constants: the SAs exist only inside this VM.
ek=0x$(printf '11%.0s' $(seq 16))
ak=0x$(printf '22%.0s' $(seq 32))
for ns in a b; do
	ip -n $ns xfrm state add src 198.51.100.1 dst 198.51.100.2 proto esp \
		spi 0x1001 reqid 1 mode transport replay-window 32 \
		enc 'cbc(aes)' $ek auth-trunc 'hmac(sha256)' $ak 128 ||
		lab_die "xfrm state add in $ns"
	ip -n $ns xfrm state add src 198.51.100.2 dst 198.51.100.1 proto esp \
		spi 0x2002 reqid 2 mode transport replay-window 32 \
		enc 'cbc(aes)' $ek auth-trunc 'hmac(sha256)' $ak 128 ||
		lab_die "xfrm state add in $ns"
done
ip -n a xfrm policy add src 198.51.100.1 dst 198.51.100.2 dir out \
	tmpl proto esp reqid 1 mode transport
ip -n a xfrm policy add src 198.51.100.2 dst 198.51.100.1 dir in \
	tmpl proto esp reqid 2 mode transport
ip -n b xfrm policy add src 198.51.100.2 dst 198.51.100.1 dir out \
	tmpl proto esp reqid 2 mode transport
ip -n b xfrm policy add src 198.51.100.1 dst 198.51.100.2 dir in \
	tmpl proto esp reqid 1 mode transport

assert_cmd "ping a -> b over ESP" \
	in_ns a ping -c 5 -i 0.2 -W 1 -q 198.51.100.2

ip -n b -s xfrm state
# 5 echo requests a -> b (64 bytes of ICMP each: transport-mode SAs count
# the payload after the IP header): b's inbound SA 0x1001 saw them, and b's
# outbound SA 0x2002 carried the 5 replies.
assert_ge "packets on b's inbound SA 0x1001" 5 \
	"$(xfrm_sa_current b 198.51.100.1 198.51.100.2 0x1001 packets)"
assert_ge "packets on b's outbound SA 0x2002" 5 \
	"$(xfrm_sa_current b 198.51.100.2 198.51.100.1 0x2002 packets)"
assert_ge "bytes on a's outbound SA 0x1001" 320 \
	"$(xfrm_sa_current a 198.51.100.1 198.51.100.2 0x1001 bytes)"
assert_eq "XfrmInNoStates in b" 0 \
	"$(in_ns b awk '/XfrmInNoStates/ { print $2 }' /proc/net/xfrm_stat)"
lab_finish
