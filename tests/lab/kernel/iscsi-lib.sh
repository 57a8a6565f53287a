# iscsi-lib.sh: a LIO iSCSI target and the open-iscsi initiator inside the
# lab guest. Source after guest-lib.sh.
#
# The target lives in netns "tgt" (192.0.2.1:3260), the initiator in the
# root namespace (192.0.2.2): the kernel's iSCSI netlink family, which
# iscsid needs, exists in the initial namespace only. The LUN is a 64 MiB
# file on tmpfs, no authentication, demo-mode ACLs.

ISCSI_IQN=iqn.2003-01.org.linux-iscsi.seclab:t0
ISCSI_TGT_ADDR=192.0.2.1
ISCSI_INI_ADDR=192.0.2.2
ISCSI_INITIATOR=iqn.2005-03.org.open-iscsi:seclab
ISCSI_DEV=

iscsi_target_start()
{
	local c=/sys/kernel/config/target
	local tpg=$c/iscsi/$ISCSI_IQN/tpgt_1

	lab_modprobe target_core_mod target_core_file iscsi_target_mod \
		iscsi_tcp sd_mod veth
	lab_netns_pair - "$ISCSI_INI_ADDR" tgt "$ISCSI_TGT_ADDR"
	mountpoint -q /sys/kernel/config ||
		mount -t configfs configfs /sys/kernel/config
	truncate -s 64M /run/lun0.img
	mkdir -p $c/core/fileio_0/lun0
	echo "fd_dev_name=/run/lun0.img,fd_dev_size=67108864" \
		>$c/core/fileio_0/lun0/control
	echo 1 >$c/core/fileio_0/lun0/enable
	mkdir -p $tpg/lun/lun_0
	ln -s $c/core/fileio_0/lun0 $tpg/lun/lun_0/lun0
	echo 0 >$tpg/attrib/authentication
	echo 1 >$tpg/attrib/generate_node_acls
	echo 1 >$tpg/attrib/cache_dynamic_acls
	echo 0 >$tpg/attrib/demo_mode_write_protect
	# LIO pings idle initiators with NOP-In every 15 s; the answers move
	# the octet counters (not the PDU counters) and would make two
	# readings of an idle session differ. The interval is a node-ACL
	# attribute (demo-mode ACLs get the default), so the initiator gets
	# an explicit ACL with the LUN mapped and the pings off (0). Callers
	# still compare only at moments the counters stand still.
	mkdir -p "$tpg/acls/$ISCSI_INITIATOR/lun_0"
	ln -s "$tpg/lun/lun_0" "$tpg/acls/$ISCSI_INITIATOR/lun_0/lun0"
	echo 0 >"$tpg/acls/$ISCSI_INITIATOR/attrib/nopin_timeout" ||
		echo "note: NOP-In pings stay on"
	# The portal's socket is created in the netns of the mkdir's caller.
	in_ns tgt mkdir "$tpg/np/$ISCSI_TGT_ADDR:3260" ||
		lab_die "LIO portal $ISCSI_TGT_ADDR:3260"
	echo 1 >$tpg/enable
}

# Starts iscsid with a private configuration; NOP-Outs are switched off
# (like the target's NOP-Ins) so that an idle session's counters stay
# still between two readers.
iscsi_initiator_start()
{
	mkdir -p /etc/iscsi /var/lib/iscsi /run/lock/iscsi
	echo "InitiatorName=$ISCSI_INITIATOR" >/etc/iscsi/initiatorname.iscsi
	iscsid || lab_die "iscsid did not start"
	sleep 0.5
	iscsiadm -m discovery -t sendtargets -p "$ISCSI_TGT_ADDR:3260" ||
		lab_die "sendtargets discovery"
	iscsiadm -m node -T "$ISCSI_IQN" -p "$ISCSI_TGT_ADDR:3260" \
		-o update -n node.conn[0].timeo.noop_out_interval -v 0
	iscsiadm -m node -T "$ISCSI_IQN" -p "$ISCSI_TGT_ADDR:3260" \
		-o update -n node.conn[0].timeo.noop_out_timeout -v 0
}

# Logs in and waits (up to 5 s) for the LUN's block device: ISCSI_DEV.
iscsi_login()
{
	local i d

	iscsiadm -m node -T "$ISCSI_IQN" -p "$ISCSI_TGT_ADDR:3260" --login ||
		lab_die "iSCSI login"
	ISCSI_DEV=
	for i in $(seq 50); do
		d=$(ls -d /sys/class/iscsi_session/session*/device/target*/*/block/* \
			2>/dev/null | head -n 1)
		[ -n "$d" ] && ISCSI_DEV=/dev/${d##*/} && return 0
		sleep 0.1
	done
	lab_die "no block device after login"
}

iscsi_logout()
{
	iscsiadm -m node -T "$ISCSI_IQN" -p "$ISCSI_TGT_ADDR:3260" --logout
}

# iscsi_io MIB: writes MIB MiB of random data and reads it back (O_DIRECT,
# so every byte crosses the wire), dies when the data differs.
iscsi_io()
{
	dd if=/dev/urandom of=/run/pat bs=1M count="$1" status=none
	dd if=/run/pat of="$ISCSI_DEV" bs=1M oflag=direct status=none ||
		lab_die "write to $ISCSI_DEV"
	dd if="$ISCSI_DEV" of=/run/back bs=1M count="$1" iflag=direct \
		status=none || lab_die "read from $ISCSI_DEV"
	cmp -s /run/pat /run/back || lab_die "data read back differs"
}

# The sid of the first session iscsiadm lists.
iscsi_sid()
{
	iscsiadm -m session | sed -n 's/^[a-z]*: \[\([0-9]*\)\].*/\1/p' |
		head -n 1
}

# iscsi_stat SID NAME: one counter of `iscsiadm -m session -r SID -s`.
iscsi_stat()
{
	iscsiadm -m session -r "$1" -s | awk -v n="$2:" '$1 == n { print $2 }'
}
