#!/usr/bin/env bash
# A real Prometheus server (Debian's `prometheus`) scrapes candor-server's
# /metrics, and the test reads candor's series back through Prometheus's own
# HTTP API. Everything listens on 127.0.0.1 and stops when the test ends.
#
#   prometheus_scrape_test.sh CANDOR_SERVER CANDOR_CLI
set -euo pipefail
server_bin=$1
cli_bin=$2
prometheus_bin=$(command -v prometheus) || {
  echo "FAIL: prometheus is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
}

# shellcheck source=tests/lib/candor_server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/candor_server.sh"
candor_scratch_dir
work=$CANDOR_WORK

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
metrics_port=$(free_port)
prom_port=$(free_port)

start_candor_server "$server_bin" "$work" --metrics_listen="127.0.0.1:${metrics_port}"
addr=$CANDOR_ADDR

# Some traffic for the series to count.
"$cli_bin" synth --out "$work/set" --subjects 40 --per-subject 2 --dim 16 \
  --groups A,B --seed 3 >/dev/null
"$cli_bin" --server "$addr" gallery create g --dim 16 >/dev/null
"$cli_bin" --server "$addr" enroll g --vectors "$work/set/gallery.npy" \
  --meta "$work/set/gallery.csv" >/dev/null
for _ in 1 2 3; do
  "$cli_bin" --server "$addr" search g --probes "$work/set/mated.npy" \
    --meta "$work/set/mated.csv" --threshold 0.5 --top-k 3 >/dev/null
done

cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: candor
    static_configs:
      - targets: ["127.0.0.1:${metrics_port}"]
YML
"$prometheus_bin" --config.file="$work/prometheus.yml" \
  --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:${prom_port}" 2>"$work/prometheus.log" &
CANDOR_OTHER_PIDS+=($!)

# Ask Prometheus (not candor) for candor's series until it has scraped.
query() {
  python3 - "$prom_port" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
port, q = sys.argv[1], sys.argv[2]
url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
try:
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.load(r)
except Exception:
    print("")
    sys.exit(0)
res = body.get("data", {}).get("result", [])
print(res[0]["value"][1] if res else "")
PY
}
searches=""
for _ in $(seq 120); do
  searches=$(query 'candor_requests_total{job="candor",rpc="Search",code="OK"}')
  [[ -n "$searches" ]] && break
  sleep 0.5
done
if [[ "$searches" != "3" ]]; then
  echo "FAIL: Prometheus reports candor_requests_total{rpc=Search,code=OK} = '${searches}', want 3"
  tail -n 20 "$work/prometheus.log"
  exit 1
fi
probes=$(query 'sum(candor_probes_total{job="candor",gallery="g"})')
entries=$(query 'candor_gallery_entries{job="candor",gallery="g"}')
verdicts=$(query 'sum(candor_policy_verdicts_total{job="candor",outcome="no_policy"})')
echo "Prometheus sees: searches=${searches} probes=${probes} entries=${entries} verdicts(no_policy)=${verdicts}"
[[ "$probes" == "120" ]] || { echo "FAIL: probes=${probes}, want 120 (3 searches x 40 probes)"; exit 1; }
[[ "$entries" == "80" ]] || { echo "FAIL: entries=${entries}, want 80"; exit 1; }
[[ "$verdicts" == "3" ]] || { echo "FAIL: verdicts=${verdicts}, want 3"; exit 1; }

# Beyond searches: every RPC is counted, the build and the process are
# described, every gallery has its gauges, WAL fsyncs are timed.
created=$(query 'sum(candor_requests_total{job="candor",rpc="CreateGallery",code="OK"})')
enrolls=$(query 'sum(candor_requests_total{job="candor",rpc="Enroll",code="OK"})')
build=$(query 'count(candor_build_info{job="candor",version!="",commit!=""})')
stale=$(query 'candor_calibration_stale{job="candor",gallery="g"}')
memory=$(query 'sum(candor_gallery_memory_bytes{job="candor",gallery="g"})')
fsyncs=$(query 'candor_wal_fsync_seconds_count{job="candor"}')
rss=$(query 'process_resident_memory_bytes{job="candor"}')
fds=$(query 'process_open_fds{job="candor"}')
totals=$(query 'count(candor_stage_latency_seconds_count{job="candor",stage="total"})')
echo "Prometheus sees: created=${created} enrolls=${enrolls} build_info=${build} stale=${stale}" \
  "memory=${memory} fsyncs=${fsyncs} rss=${rss} fds=${fds}"
[[ "$created" == "1" ]] || { echo "FAIL: CreateGallery counted ${created} times, want 1"; exit 1; }
[[ "$enrolls" == "1" ]] || { echo "FAIL: Enroll counted ${enrolls} times, want 1"; exit 1; }
[[ "$build" == "1" ]] || { echo "FAIL: candor_build_info: '${build}' series, want 1"; exit 1; }
[[ "$stale" == "1" ]] || { echo "FAIL: uncalibrated gallery: stale='${stale}', want 1"; exit 1; }
[[ -z "$totals" ]] || { echo "FAIL: a stage=\"total\" series is exported"; exit 1; }
python3 - "$memory" "$fsyncs" "$rss" "$fds" <<'PY' || exit 1
import sys
memory, fsyncs, rss, fds = (float(v or 0) for v in sys.argv[1:])
# 80 entries x 16 floats x 4 bytes of vectors at least.
checks = [("gallery memory", memory >= 80 * 16 * 4), ("WAL fsyncs", fsyncs >= 1),
          ("resident memory", rss > 1e6), ("open fds", fds >= 3)]
bad = [name for name, ok in checks if not ok]
if bad:
    print("FAIL:", ", ".join(bad), file=sys.stderr)
    sys.exit(1)
PY
echo "PASS"
