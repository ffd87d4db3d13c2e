#!/usr/bin/env bash
# Certificate rotation without a restart: the server's key pair lives in a
# folder reached through a symlink (as a Kubernetes Secret volume swaps
# its ..data link); swapping the link to a new key pair makes new
# connections see the new certificate within --tls_refresh_s, and TLS
# clients keep working.
#
#   cert_rotation_test.sh CANDOR_SERVER CANDOR_CLI
set -euo pipefail
server_bin=$1
cli=$2

# shellcheck source=tests/lib/candor_server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/candor_server.sh"
candor_scratch_dir
work=$CANDOR_WORK
certs=$work/certs
bash "$(dirname "${BASH_SOURCE[0]}")/../lib/make_test_certs.sh" "$certs"
mkdir -p "$work/pair-a" "$work/pair-b"
cp "$certs/server.pem" "$work/pair-a/tls.crt"
cp "$certs/server-key.pem" "$work/pair-a/tls.key"
cp "$certs/server2.pem" "$work/pair-b/tls.crt"
cp "$certs/server2-key.pem" "$work/pair-b/tls.key"
ln -s "$work/pair-a" "$work/live"

start_candor_server "$server_bin" "$work" --metrics_listen= \
  --tls_cert="$work/live/tls.crt" --tls_key="$work/live/tls.key" \
  --tls_client_ca="$certs/ca.pem" --tls_refresh_s=1
port=${CANDOR_ADDR##*:}

fail() {
  echo "FAIL: $*"
  echo "--- server log"; cat "$work/server.log"
  exit 1
}
served_serial() {
  openssl s_client -connect "127.0.0.1:$port" -servername localhost -alpn h2 \
    </dev/null 2>/dev/null | openssl x509 -noout -serial
}
want_a=$(openssl x509 -noout -serial -in "$certs/server.pem")
want_b=$(openssl x509 -noout -serial -in "$certs/server2.pem")
[[ "$want_a" != "$want_b" ]] || fail "the two test certificates share a serial"
admin=(--server "localhost:$port" --tls-ca "$certs/ca.pem"
       --tls-cert "$certs/admin.pem" --tls-key "$certs/admin-key.pem")

[[ $(served_serial) == "$want_a" ]] || fail "served $(served_serial), want $want_a"
"$cli" "${admin[@]}" gallery create before --dim 8 >/dev/null ||
  fail "TLS call before the rotation"

# The swap, atomically, as the kubelet does it.
ln -s "$work/pair-b" "$work/live.new"
mv -T "$work/live.new" "$work/live"
for _ in $(seq 50); do
  [[ $(served_serial) == "$want_b" ]] && break
  sleep 0.2
done
[[ $(served_serial) == "$want_b" ]] ||
  fail "still serving $(served_serial) 10 s after the rotation, want $want_b"
kill -0 "$CANDOR_PID" || fail "the server exited"
"$cli" "${admin[@]}" gallery create after --dim 8 >/dev/null ||
  fail "TLS call after the rotation"
echo "certificate rotation: $want_a -> $want_b without a restart"
