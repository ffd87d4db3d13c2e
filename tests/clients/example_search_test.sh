#!/usr/bin/env bash
# Runs the C++ example (clients/examples/cpp/search.cc) against a real
# candor-server on loopback: it must find alice first and print the report.
#
#   example_search_test.sh CANDOR_SERVER EXAMPLE_BINARY
set -euo pipefail
server_bin=$1
example_bin=$2
work=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
"$server_bin" --listen=127.0.0.1:0 --data_dir="$work/data" --metrics_listen= \
  2>"$work/server.log" &
server_pid=$!
port=""
for _ in $(seq 300); do
  port=$(sed -n 's/.*serving candor.*(port \([0-9]*\)).*/\1/p' "$work/server.log" | head -n1)
  [[ -n "$port" ]] && break
  sleep 0.1
done
[[ -n "$port" ]] || { echo "FAIL: server did not start"; cat "$work/server.log"; exit 1; }
out=$("$example_bin" "127.0.0.1:${port}")
echo "$out"
first=$(grep -m1 " score " <<<"$out")
[[ "$first" == alice* ]] || { echo "FAIL: first candidate is not alice: $first"; exit 1; }
grep -q "threshold report:" <<<"$out" || { echo "FAIL: no threshold report"; exit 1; }
echo PASS
