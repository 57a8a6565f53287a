#!/usr/bin/env bash
# A private CA for secstat, and the certificates agents and clients need
# for mutual TLS. Keys never leave the directory they are created in.
#
#   secstat-pki.sh ca     DIR                  create DIR/ca.{key,pem}
#   secstat-pki.sh agent  DIR NAME [SAN...]    DIR/NAME.{key,pem}: serverAuth;
#                                              SANs: DNS names or IP addresses
#                                              (default: NAME and 127.0.0.1)
#   secstat-pki.sh client DIR NAME             DIR/NAME.{key,pem}: clientAuth
#   secstat-pki.sh token  DIR NAME             DIR/NAME.token: a random secret
#                                              for the request credential; prints
#                                              the agent's ACL entry (its SHA-256)
#   secstat-pki.sh show   FILE.pem             print subject, SANs, validity
#
# Environment: DAYS (validity, default 825 for leaves, 3650 for the CA),
# NOT_BEFORE/NOT_AFTER (YYYYMMDDHHMMSSZ, for test certificates that are not
# yet or no longer valid).
#
# ECDSA P-256: supported by every mbedTLS 2.28 build nng uses, and small.
set -euo pipefail
umask 077

die() { echo "secstat-pki: $*" >&2; exit 1; }
need_ca() { [ -f "$1/ca.key" ] && [ -f "$1/ca.pem" ] || die "no CA in $1 (run: $0 ca $1)"; }

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# sign DIR NAME EXTFILE: a leaf for NAME signed by DIR's CA.
sign() {
	local dir=$1 name=$2 ext=$3
	new_key "$dir/$name.key"
	openssl req -new -key "$dir/$name.key" -subj "/CN=$name/O=secstat" \
		-out "$dir/$name.csr"
	if [ -n "${NOT_BEFORE:-}" ] || [ -n "${NOT_AFTER:-}" ]; then
		# openssl x509 cannot set arbitrary dates; openssl ca can.
		sign_with_ca_cmd "$dir" "$name" "$ext"
	else
		openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" \
			-CAkey "$dir/ca.key" -CAcreateserial -days "${DAYS:-825}" \
			-sha256 -extfile "$ext" -out "$dir/$name.pem" 2>/dev/null
	fi
	rm -f "$dir/$name.csr" "$ext"
	chmod 644 "$dir/$name.pem"
}

sign_with_ca_cmd() {
	local dir=$1 name=$2 ext=$3 db
	db=$(mktemp -d)
	touch "$db/index.txt"
	printf '%s\n' "$(openssl rand -hex 8)" >"$db/serial"
	cat >"$db/ca.cnf" <<CNF
[ca]
default_ca = c
[c]
database = $db/index.txt
serial = $db/serial
new_certs_dir = $db
default_md = sha256
policy = p
copy_extensions = none
[p]
commonName = supplied
organizationName = optional
CNF
	openssl ca -batch -config "$db/ca.cnf" -cert "$dir/ca.pem" \
		-keyfile "$dir/ca.key" -in "$dir/$name.csr" -out "$dir/$name.pem" \
		-startdate "${NOT_BEFORE:-$(date -u +%Y%m%d%H%M%SZ)}" \
		-enddate "${NOT_AFTER:-$(date -u -d '+825 days' +%Y%m%d%H%M%SZ)}" \
		-extfile "$ext" -notext 2>/dev/null
	rm -rf "$db"
}

cmd=${1:-}
case "$cmd" in
ca)
	dir=${2:?usage: $0 ca DIR}
	mkdir -p "$dir"
	[ -e "$dir/ca.key" ] && die "$dir/ca.key exists; refusing to overwrite a CA"
	new_key "$dir/ca.key"
	openssl req -x509 -new -key "$dir/ca.key" -sha256 -days "${DAYS:-3650}" \
		-subj "/CN=secstat CA/O=secstat" \
		-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$dir/ca.pem"
	chmod 644 "$dir/ca.pem"
	;;
agent)
	dir=${2:?usage: $0 agent DIR NAME [SAN...]}
	name=${3:?usage: $0 agent DIR NAME [SAN...]}
	need_ca "$dir"
	shift 3
	sans=("$@")
	[ ${#sans[@]} -gt 0 ] || sans=("$name" 127.0.0.1)
	alt=()
	for s in "${sans[@]}"; do
		# An address goes in as IP and as DNS: mbedTLS 2.28 (nng's TLS on
		# Debian 12) matches the server name against DNS entries only.
		if [[ $s =~ ^[0-9.]+$ || $s == *:* ]]; then alt+=("IP:$s" "DNS:$s"); else alt+=("DNS:$s"); fi
	done
	ext=$(mktemp)
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
		"$(IFS=,; echo "${alt[*]}")" >"$ext"
	sign "$dir" "$name" "$ext"
	;;
client)
	dir=${2:?usage: $0 client DIR NAME}
	name=${3:?usage: $0 client DIR NAME}
	need_ca "$dir"
	ext=$(mktemp)
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$ext"
	sign "$dir" "$name" "$ext"
	;;
token)
	dir=${2:?usage: $0 token DIR NAME}
	name=${3:?usage: $0 token DIR NAME}
	[[ $name =~ ^[A-Za-z0-9._@-]{1,64}$ ]] || die "'$name' is not a client id (A-Z a-z 0-9 . _ @ -)"
	mkdir -p "$dir"
	[ -e "$dir/$name.token" ] && die "$dir/$name.token exists; refusing to overwrite"
	openssl rand -hex 32 >"$dir/$name.token"
	hash=$(tr -d '\n' <"$dir/$name.token" | sha256sum | cut -d' ' -f1)
	printf '[client %s]\ntoken-sha256 = %s\nrights = ipsec ike iscsi info\n' "$name" "$hash"
	;;
show)
	openssl x509 -in "${2:?usage: $0 show FILE.pem}" -noout -subject -issuer \
		-dates -ext subjectAltName,extendedKeyUsage
	;;
*)
	sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
	exit 64
	;;
esac
