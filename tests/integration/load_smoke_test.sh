#!/usr/bin/env bash
# Smoke runs of the load benchmarks against a real server (seconds; they
# assert correct answers and zero errors, never speed):
#   - candor-bench, closed loop then open loop, with --check_responses
#     --expect_self_match: the probes are the enrolled rows, so every answer
#     must be well formed and find each probe itself;
#   - faiss-baseline, the in-process reference of bench/run.sh, on the same
#     files: alone, then in its paired mode against the server (the mode
#     bench/run.sh reports row 1 from), which fails on any failed call;
#   - candor-bench --precision=bf16 on a server with --backend=cpu (bf16 is
#     a CPU flat feature): a bf16 gallery it creates and enrolls itself, and
#     one of the same rows as above that finds every probe itself; asking
#     for bf16 of the fp32 gallery fails before any call.
#
#   load_smoke_test.sh CANDOR_SERVER CANDOR_CLI CANDOR_BENCH FAISS_BASELINE
set -euo pipefail
server_bin=$1
cli_bin=$2
bench_bin=$3
baseline_bin=$4

# shellcheck source=tests/lib/candor_server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/candor_server.sh"
candor_scratch_dir
work=$CANDOR_WORK
start_candor_server "$server_bin" "$work" --metrics_listen=
addr=$CANDOR_ADDR

"$cli_bin" synth --out "$work/set" --subjects 500 --per-subject 1 --dim 32 \
  --mated-probes 64 --nonmated-subjects 1 --seed 5 >/dev/null
"$cli_bin" --server "$addr" gallery create g --dim 32 >/dev/null
"$cli_bin" --server "$addr" enroll g --vectors "$work/set/gallery.npy" \
  --meta "$work/set/gallery.csv" >/dev/null

# expect_ok FILE WHAT [PRECISION]: the run sent calls, all answered OK and
# all correct, on a gallery of PRECISION (default fp32).
expect_ok() {
  python3 - "$1" "$2" "${3:-fp32}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
what = sys.argv[2]
problems = []
if r.get("precision") != sys.argv[3]:
    problems.append(f"precision {r.get('precision')}, expected {sys.argv[3]}")
if r["ok"] < 1: problems.append("no successful calls")
if r["errors"]: problems.append(f"errors {r['errors']}")
if r["invalid_responses"]: problems.append(
    f"{r['invalid_responses']} wrong answers, first: {r.get('first_invalid')}")
if r["ok"] != r["sent"] - sum(r["errors"].values()): problems.append("calls unaccounted for")
if problems:
    print(f"FAIL {what}: " + "; ".join(problems)); sys.exit(1)
print(f"ok {what}: {r['ok']} calls, {r['probes_per_s']:.0f} probes/s")
PY
}

common=(--address="$addr" --gallery=g --batch=8 --top_k=5 --threshold=0.2
        --probes_npy="$work/set/gallery.npy" --check_responses
        --expect_self_match --json --timeout=30s)
"$bench_bin" "${common[@]}" --mode=closed --concurrency=4 --duration=2s \
  >"$work/closed.json" 2>"$work/closed.err"
expect_ok "$work/closed.json" "closed loop"
"$bench_bin" "${common[@]}" --mode=open --rate=40 --requests=60 --duration=10s \
  >"$work/open.json" 2>"$work/open.err"
expect_ok "$work/open.json" "open loop"

"$baseline_bin" --gallery_npy="$work/set/gallery.npy" \
  --probes_npy="$work/set/mated.npy" --batch=32 --top_k=5 --duration=1s \
  >"$work/baseline.json"
python3 - "$work/baseline.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
if not (r["calls"] >= 1 and r["probes"] == 32 * r["calls"] and r["probes_per_s"] > 0):
    print(f"FAIL faiss-baseline: {r}"); sys.exit(1)
print(f"ok faiss-baseline: {r['calls']} calls")
PY

"$baseline_bin" --gallery_npy="$work/set/gallery.npy" \
  --probes_npy="$work/set/gallery.npy" --batch=32 --top_k=5 \
  --server="$addr" --gallery=g --callers=1,3 --rounds=2 --window=0.2s \
  --pause=0.05s >"$work/paired.json"
python3 - "$work/paired.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
problems = []
if r["mode"] != "paired" or r["rounds"] != 2 or r["gallery_rows"] != 500:
    problems.append("wrong header")
if len(r["faiss_probes_per_s"]) != 2 or min(r["faiss_probes_per_s"]) <= 0:
    problems.append("in-process windows missing")
if sorted(r["grpc"]) != ["1", "3"]:
    problems.append(f"callers {sorted(r['grpc'])}")
for callers, g in r["grpc"].items():
    if len(g["ratios"]) != 2 or min(g["probes_per_s"]) <= 0:
        problems.append(f"{callers} callers: windows missing")
    elif not min(g["ratios"]) <= g["median_ratio"] <= max(g["ratios"]):
        problems.append(f"{callers} callers: median outside the ratios")
if problems:
    print(f"FAIL faiss-baseline paired: {r}: " + "; ".join(problems)); sys.exit(1)
print(f"ok faiss-baseline paired: ratios {[g['median_ratio'] for g in r['grpc'].values()]}")
PY

# ---------------------------------------------------------------- bf16
stop_candor_server
mkdir "$work/bf16"
start_candor_server "$server_bin" "$work/bf16" --metrics_listen= --backend=cpu
addr=$CANDOR_ADDR
"$cli_bin" --server "$addr" gallery create g --dim 32 >/dev/null
"$cli_bin" --server "$addr" gallery create mated --dim 32 --precision bf16 >/dev/null
"$cli_bin" --server "$addr" enroll mated --vectors "$work/set/gallery.npy" \
  --meta "$work/set/gallery.csv" >/dev/null

common=(--address="$addr" --batch=8 --top_k=5 --threshold=0.2 --check_responses
        --json --timeout=30s --mode=closed --concurrency=2 --requests=24)
"$bench_bin" "${common[@]}" --gallery=made --precision=bf16 --enroll=700 --dim=32 \
  >"$work/bf16-made.json" 2>"$work/bf16-made.err"
expect_ok "$work/bf16-made.json" "bf16 gallery created by candor-bench" bf16
"$bench_bin" "${common[@]}" --gallery=mated --precision=bf16 \
  --probes_npy="$work/set/gallery.npy" --expect_self_match \
  >"$work/bf16-mated.json" 2>"$work/bf16-mated.err"
expect_ok "$work/bf16-mated.json" "bf16 gallery, enrolled rows as probes" bf16

if "$bench_bin" "${common[@]}" --gallery=g --precision=bf16 \
    >"$work/bf16-wrong.json" 2>"$work/bf16-wrong.err"; then
  echo "FAIL: --precision=bf16 ran on the fp32 gallery"; exit 1
fi
grep -q "holds fp32 vectors, not the bf16" "$work/bf16-wrong.err" ||
  { echo "FAIL: --precision=bf16 on fp32: $(cat "$work/bf16-wrong.err")"; exit 1; }
[[ ! -s "$work/bf16-wrong.json" ]] || { echo "FAIL: a report of the refused run"; exit 1; }
echo "ok --precision=bf16 refused on the fp32 gallery"
