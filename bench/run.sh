#!/usr/bin/env bash
# Regenerates bench/RESULTS.md: candor's throughput figures, each with its
# baseline measured in the same run, plus the machine, load, commit and date.
#
#   bench/run.sh [--quick] [BUILD_DIR]        (BUILD_DIR default: build/)
#
# Needs, built in BUILD_DIR: candor-server, candor (CLI), candor-bench and
# faiss-baseline (bench/report). The Python rows use the repository's .venv
# (scripts/python/setup-venv.sh); the Milvus row installs milvus-lite and
# pymilvus into bench/milvus/.venv on first use. A row whose tool is missing
# or fails is written as "not measured" with the reason.
#
# Rows: (1) end-to-end gRPC Search at batch 256 vs in-process
# faiss::IndexFlatIP::search on the same .npy data; (2) 64 one-probe callers
# with --batching=on vs off; (3) IVF vs flat, probes/s and recall@10 at
# several nprobe; (4) flat throughput from 10k to 1M entries; (5) Milvus Lite
# (exact FLAT) on the same workload; (6) Python client vs candor-bench.
#
# Servers listen on 127.0.0.1 only; every step is bounded by a duration or a
# call count and by `timeout`; the EXIT trap stops the server and removes the
# scratch directory. --quick runs smaller galleries and shorter steps (a few
# minutes); the full run takes roughly 20-30 minutes on 2 cores.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QUICK=0
BUILD=build
for arg in "$@"; do
  case "${arg}" in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "run.sh: unknown option ${arg}" >&2; exit 2 ;;
    *) BUILD="${arg}" ;;
  esac
done
[[ "${BUILD}" == /* ]] || BUILD="${ROOT}/${BUILD}"
OUT="${RESULTS_MD:-${ROOT}/bench/RESULTS.md}"

SERVER="${BUILD}/server/candor-server"
CLI="${BUILD}/clients/cli/candor"
LOAD="${BUILD}/bench/load/candor-bench"
BASELINE="${BUILD}/bench/report/faiss-baseline"
PY="${ROOT}/.venv/bin/python"
MILVUS_VENV="${ROOT}/bench/milvus/.venv"
for bin in "${SERVER}" "${CLI}" "${LOAD}" "${BASELINE}"; do
  if [[ ! -x "${bin}" ]]; then
    echo "run.sh: ${bin} not built; build the targets candor-server candor candor-bench faiss-baseline in ${BUILD}" >&2
    exit 2
  fi
done

# Sizes. Full: the design's 100k x 512 gallery; quick: a smoke version.
BATCH=256
TOP_K=10
# Row 1 alternates many short windows in one process (faiss-baseline's
# paired mode): on this shared machine one window's throughput moves by
# +-10%, so the median of many pairs says more than a few long ones.
if [[ ${QUICK} -eq 1 ]]; then
  E2E_ROUNDS=4; E2E_WINDOW=0.5s; E2E_ALONE=1s
  N=10000; DIM=512; DUR=3; NLIST=64; NPROBES="1,8,32"; IVF_CALLS=2
  SCALE_DIM=128; SCALE_SIZES="10000 50000"; ENROLL_ROWS=4096
else
  E2E_ROUNDS=40; E2E_WINDOW=1.5s; E2E_ALONE=5s
  N=100000; DIM=512; DUR=12; NLIST=256; NPROBES="1,8,32"; IVF_CALLS=6
  SCALE_DIM=128; SCALE_SIZES="10000 100000 1000000"; ENROLL_ROWS=4096
fi
PROBE_ROWS=2560   # 10 distinct batches of 256

WORK="$(mktemp -d "${TMPDIR:-/tmp}/candor-bench.XXXXXX")"
R="${WORK}/results"
mkdir -p "${R}"
SERVER_PID=""
stop_server() {
  if [[ -n "${SERVER_PID}" ]]; then
    kill "${SERVER_PID}" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "${SERVER_PID}" 2>/dev/null || break; sleep 0.2; done
    kill -9 "${SERVER_PID}" 2>/dev/null
    wait "${SERVER_PID}" 2>/dev/null
    SERVER_PID=""
  fi
}
cleanup() { stop_server; rm -rf "${WORK}"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

now_s() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
# note STEP KEY VALUE: one fact about a step, read by render.py.
note() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "${R}/notes.tsv"; }
# stamp STEP: the load average at the start of a step.
stamp() { note "$1" load "$(load_avg)"; }

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
ADDR="127.0.0.1:${PORT}"
cli() { timeout 1200 "${CLI}" --server "${ADDR}" --timeout-s 1200 "$@"; }

start_server() {  # start_server BATCHING
  "${SERVER}" --listen="${ADDR}" --data_dir="${WORK}/data" --gemm_threads=2 \
    --metrics_listen= --batching="$1" > "${WORK}/server-$1.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if cli gallery list > /dev/null 2>&1; then return 0; fi
    kill -0 "${SERVER_PID}" 2>/dev/null || break
    sleep 0.5
  done
  log "server did not come up:"; tail -5 "${WORK}/server-$1.log" >&2
  return 1
}

# warm GALLERY CONCURRENCY BATCH PROBES: a few untimed calls first, as the
# FAISS baseline makes one, so first-call costs stay out of the figures.
warm() {
  timeout 600 "${LOAD}" --address="${ADDR}" --gallery="$1" --mode=closed --concurrency="$2" \
    --batch="$3" --requests="$2" --threshold=-1 --top_k="${TOP_K}" --probes_npy="$4" \
    --timeout=300s > /dev/null 2>&1
}
# bench STEP GALLERY CONCURRENCY BATCH: candor-bench closed loop, JSON to STEP.json.
bench() {
  warm "$2" "$3" "$4" "${WORK}/main/mated.npy"
  stamp "$1"
  timeout $((DUR + 600)) "${LOAD}" --address="${ADDR}" --gallery="$2" --mode=closed \
    --concurrency="$3" --batch="$4" --duration="${DUR}s" --threshold=-1 --top_k="${TOP_K}" \
    --probes_npy="${WORK}/main/mated.npy" --timeout=300s --json \
    > "${R}/$1.json" 2> "${R}/$1.err" || { log "$1 failed"; tail -3 "${R}/$1.err" >&2; }
}
bench_dim() {  # same, with the scaling set's probes
  warm "$2" 1 "${BATCH}" "$3"
  stamp "$1"
  timeout $((DUR + 600)) "${LOAD}" --address="${ADDR}" --gallery="$2" --mode=closed \
    --concurrency=1 --batch="${BATCH}" --duration="${DUR}s" --threshold=-1 --top_k="${TOP_K}" \
    --probes_npy="$3" --timeout=300s --json \
    > "${R}/$1.json" 2> "${R}/$1.err" || { log "$1 failed"; tail -3 "${R}/$1.err" >&2; }
}
# baseline_run STEP ARGS...: faiss-baseline on row 1's data and settings
# plus ARGS, JSON to STEP.json.
baseline_run() {
  local step=$1
  shift
  stamp "${step}"
  timeout 1800 "${BASELINE}" --gallery_npy="${WORK}/main/gallery.npy" \
    --probes_npy="${WORK}/main/mated.npy" --batch="${BATCH}" --top_k="${TOP_K}" --threads=2 \
    "$@" > "${R}/${step}.json" 2> "${R}/${step}.err" \
    || { log "${step} failed"; tail -3 "${R}/${step}.err" >&2; }
}
# paired STEP ROUNDS: faiss-baseline's paired mode. Rounds of windows:
# in-process IndexFlatIP::search, then gRPC Search of the same batches with
# 1 caller, then with 2, each ratio against its round's in-process figure.
paired() {
  baseline_run "$1" --server="${ADDR}" --gallery=flat --callers=1,2 --rounds="$2" \
    --window="${E2E_WINDOW}"
}
# in_process STEP OMP_THREADS: faiss-baseline alone for E2E_ALONE, OpenMP at
# OMP_THREADS (0: its default, one per core).
in_process() {
  baseline_run "$1" --omp_threads="$2" --duration="${E2E_ALONE}"
}
# enroll GALLERY DIR: enrolls DIR/gallery.npy, notes the seconds it took.
enroll() {
  local t0
  t0="$(now_s)"
  cli enroll "$1" --vectors "$2/gallery.npy" --meta "$2/gallery.csv" \
    --batch-size "${ENROLL_ROWS}" > /dev/null 2> "${R}/enroll-$1.err" || { log "enroll $1 failed"; tail -3 "${R}/enroll-$1.err" >&2; return 1; }
  note "enroll-$1" seconds "$(since "${t0}")"
}

# ---------------------------------------------------------------- machine
note run quick "${QUICK}"
note run nproc "$(nproc)"
note run cpu "$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
note run mem_gib "$(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo)"
note run openblas_coretype "${OPENBLAS_CORETYPE:-unset}"
note run commit "$(git -C "${ROOT}" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
note run dirty "$(git -C "${ROOT}" status --porcelain -- server clients bench/load 2>/dev/null | wc -l)"
note run date "$(date -u +%Y-%m-%dT%H:%MZ)"
note run build_type "$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "${BUILD}/CMakeCache.txt" 2>/dev/null)"
note run load_start "$(load_avg)"
note run scale_sizes "${SCALE_SIZES}"
note run sizes "N=${N} DIM=${DIM} DUR=${DUR}s NLIST=${NLIST} NPROBES=${NPROBES} SCALE=${SCALE_SIZES}@${SCALE_DIM}"

# ---------------------------------------------------------------- data
# One sample per subject, so subject ids name entries uniquely (the IVF
# recall compares subject ids across galleries). Probes: mated samples.
log "synthesizing ${N} x ${DIM} and the scaling sets"
synth() {  # synth DIR SUBJECTS DIM
  timeout 1200 "${CLI}" synth --out "$1" --subjects "$2" --per-subject 1 --dim "$3" \
    --mated-probes "${PROBE_ROWS}" --nonmated-subjects 1 --seed 7 > /dev/null
}
synth "${WORK}/main" "${N}" "${DIM}" || { log "synth failed"; exit 1; }
for n in ${SCALE_SIZES}; do synth "${WORK}/scale-${n}" "${n}" "${SCALE_DIM}" || exit 1; done

log "starting candor-server on ${ADDR} (batching on)"
start_server on || exit 1
cli gallery create flat --dim "${DIM}" > /dev/null || exit 1
log "enrolling ${N} x ${DIM}"
enroll flat "${WORK}/main" || exit 1

# ---------------------------------------------------------------- (1) e2e vs FAISS
log "(1) in-process FAISS baseline and end-to-end Search, batch ${BATCH}"
# One caller waits for each answer before sending the next request
# (latency bound); two callers keep the server busy (its throughput).
note run e2e_rounds "${E2E_ROUNDS}"
note run e2e_window "${E2E_WINDOW}"
paired e2e "${E2E_ROUNDS}"
# What the baseline's threading is worth: the same in-process loop with
# OpenMP left at its default, as a program that just calls FAISS runs it,
# alternating with the server's setting.
for round in 1 2 3; do
  in_process "e2e_tuned_${round}" 1
  in_process "e2e_default_${round}" 0
done

# ---------------------------------------------------------------- (6) Python client
log "(6) Python client vs candor-bench"
bench py_cpp flat 1 "${BATCH}"
if [[ -x "${PY}" ]] && "${PY}" -c 'import candor, numpy' 2>/dev/null; then
  iters="$(python3 -c 'import json,sys
try: r=json.load(open(sys.argv[1]))["probes_per_s"]
except Exception: r=0
print(max(3, int(r*float(sys.argv[2])/256)))' "${R}/py_cpp.json" "${DUR}")"
  stamp py_python
  timeout $((DUR * 4 + 600)) "${PY}" "${ROOT}/clients/python/benchmarks/bench_client.py" \
    --address "${ADDR}" --reuse --gallery flat --batch "${BATCH}" --top-k "${TOP_K}" \
    --threshold -1 --iterations "${iters}" --warmup 1 > "${R}/py_python.txt" 2> "${R}/py_python.err" \
    || log "python client failed"
else
  echo "the repository's .venv with the candor Python client is missing: run scripts/python/setup-venv.sh" > "${R}/py_python.err"
fi

# ---------------------------------------------------------------- (3) IVF vs flat
log "(3) IVF (nlist ${NLIST}) vs flat"
if cli gallery create ivf --dim "${DIM}" --index ivf --nlist "${NLIST}" > /dev/null 2> "${R}/ivf.err" &&
   enroll ivf "${WORK}/main"; then
  t0="$(now_s)"
  if cli gallery train ivf --nlist "${NLIST}" > /dev/null 2>> "${R}/ivf.err"; then
    note ivf train_seconds "$(since "${t0}")"
    note ivf nlist "${NLIST}"
    stamp ivf
    timeout 1800 "${PY}" "${ROOT}/bench/report/ivf_sweep.py" --address "${ADDR}" --flat flat --ivf ivf \
      --probes-npy "${WORK}/main/mated.npy" --batch "${BATCH}" --calls "${IVF_CALLS}" \
      --top-k "${TOP_K}" --nprobe "${NPROBES}" > "${R}/ivf.jsonl" 2>> "${R}/ivf.err" || log "ivf sweep failed"
  fi
  cli gallery delete ivf > /dev/null 2>&1
else
  log "ivf gallery failed"
fi

# ---------------------------------------------------------------- (4) scaling
for n in ${SCALE_SIZES}; do
  log "(4) scaling: ${n} x ${SCALE_DIM}"
  if cli gallery create "s${n}" --dim "${SCALE_DIM}" > /dev/null && enroll "s${n}" "${WORK}/scale-${n}"; then
    bench_dim "scale_${n}" "s${n}" "${WORK}/scale-${n}/mated.npy"
  fi
  cli gallery delete "s${n}" > /dev/null 2>&1
done

# ---------------------------------------------------------------- (5) Milvus Lite
log "(5) Milvus Lite, exact FLAT"
if [[ ! -x "${MILVUS_VENV}/bin/python" ]] || ! "${MILVUS_VENV}/bin/python" -c 'import pymilvus, milvus_lite' 2>/dev/null; then
  log "installing milvus-lite and pymilvus into bench/milvus/.venv"
  { python3 -m venv "${MILVUS_VENV}" &&
    timeout 900 "${MILVUS_VENV}/bin/pip" install -q milvus-lite pymilvus numpy; } > "${R}/milvus-install.log" 2>&1
fi
if "${MILVUS_VENV}/bin/python" -c 'import pymilvus, milvus_lite' > /dev/null 2>> "${R}/milvus-install.log"; then
  note milvus version "$("${MILVUS_VENV}/bin/python" -c 'import importlib.metadata as m; print("milvus-lite", m.version("milvus-lite"), "pymilvus", m.version("pymilvus"))')"
  stamp milvus
  mkdir -p "${WORK}/milvus"
  timeout $((DUR + 1800)) "${MILVUS_VENV}/bin/python" "${ROOT}/bench/milvus/milvus_search.py" \
    --gallery-npy "${WORK}/main/gallery.npy" --probes-npy "${WORK}/main/mated.npy" \
    --db "${WORK}/milvus/bench.db" --batch "${BATCH}" --top-k "${TOP_K}" --duration "${DUR}" \
    > "${R}/milvus.json" 2> "${R}/milvus.err" || log "milvus failed"
  # The comparison figure for candor, right after, on the same server.
  bench milvus_candor flat 1 "${BATCH}"
else
  cp "${R}/milvus-install.log" "${R}/milvus.err"
fi

# ---------------------------------------------------------------- (1, late)
# Row 1's pairing again, minutes later on the same server, fewer rounds.
log "(1, late) FAISS baseline and candor, paired again"
paired e2e_late $(( (E2E_ROUNDS + 3) / 4 ))

# ---------------------------------------------------------------- (2) batching
log "(2) 64 callers x 1 probe, batching on"
bench batch_on flat 64 1
stop_server
log "(2) restarting with --batching=off"
if start_server off; then
  bench batch_off flat 64 1
  stop_server
fi

# ---------------------------------------------------------------- report
note run load_end "$(load_avg)"
python3 "${ROOT}/bench/report/render.py" "${R}" > "${OUT}.tmp" && mv "${OUT}.tmp" "${OUT}"
log "wrote ${OUT}"
