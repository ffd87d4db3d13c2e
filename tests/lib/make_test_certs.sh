#!/usr/bin/env bash
# Makes the certificates the TLS tests use, with the openssl CLI only.
#
#   tests/lib/make_test_certs.sh OUTDIR
#
# Writes into OUTDIR (created if missing; files there are overwritten):
#   ca.pem, ca-key.pem              the test CA ("candor test CA")
#   other-ca.pem, other-ca-key.pem  an unrelated CA
#   server.pem, server2.pem (+ -key.pem)  server certificates signed by ca,
#       SAN DNS:localhost, IP:127.0.0.1, URI:spiffe://candor.test/ns/candor/sa/server;
#       server2 is a second key pair for the rotation test
#   NAME.pem, NAME-key.pem for NAME in searcher enroller auditor admin router:
#       client certificates signed by ca, SAN URI
#       spiffe://candor.test/ns/candor/sa/NAME; the router's is also a
#       server certificate (serverAuth, DNS:localhost, IP:127.0.0.1) since
#       the router serves clients and calls shards with the same key pair
#   dns-only.pem   client, SAN DNS:batch.candor.test only
#   cn-only.pem    client, no SAN, subject CN=cn-only-client
#   expired.pem    the searcher's URI, signed by ca, valid 2020-01-01..2020-01-02
#   foreign.pem    the searcher's URI, signed by other-ca
# Keys are EC P-256 (fast to make), mode 0600. Prints nothing on success;
# on failure prints openssl's messages and exits non-zero.

set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
out=$1
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log="$tmp/openssl.log"

# Runs openssl quietly; its output is shown only when it fails.
ossl() {
  if ! openssl "$@" >>"$log" 2>&1; then
    echo "make_test_certs: openssl $1 failed:" >&2
    cat "$log" >&2
    exit 1
  fi
}

readonly spiffe="spiffe://candor.test/ns/candor/sa"
readonly days=3650

# A config of our own, so that the system's openssl.cnf adds nothing.
cat >"$tmp/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ca]
default_ca = test_ca
[test_ca]
database = $tmp/index.txt
new_certs_dir = $tmp
serial = $tmp/serial
default_md = sha256
policy = any_cn
unique_subject = no
copy_extensions = none
[any_cn]
commonName = supplied
EOF
: >"$tmp/index.txt"
echo 1000 >"$tmp/serial"

new_key() {  # new_key FILE
  (umask 077 && rm -f "$1" &&
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
      -out "$1" >>"$log" 2>&1) || {
    echo "make_test_certs: key $1 failed:" >&2
    cat "$log" >&2
    exit 1
  }
}

make_ca() {  # make_ca NAME CN
  new_key "$out/$1-key.pem"
  ossl req -config "$tmp/openssl.cnf" -new -x509 -sha256 -days "$days" \
    -key "$out/$1-key.pem" -subj "/CN=$2" -extensions ca_ext \
    -out "$out/$1.pem"
}

# leaf_ext USAGE SAN: the extension section for a leaf certificate; SAN may
# be empty (no subjectAltName at all).
leaf_ext() {
  {
    echo "[leaf]"
    echo "basicConstraints = critical,CA:FALSE"
    echo "keyUsage = critical,digitalSignature"
    echo "extendedKeyUsage = $1"
    echo "subjectKeyIdentifier = hash"
    echo "authorityKeyIdentifier = keyid"
    [[ -n "$2" ]] && echo "subjectAltName = $2"
    true
  } >"$tmp/leaf.ext"
}

serial=100
# make_leaf NAME CA CN USAGE SAN: NAME.pem/NAME-key.pem signed by CA.
make_leaf() {
  local name=$1 ca=$2 cn=$3
  leaf_ext "$4" "$5"
  new_key "$out/$name-key.pem"
  ossl req -config "$tmp/openssl.cnf" -new -key "$out/$name-key.pem" \
    -subj "/CN=$cn" -out "$tmp/$name.csr"
  serial=$((serial + 1))
  ossl x509 -req -sha256 -days "$days" -in "$tmp/$name.csr" \
    -CA "$out/$ca.pem" -CAkey "$out/$ca-key.pem" -set_serial "$serial" \
    -extfile "$tmp/leaf.ext" -extensions leaf -out "$out/$name.pem"
}

make_ca ca "candor test CA"
make_ca other-ca "candor unrelated CA"

server_san="DNS:localhost,IP:127.0.0.1,URI:$spiffe/server"
make_leaf server ca localhost serverAuth "$server_san"
make_leaf server2 ca localhost serverAuth "$server_san"

for name in searcher enroller auditor admin; do
  make_leaf "$name" ca "$name" clientAuth "URI:$spiffe/$name"
done
# The router presents one key pair both ways: as a server to its clients and
# as a client to the shards.
make_leaf router ca router serverAuth,clientAuth \
  "DNS:localhost,IP:127.0.0.1,URI:$spiffe/router"
make_leaf dns-only ca dns-only-client clientAuth "DNS:batch.candor.test"
make_leaf cn-only ca cn-only-client clientAuth ""
make_leaf foreign other-ca searcher clientAuth "URI:$spiffe/searcher"

# OpenSSL 3.0's x509 cannot set a start date in the past; `openssl ca` can.
leaf_ext clientAuth "URI:$spiffe/searcher"
new_key "$out/expired-key.pem"
ossl req -config "$tmp/openssl.cnf" -new -key "$out/expired-key.pem" \
  -subj "/CN=searcher" -out "$tmp/expired.csr"
ossl ca -config "$tmp/openssl.cnf" -batch -notext \
  -cert "$out/ca.pem" -keyfile "$out/ca-key.pem" \
  -startdate 20200101000000Z -enddate 20200102000000Z \
  -extfile "$tmp/leaf.ext" -extensions leaf \
  -in "$tmp/expired.csr" -out "$out/expired.pem"
