#!/usr/bin/env bash
# Runs the C++ example (clients/examples/cpp/search.cc) against a real
# candor-server on loopback: it must find alice first and print the report.
#
#   example_search_test.sh CANDOR_SERVER EXAMPLE_BINARY
set -euo pipefail
server_bin=$1
example_bin=$2
# shellcheck source=tests/lib/candor_server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/candor_server.sh"
candor_scratch_dir
work=$CANDOR_WORK
start_candor_server "$server_bin" "$work" --metrics_listen=
out=$("$example_bin" "$CANDOR_ADDR")
echo "$out"
first=$(grep -m1 " score " <<<"$out")
[[ "$first" == alice* ]] || { echo "FAIL: first candidate is not alice: $first"; exit 1; }
grep -q "threshold report:" <<<"$out" || { echo "FAIL: no threshold report"; exit 1; }
echo PASS
