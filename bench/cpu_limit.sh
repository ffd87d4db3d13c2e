#!/usr/bin/env bash
# How close candor's CPU flat search comes to the machine's limit, in one
# run, on one shape (default 100,000 x 512 gallery, batch 256, top_k 10):
#
#   (a) the limit: the best fp32 GEMM of the same 256 x entries x 512 score
#       matrix: each library candor-gemm-bench can load (scipy-openblas,
#       the OpenBLAS FAISS links, BLIS) and numpy's own OpenBLAS from the
#       repository's .venv, each with OPENBLAS_CORETYPE as found and unset;
#   (b) candor in process: CpuFlatIndex::Search (and FAISS's flat index);
#   (c) candor end to end: candor-server, 2 closed-loop gRPC callers
#       (candor-bench), batch 256, on an fp32 gallery and on a bf16 one;
#
# then the ratios (targets: in process >= 0.97 x the limit, end to end
# >= 0.9 x), and a scaling table of (a), (b) and the bf16 index in process
# from 10k to 1M entries. --big adds 10M in bf16 alone: the gallery made in
# chunks into the bf16 index, never held in fp32 (about 10 GiB resident;
# fp32 would need 40: the gallery and cpu-flat's copy of it), an estimated
# 5 to 15 minutes more on 2 cores, from the 1M figures and the load.
#
#   bench/cpu_limit.sh [--quick] [--big] [--write] [--entries=N] [BUILD_DIR]
#
# --write also writes the report to bench/RESULTS-cpu-limit.md.
# BUILD_DIR (default build/) must hold candor-server, candor-gemm-bench and
# candor-bench (targets of those names). Takes about 5 minutes on 2 cores
# (--quick: one rep, 10 s of load, no 1M row: about 3 minutes). The server
# listens on 127.0.0.1 only; every step is bounded by `timeout`; the EXIT
# trap stops the server and removes the scratch folder. Figures are best of
# a few reps; the load average is printed before and after: compare runs
# only on a quiet machine.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${ROOT}/build"
QUICK=0
BIG=0
WRITE=0
ENTRIES=100000
DIM=512
BATCH=256
TOP_K=10
for arg in "$@"; do
  case "${arg}" in
    --quick) QUICK=1 ;;
    --big) BIG=1 ;;
    --write) WRITE=1 ;;
    --entries=*) ENTRIES="${arg#--entries=}" ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "cpu_limit.sh: unknown option ${arg}" >&2; exit 2 ;;
    *) BUILD="${arg}" ;;
  esac
done
[[ "${BUILD}" == /* ]] || BUILD="${ROOT}/${BUILD}"
GEMM="${BUILD}/bench/gemm/candor-gemm-bench"
SERVER="${BUILD}/server/candor-server"
LOAD="${BUILD}/bench/load/candor-bench"
for bin in "${GEMM}" "${SERVER}" "${LOAD}"; do
  if [[ ! -x "${bin}" ]]; then
    echo "cpu_limit.sh: ${bin} not built (targets candor-gemm-bench candor-server candor-bench)" >&2
    exit 1
  fi
done
REPS=5
DUR=20
[[ ${QUICK} == 1 ]] && { REPS=1; DUR=10; }
THREADS="$(nproc)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/candor-cpu-limit.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n "${SERVER_PID}" ]]; then
    kill "${SERVER_PID}" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "${SERVER_PID}" 2>/dev/null || break; sleep 0.2; done
    kill -9 "${SERVER_PID}" 2>/dev/null
    wait "${SERVER_PID}" 2>/dev/null
  fi
  rm -rf "${WORK}"
}
trap cleanup EXIT

if [[ ${WRITE} == 1 ]]; then
  # The report, as printed, into the results file too (Markdown: the
  # figures as a preformatted block).
  RESULTS="${ROOT}/bench/RESULTS-cpu-limit.md"
  exec > >(awk 'BEGIN { print "Regenerate with `bench/cpu_limit.sh --write [BUILD_DIR]`; this file is its output.\n\n```" }
                { print; fflush() } END { print "```" }' | tee "${RESULTS}")
fi
log() { echo "cpu_limit: $*" >&2; }
# field KEY FILE [NAME]: the value of KEY= on the RESULT line (of name NAME).
field() {
  grep '^RESULT ' "$2" | { if [[ -n "${3:-}" ]]; then grep " name=$3 "; else cat; fi; } |
    grep ' ok=1 ' | sed -n "s/.* $1=\([^ ]*\).*/\1/p" | head -1
}
ratio() { python3 -c "import sys; a, b = sys.argv[1:]; print(f'{float(a) / float(b):.3f}' if a and b else 'n/a')" "$1" "$2"; }

echo "# candor CPU flat search vs the GEMM limit"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "${ROOT}" rev-parse --short HEAD 2>/dev/null)"
echo "shape: ${ENTRIES} x ${DIM}, batch ${BATCH}, top_k ${TOP_K}, ${THREADS} threads"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- (a) + (b)
GEMM_ARGS=(--entries="${ENTRIES}" --dim="${DIM}" --batch="${BATCH}" --top_k="${TOP_K}"
           --reps="${REPS}" --threads="${THREADS}")
log "GEMMs and in-process flat search (OPENBLAS_CORETYPE as found: ${OPENBLAS_CORETYPE:-unset})"
timeout 1200 "${GEMM}" "${GEMM_ARGS[@]}" --flat --paired=$((REPS * 2 + 1)) > "${WORK}/gemm.txt" 2>&1 ||
  log "candor-gemm-bench failed: $(tail -2 "${WORK}/gemm.txt")"
grep -vE '^RESULT ' "${WORK}/gemm.txt"
if [[ -n "${OPENBLAS_CORETYPE:-}" ]]; then
  # What linking scipy-openblas directly would give: it would read the
  # forced core too.
  timeout 600 "${GEMM}" "${GEMM_ARGS[@]}" --candidates=scipy-openblas --keep_coretype \
    > "${WORK}/gemm-forced.txt" 2>&1
  grep -E '^gemm' "${WORK}/gemm-forced.txt" | sed 's/^gemm  /gemm* /'
  echo "(gemm*: scipy-openblas under OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE}, as a direct link would load it)"
fi

# numpy's own OpenBLAS (the .venv's wheel), both ways.
NUMPY_BEST=""
PY="${ROOT}/.venv/bin/python"
if [[ -x "${PY}" ]] && "${PY}" -c 'import numpy' 2>/dev/null; then
  for mode in found unset; do
    envs=()
    [[ ${mode} == unset ]] && envs=(-u OPENBLAS_CORETYPE)
    out=$(timeout 600 env "${envs[@]}" OPENBLAS_NUM_THREADS="${THREADS}" "${PY}" - "${ENTRIES}" "${DIM}" "${BATCH}" "${REPS}" <<'EOF'
import sys, time
import numpy as np
n, d, b, reps = map(int, sys.argv[1:])
rng = np.random.default_rng(2024)
g = rng.standard_normal((n, d), dtype=np.float32); g /= np.linalg.norm(g, axis=1, keepdims=True)
p = rng.standard_normal((b, d), dtype=np.float32); p /= np.linalg.norm(p, axis=1, keepdims=True)
out = np.empty((b, n), dtype=np.float32)
np.dot(p, g.T, out=out)
best = min((lambda t0: (np.dot(p, g.T, out=out), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(max(reps, 1)))
# The kernels numpy's OpenBLAS chose: ask the loaded library itself.
core = "?"
import ctypes
for line in open("/proc/self/maps"):
    path = line.split()[-1]
    if "openblas" not in path.rsplit("/", 1)[-1] or ".so" not in path:
        continue
    lib = ctypes.CDLL(path)
    for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename",
                 "openblas_get_corename64_", "openblas_get_corename"):
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = ctypes.c_char_p
            core = fn().decode()
            break
    break
print(f"{b / best:.1f} {2 * b * n * d / best / 1e9:.2f} {np.__version__} {core}")
EOF
)
    if [[ -n "${out}" ]]; then
      read -r pps gf ver core <<<"${out}"
      printf 'gemm   %-16s %-44s %10.0f probes/s %7.1f GFLOP/s\n' "numpy-${mode}" \
        "numpy ${ver} openblas ${core} (CORETYPE ${mode})" "${pps}" "${gf}"
      NUMPY_BEST=$(python3 -c "print(max(float(x) for x in '${NUMPY_BEST} ${pps}'.split()))")
    fi
  done
else
  log "no numpy in ${ROOT}/.venv: numpy rows skipped (scripts/python/setup-venv.sh)"
fi

LIMIT=$(grep '^RESULT kind=gemm' "${WORK}/gemm.txt" "${WORK}/gemm-forced.txt" 2>/dev/null |
  grep ' ok=1 ' | sed -n 's/.* probes_per_s=\([^ ]*\).*/\1/p' | sort -g | tail -1)
LIMIT=$(python3 -c "print(max(float(x) for x in '${LIMIT:-0} ${NUMPY_BEST:-0}'.split()))")
INPROC=$(field probes_per_s "${WORK}/gemm.txt" cpu-flat)
FAISS_INPROC=$(field probes_per_s "${WORK}/gemm.txt" faiss-cpu)

# ---------------------------------------------------------------- (c)
log "end to end: candor-server, 2 callers, batch ${BATCH}"
THREAD_FLAG=--threads
"${SERVER}" --helpfull 2>/dev/null | grep -q -- '--gemm_threads' && THREAD_FLAG=--gemm_threads
E2E=""
run_server() {  # run_server BACKEND: starts candor-server, sets SERVER_PID and ADDR
  rm -rf "${WORK}/data" "${WORK}/port"
  "${SERVER}" --listen=127.0.0.1:0 --port_file="${WORK}/port" --data_dir="${WORK}/data" \
    --metrics_listen= --backend="$1" "${THREAD_FLAG}=${THREADS}" > "${WORK}/server-$1.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    [[ -s "${WORK}/port" ]] && break
    kill -0 "${SERVER_PID}" 2>/dev/null || break
    sleep 0.2
  done
  if [[ ! -s "${WORK}/port" ]]; then
    log "server ($1) did not come up: $(tail -3 "${WORK}/server-$1.log")"
    return 1
  fi
  ADDR="127.0.0.1:$(cat "${WORK}/port")"
}
stop_server() {
  kill "${SERVER_PID}" 2>/dev/null; wait "${SERVER_PID}" 2>/dev/null; SERVER_PID=""
}
e2e() {  # e2e BACKEND [PRECISION]: probes/s of 2 closed-loop callers
  run_server "$1" || return 1
  grep -m1 'CPU flat search GEMM' "${WORK}/server-$1.log" | sed 's/^.*CPU flat/server: CPU flat/' >&2
  timeout 1200 "${LOAD}" --address="${ADDR}" --gallery=limit --enroll="${ENTRIES}" --dim="${DIM}" \
    --precision="${2:-fp32}" --mode=closed --concurrency=2 --batch="${BATCH}" --requests=4 --threshold=-1 \
    --top_k="${TOP_K}" --timeout=300s > /dev/null 2> "${WORK}/enroll-$1.err" ||
    { log "enroll/warm-up ($1) failed: $(tail -2 "${WORK}/enroll-$1.err")"; stop_server; return 1; }
  timeout $((DUR + 600)) "${LOAD}" --address="${ADDR}" --gallery=limit --mode=closed \
    --concurrency=2 --batch="${BATCH}" --duration="${DUR}s" --threshold=-1 --top_k="${TOP_K}" \
    --timeout=300s --json > "${WORK}/e2e-$1.json" 2> "${WORK}/e2e-$1.err" ||
    { log "load ($1) failed: $(tail -2 "${WORK}/e2e-$1.err")"; stop_server; return 1; }
  stop_server
  python3 -c "import json,sys; print(f\"{json.load(open(sys.argv[1]))['probes_per_s']:.1f}\")" "${WORK}/e2e-$1.json"
}
E2E=$(e2e cpu)
E2E_FAISS=$(e2e faiss-cpu)
E2E_BF16=$(e2e cpu bf16)

echo
echo "## ratios (${ENTRIES} x ${DIM}, batch ${BATCH}, top_k ${TOP_K})"
printf '%-44s %10s probes/s\n' "limit (best GEMM above)" "${LIMIT}"
printf '%-44s %10s probes/s  %s x limit (target >= 0.97)\n' "cpu-flat in process" "${INPROC:-n/a}" "$(ratio "${INPROC}" "${LIMIT}")"
PAIRED=$(grep '^RESULT kind=paired' "${WORK}/gemm.txt" | sed -n 's/.* median=\([^ ]*\).*/\1/p')
printf '%-44s %10s        %s x (rounds alternating both, median)\n' "cpu-flat in process / scipy-openblas GEMM" "" "${PAIRED:-n/a}"
printf '%-44s %10s probes/s  %s x limit (target >= 0.9)\n' "cpu-flat end to end (gRPC, 2 callers)" "${E2E:-n/a}" "$(ratio "${E2E}" "${LIMIT}")"
printf '%-44s %10s probes/s  %s x limit\n' "faiss-cpu in process" "${FAISS_INPROC:-n/a}" "$(ratio "${FAISS_INPROC}" "${LIMIT}")"
printf '%-44s %10s probes/s  %s x limit\n' "faiss-cpu end to end (gRPC, 2 callers)" "${E2E_FAISS:-n/a}" "$(ratio "${E2E_FAISS}" "${LIMIT}")"
printf '%-44s %10s probes/s  %s x limit, %s x cpu-flat end to end\n' "cpu-bf16 end to end (gRPC, 2 callers)" \
  "${E2E_BF16:-n/a}" "$(ratio "${E2E_BF16}" "${LIMIT}")" "$(ratio "${E2E_BF16}" "${E2E}")"

# ---------------------------------------------------------------- scaling
echo
echo "## scaling (batch ${BATCH}, top_k ${TOP_K}): scipy-openblas GEMM vs cpu-flat and cpu-bf16 in process"
echo "(ratio: best figures timed apart; paired: median over rounds alternating both;"
echo " bf16 GFLOP/s counts the fp32 GEMM's operations; RSS: the process's peak)"
SIZES=(10000 100000 1000000)
[[ ${QUICK} == 1 ]] && SIZES=(10000 100000)
[[ ${BIG} == 1 ]] && SIZES+=(10000000)
printf '%-10s %14s %14s %8s %8s %14s %10s %9s %9s\n' entries "GEMM probes/s" "flat probes/s" ratio paired \
  "bf16 probes/s" "bf16 GF/s" bf16/flat "RSS GiB"
for n in "${SIZES[@]}"; do
  if [[ ${n} -le 1000000 ]]; then
    # fp32 and bf16 on the same rows, held once.
    args=(--candidates=scipy-openblas --flat --nofaiss --paired=$((REPS + 2)))
  else
    # bf16 alone: the fp32 gallery (4 bytes per value) is never held.
    args=(--candidates=)
  fi
  timeout 3600 "${GEMM}" --entries="${n}" --dim="${DIM}" --batch="${BATCH}" --top_k="${TOP_K}" \
    --reps="${REPS}" --threads="${THREADS}" --bf16 "${args[@]}" \
    > "${WORK}/scale-${n}.txt" 2>&1
  g=$(field probes_per_s "${WORK}/scale-${n}.txt" scipy-openblas)
  f=$(field probes_per_s "${WORK}/scale-${n}.txt" cpu-flat)
  b=$(field probes_per_s "${WORK}/scale-${n}.txt" cpu-bf16)
  bg=$(field gflops "${WORK}/scale-${n}.txt" cpu-bf16)
  rss=$(grep '^RESULT kind=memory name=cpu-bf16 ' "${WORK}/scale-${n}.txt" |
    sed -n 's/.* peak_rss_bytes=\([^ ]*\).*/\1/p' | awk '{ printf "%.2f", $1 / 2^30 }')
  pm=$(grep '^RESULT kind=paired' "${WORK}/scale-${n}.txt" | sed -n 's/.* median=\([^ ]*\).*/\1/p')
  printf '%-10s %14s %14s %8s %8s %14s %10s %9s %9s\n' "${n}" "${g:-n/a}" "${f:-n/a}" "$(ratio "${f}" "${g}")" \
    "${pm:-n/a}" "${b:-n/a}" "${bg:-n/a}" "$(ratio "${b}" "${f}")" "${rss:-n/a}"
  grep -E '^(answers|memory) ' "${WORK}/scale-${n}.txt" | sed "s/^/  ${n}: /"
done

# ---------------------------------------------------------------- bf16
# The bf16 gallery index against the fp32 one on the same shape (in
# process), and against the same LIMIT.
echo
echo "## bf16 (${ENTRIES} x ${DIM}, batch ${BATCH}, top_k ${TOP_K}): bench/bf16/bf16_row.sh"
QUICK_FLAG=""
[[ ${QUICK} == 1 ]] && QUICK_FLAG=--quick
"${ROOT}/bench/bf16/bf16_row.sh" "${BUILD}" "${ENTRIES}" "${DIM}" "${BATCH}" "${TOP_K}" \
  "${LIMIT}" ${QUICK_FLAG}

echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
