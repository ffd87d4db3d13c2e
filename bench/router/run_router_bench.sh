#!/usr/bin/env bash
# Search throughput through a router over 1, 2 and 3 shards against one
# single server holding the same gallery, measured with candor-bench.
# Prints a markdown table of the ratio router / single per shard count.
#
#   bench/router/run_router_bench.sh [BUILD_DIR]
#
# Environment (defaults in brackets): ENTRIES [60000] DIM [128] BATCH [16]
# CONCURRENCY [8] DURATION [10s] TOP_K [10] THRESHOLD [0.5] SHARD_COUNTS
# ["1 2 3"]. Everything listens on 127.0.0.1; every process started here is
# stopped on exit. All processes share this machine's cores: on a small
# machine the shards, the router and the load generator compete, which the
# ratio includes (run it where each shard has its own cores to measure
# scale-out).
set -euo pipefail

BUILD_DIR=${1:-build-router}
SERVER="$BUILD_DIR/server/candor-server"
BENCH="$BUILD_DIR/bench/load/candor-bench"
ENTRIES=${ENTRIES:-60000}
DIM=${DIM:-128}
BATCH=${BATCH:-16}
CONCURRENCY=${CONCURRENCY:-8}
DURATION=${DURATION:-10s}
TOP_K=${TOP_K:-10}
THRESHOLD=${THRESHOLD:-0.5}
SHARD_COUNTS=${SHARD_COUNTS:-"1 2 3"}
GALLERY=bench

for binary in "$SERVER" "$BENCH"; do
  if [[ ! -x "$binary" ]]; then
    echo "missing $binary: build the candor-server and candor-bench targets" >&2
    exit 2
  fi
done

WORK=$(mktemp -d -t candor-router-bench-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# start NAME FLAGS...: starts candor-server on a free loopback port and
# waits until it serves (it writes the port to --port_file); sets
# STARTED_PORT and STARTED_PID. Not called in $(...): the pid must stay in this shell.
start() {
  local name=$1
  shift
  local log="$WORK/$name.log" port_file="$WORK/$name.port"
  rm -f "$port_file"
  "$SERVER" --listen=127.0.0.1:0 --data_dir="$WORK/$name" --metrics_listen= \
    --gemm_threads=1 --port_file="$port_file" "$@" 2>"$log" &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  for _ in $(seq 1 300); do
    if [[ -s "$port_file" ]]; then
      STARTED_PORT=$(<"$port_file")
      return
    fi
    sleep 0.1
  done
  echo "$name did not start:" >&2
  cat "$log" >&2
  exit 1
}

# stop PID...: SIGTERM and wait.
stop() {
  for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}

enroll() {
  "$BENCH" --address="127.0.0.1:$1" --gallery=$GALLERY --dim="$DIM" \
    --enroll="$ENTRIES" --requests=1 --concurrency=1 --seed=1 >/dev/null
}

# measure PORT: prints "requests_per_s p99_ms".
measure() {
  "$BENCH" --address="127.0.0.1:$1" --gallery=$GALLERY --dim="$DIM" \
    --batch="$BATCH" --concurrency="$CONCURRENCY" --duration="$DURATION" \
    --top_k="$TOP_K" --threshold="$THRESHOLD" --omit_report --json |
    python3 -c 'import json,sys; r=json.load(sys.stdin);
assert r["ok"] > 0 and not r["errors"], r["errors"];
print("%.1f %.2f" % (r["requests_per_s"], r["latency_us"]["p99"] / 1000))'
}

start single
single_port=$STARTED_PORT
enroll "$single_port"

rows=()
for shards in $SHARD_COUNTS; do
  shard_pids=()
  addresses=()
  for i in $(seq 0 $((shards - 1))); do
    start "s$shards-shard-$i"
    shard_pids+=("$STARTED_PID")
    addresses+=("127.0.0.1:$STARTED_PORT")
  done
  start "s$shards-router" --role=router \
    --shards="$(IFS=,; echo "${addresses[*]}")"
  router_port=$STARTED_PORT
  router_pid=$STARTED_PID
  enroll "$router_port"
  read -r single_rps single_p99 < <(measure "$single_port")
  read -r router_rps router_p99 < <(measure "$router_port")
  ratio=$(python3 -c "print('%.2f' % ($router_rps / $single_rps))")
  rows+=("| $shards | $single_rps | $single_p99 | $router_rps | $router_p99 | $ratio |")
  stop "$router_pid" "${shard_pids[@]}"
done

echo
echo "gallery $ENTRIES x $DIM, batch $BATCH, top_k $TOP_K, threshold $THRESHOLD," \
  "$CONCURRENCY callers, $DURATION per run; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| shards | single req/s | single p99 ms | router req/s | router p99 ms | router / single |"
echo "| --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
