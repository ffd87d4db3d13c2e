#!/usr/bin/env bash
# The audit log fails closed and recovers: with the server's file size
# limit (RLIMIT_FSIZE, as a full disk would) lowered to just past its audit
# file, a search fails UNAVAILABLE and returns no candidates,
# candor_audit_write_failures_total counts it, and once the limit is raised
# again searches succeed and the whole chain still verifies.
#
#   audit_fail_closed_test.sh CANDOR_SERVER CANDOR_CLI
set -euo pipefail
server_bin=$1
cli=$2

# shellcheck source=tests/lib/candor_server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/candor_server.sh"
candor_scratch_dir
work=$CANDOR_WORK
start_candor_server "$server_bin" "$work" --metrics_listen=127.0.0.1:0
addr=$CANDOR_ADDR
metrics_port=$(sed -n 's/.*bound to tcp \([0-9]*\).*/\1/p' "$work/server.log" | head -n1)

fail() {
  echo "FAIL: $*"
  echo "--- server log"; cat "$work/server.log"
  exit 1
}
failures() {
  curl -sf "http://127.0.0.1:${metrics_port}/metrics" |
    sed -n 's/^candor_audit_write_failures_total \([0-9.e+]*\)$/\1/p'
}

"$cli" synth --out "$work/set" --subjects 40 --per-subject 1 --dim 16 \
  --mated-probes 4 --nonmated-subjects 1 --seed 3 >/dev/null
"$cli" --server "$addr" gallery create g --dim 16 >/dev/null
"$cli" --server "$addr" enroll g --vectors "$work/set/gallery.npy" \
  --meta "$work/set/gallery.csv" >/dev/null
search() {
  "$cli" --server "$addr" search g --probes "$work/set/mated.npy" \
    --threshold 0.5 --top-k 1 --no-report
}
search >"$work/ok1.out" || fail "search before the limit"
[[ $(failures) == 0 ]] || fail "write failures before the limit: $(failures)"

newest=$(find "$work/data/audit" -name 'audit-*.jsonl' | sort | tail -n1)
size=$(stat -c %s "$newest")
# Room for less than one more search record.
prlimit --pid "$CANDOR_PID" --fsize=$((size + 64)):unlimited
if search >"$work/refused.out" 2>"$work/refused.err"; then
  fail "a search answered although its audit record could not be written"
fi
grep -q "UNAVAILABLE\|unavailable" "$work/refused.err" ||
  fail "expected UNAVAILABLE, got: $(cat "$work/refused.err")"
grep -q "audit" "$work/refused.err" || fail "the error does not name the audit log"
[[ ! -s "$work/refused.out" ]] || fail "candidates were returned: $(cat "$work/refused.out")"
[[ $(failures) != 0 ]] || fail "candor_audit_write_failures_total did not count"
# No partial record was left behind.
[[ $(tail -c1 "$newest" | od -An -c | tr -d ' ') == '\n' ]] ||
  fail "the audit file ends in a partial record"

prlimit --pid "$CANDOR_PID" --fsize=unlimited:unlimited
search >"$work/ok2.out" || fail "search after the limit was raised"
[[ -s "$work/ok2.out" ]] || fail "no candidates after recovery"

stop_candor_server
"$cli" audit verify "$work/data/audit" --key "$work/data/audit.key" \
  --checkpoint "$work/data/audit-checkpoint.json" >"$work/verify.out" ||
  fail "the chain does not verify after recovery: $(cat "$work/verify.out")"
echo "audit fail-closed: refused while the disk was full, recovered, $(cat "$work/verify.out")"
