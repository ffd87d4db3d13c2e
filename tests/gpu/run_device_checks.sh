#!/usr/bin/env bash
# The one prepared script for a GPU machine: runs candor's GPU tests, the
# correctness check at scale, the GPU benchmark, FAISS's baseline (in its own
# process) and compute-sanitizer from a bundle made by scripts/gpu/bundle.sh.
# All output goes to one log ($OUT/device-checks.log when $OUT is set, else
# ./device-checks.log); the benchmark's JSON next to it.
#
#   tests/gpu/run_device_checks.sh [options] BUNDLE_DIR
#   tests/gpu/run_device_checks.sh --plan [--max-total S]     # dry run
#
#   --first        (default) the first run's benchmark filter: the smoke
#                  case, 10M x 512 at batch 1 and 1024 with k 10, and the
#                  score-tile sweep at 10M / batch 1024; min time 0.1 s
#   --full         the whole benchmark matrix
#   --steps A,B    only these steps (names as --plan prints them)
#   --deadline S   stop starting steps once S seconds have passed since the
#                  start, and cut the running one off there (default 420)
#   --plan         print the steps, their limits and the worst-case total;
#                  run nothing. With --max-total S, exit 1 when the
#                  worst-case total exceeds S.
#
# A device lease is short (15 minutes of device time, start-up included, at
# most 10 minutes a command), so every step runs under its own time limit
# and all of them under the deadline: a hang costs one step, and the whole
# run leaves time for a second call. Exit status: non-zero when a test
# failed or timed out.
set -uo pipefail

# name:limit_s, in the order they run: the tests are seconds each when
# healthy, the benchmark's figures matter most after them.
STEPS=(
  "unpack:30"
  "environment:15"
  "normalize_gpu_test:60"
  "select_topk_gpu_test:90"
  "gpu_flat_index_test:90"
  "benchmark:150"
  "gpu_scale_test:90"
  "faiss_baseline:90"
  "server_gpu_test:90"
  "sanitizer:60"
)
KILL_GRACE_S=5        # timeout -k: a step that ignores SIGTERM
SUMMARY_S=5           # after the deadline: the summary lines
MIN_STEP_S="${CANDOR_MIN_STEP_S:-10}"  # no step starts with less time left

mode=first
deadline_s=420
plan=0
max_total=""
only=""
bundle=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --first) mode=first ;;
    --full) mode=full ;;
    --plan) plan=1 ;;
    --max-total) max_total="$2"; shift ;;
    --deadline) deadline_s="$2"; shift ;;
    --steps) only="$2"; shift ;;
    -h | --help) sed -n '2,27p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) bundle="$1" ;;
  esac
  shift
done

selected() {
  [[ -z "${only}" || ",${only}," == *",$1,"* ]]
}

# The worst case: every selected step runs to its limit, capped by the
# deadline; the last one started may overrun it by the kill grace.
print_plan() {
  local sum=0 name limit
  echo "device-check plan (mode ${mode}, deadline ${deadline_s} s):"
  for s in "${STEPS[@]}"; do
    name="${s%%:*}"; limit="${s##*:}"
    selected "${name}" || continue
    printf '  %-22s limit %4d s\n' "${name}" "${limit}"
    sum=$((sum + limit))
  done
  local capped=$((sum < deadline_s ? sum : deadline_s))
  worst=$((capped + KILL_GRACE_S + SUMMARY_S))
  echo "  sum of limits ${sum} s; deadline ${deadline_s} s"
  echo "worst-case total: ${worst} s ($((worst / 60)) min $((worst % 60)) s)"
  echo "  a 15-minute lease less ~3 min of start-up leaves $((900 - 180 - worst)) s for a second call"
}

if [[ "${plan}" -eq 1 ]]; then
  print_plan
  if [[ -n "${max_total}" && "${worst}" -gt "${max_total}" ]]; then
    echo "FAIL: worst-case total ${worst} s exceeds ${max_total} s"
    exit 1
  fi
  exit 0
fi

[[ -n "${bundle}" ]] || { echo "usage: $0 [options] BUNDLE_DIR (or --plan)" >&2; exit 2; }
bundle="$(realpath "${bundle}")"
out_dir="${OUT:-.}"
log="${out_dir}/device-checks.log"
mkdir -p "${out_dir}"
exec > >(tee "${log}") 2>&1
start=${SECONDS}
failed=0
results=()

remaining() { echo $((deadline_s - (SECONDS - start))); }

# run_step NAME LIMIT CMD...: runs CMD under min(LIMIT, time left).
# Returns CMD's status; 124 when cut off.
run_step() {
  local name="$1" limit="$2" left rc t0
  shift 2
  left="$(remaining)"
  if ((left < MIN_STEP_S)); then
    echo "-- ${name}: not started, ${left} s left before the deadline"
    results+=("${name}: not started (deadline)")
    return 125
  fi
  ((limit > left)) && limit="${left}"
  echo "-- ${name} (limit ${limit} s)"
  t0=${SECONDS}
  timeout -k "${KILL_GRACE_S}" "${limit}" "$@"
  rc=$?
  if [[ ${rc} -eq 124 || ${rc} -eq 137 ]]; then
    echo "TIMEOUT: ${name} after ${limit} s"
    results+=("${name}: TIMEOUT after ${limit} s")
  else
    results+=("${name}: exit ${rc} in $((SECONDS - t0)) s")
  fi
  return "${rc}"
}

limit_of() {
  local s
  for s in "${STEPS[@]}"; do [[ "${s%%:*}" == "$1" ]] && echo "${s##*:}"; done
}

echo "== candor device checks: $(date -u +%Y-%m-%dT%H:%M:%SZ), mode ${mode}"
print_plan

# --- unpack
root="${bundle}"
if [[ -f "${bundle}/bundle.tar.zst" ]]; then
  root="$(mktemp -d)"
  zstd_bin="$(command -v zstd || echo "${bundle}/tools/zstd")"
  run_step unpack "$(limit_of unpack)" bash -c \
    'LD_LIBRARY_PATH="$1/tools/lib" "$2" -d -q -c "$1/bundle.tar.zst" | tar -C "$3" -xf -' \
    unpack "${bundle}" "${zstd_bin}" "${root}" ||
    { echo "error: cannot unpack ${bundle}/bundle.tar.zst"; exit 1; }
fi
[[ -f "${root}/MANIFEST" ]] && cat "${root}/MANIFEST"

# --- CUDA libraries: the bundle does not carry cuBLAS or cudart (the GPU
# machine has them). A toolkit's lib64 first, else a Python environment's
# nvidia/*/lib (the cuBLAS and runtime wheels), else the loader's cache.
find_cublas() {
  local d py
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
    /usr/local/cuda-13*/lib64 /usr/local/cuda-13*/targets/x86_64-linux/lib; do
    [[ -e "${d}/libcublas.so.13" ]] && { echo "toolkit ${d}"; return 0; }
  done
  for py in python3 python; do
    command -v "${py}" >/dev/null || continue
    d="$(timeout 10 "${py}" -c 'import nvidia, os
for p in nvidia.__path__:
    q = os.path.join(p, "cublas", "lib")
    if os.path.exists(os.path.join(q, "libcublas.so.13")):
        print(p); break' 2>/dev/null)"
    [[ -n "${d}" ]] && { echo "python ${d}"; return 0; }
  done
  for d in /usr/local/lib/python3*/{site,dist}-packages/nvidia \
    /usr/lib/python3*/{site,dist}-packages/nvidia \
    /opt/conda/lib/python3*/site-packages/nvidia \
    /root/.pyenv/versions/*/lib/python3*/site-packages/nvidia \
    "${HOME:-/root}"/.local/lib/python3*/site-packages/nvidia; do
    [[ -e "${d}/cublas/lib/libcublas.so.13" ]] && { echo "python ${d}"; return 0; }
  done
  d="$(ldconfig -p 2>/dev/null | awk '/libcublas\.so\.13 / { print $NF; exit }')"
  [[ -n "${d}" ]] && { echo "system $(dirname "${d}")"; return 0; }
  return 1
}

echo "== environment"
cuda_libs=""
py_nvidia=""
if found="$(find_cublas)"; then
  kind="${found%% *}"; where="${found#* }"
  if [[ "${kind}" == python ]]; then
    py_nvidia="${where}"
    for d in "${where}"/*/lib; do cuda_libs="${cuda_libs}:${d}"; done
    echo "libcublas.so.13: from the Python environment's wheels, ${where}/cublas/lib"
  else
    cuda_libs=":${where}"
    echo "libcublas.so.13: from the ${kind} libraries, ${where}"
  fi
else
  echo "libcublas.so.13: NOT FOUND (toolkit, Python nvidia/*/lib, ldconfig); binaries will not load"
fi
export LD_LIBRARY_PATH="${root}/lib${cuda_libs}${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}"
echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH}"
if selected environment; then
  run_step environment "$(limit_of environment)" nvidia-smi \
    --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv ||
    echo "(nvidia-smi failed)"
fi

missing_libs() {  # prints the unresolved libraries of $1, if any
  ldd "$1" | awk '/not found/ { print $1 }'
}

# --- GPU tests
run_test() {
  local name="$1"; shift
  selected "${name}" || return 0
  local bin="${root}/bin/${name}"
  if [[ ! -x "${bin}" ]]; then
    echo "-- ${name}: not in the bundle"
    results+=("${name}: not in the bundle")
    return 0
  fi
  local missing
  missing="$(missing_libs "${bin}")"
  if [[ -n "${missing}" ]]; then
    echo "-- ${name}: unresolved libraries: ${missing}"
    results+=("${name}: FAILED (libraries)")
    failed=1
    return 0
  fi
  if ! run_step "${name}" "$(limit_of "${name}")" "${bin}" --gtest_brief=1 "$@"; then
    echo "FAILED: ${name}"
    failed=1
  fi
}

echo "== GPU tests"
run_test normalize_gpu_test
run_test select_topk_gpu_test
run_test gpu_flat_index_test

echo "== GPU benchmark"
bench="${root}/bin/candor_gpu_bench"
if selected benchmark; then
  if [[ -x "${bench}" ]]; then
    if [[ "${mode}" == full ]]; then
      filter='.'
    else
      filter='^BM_GpuSearchSmoke|^BM_GpuSearch/N:10000000/B:(1|1024)/k:10/|^BM_GpuTileSweep/'
    fi
    run_step benchmark "$(limit_of benchmark)" "${bench}" \
      --benchmark_filter="${filter}" --benchmark_min_time=0.1 \
      --benchmark_counters_tabular=true \
      --benchmark_out="${out_dir}/gpu-bench.json" --benchmark_out_format=json ||
      echo "(benchmark exited with $?)"
  else
    echo "(no candor_gpu_bench in the bundle)"
  fi
fi

echo "== correctness at scale (16 probes at 10M)"
run_test gpu_scale_test

echo "== FAISS GPU baseline (own process)"
faiss_bin="${root}/bin/candor_faiss_gpu_bench"
if selected faiss_baseline; then
  if [[ -x "${faiss_bin}" ]]; then
    run_step faiss_baseline "$(limit_of faiss_baseline)" "${faiss_bin}" \
      --rows 10000000 --batches 1,1024 --k 10 ||
      echo "(FAISS baseline exited with $?; candor's figures above stand)"
  else
    echo "(no candor_faiss_gpu_bench in the bundle: FAISS GPU was not built)"
  fi
fi

echo "== server on the GPU backend"
run_test server_gpu_test

echo "== compute-sanitizer"
if selected sanitizer; then
  sanitizer="$(command -v compute-sanitizer || true)"
  # A toolkit's, or the PyPI wheel's (nvidia-cuda-sanitizer-api).
  for c in /usr/local/cuda/bin/compute-sanitizer \
    /usr/local/cuda/compute-sanitizer/compute-sanitizer \
    "${py_nvidia:-/nonexistent}/cuda_sanitizer_api/compute-sanitizer/compute-sanitizer"; do
    [[ -z "${sanitizer}" && -f "${c}" && -x "${c}" ]] && sanitizer="${c}"
  done
  if [[ -z "${sanitizer}" ]]; then
    echo "compute-sanitizer: not found on this machine (PATH, /usr/local/cuda, Python nvidia/*): skipped"
    results+=("sanitizer: skipped (no compute-sanitizer)")
  else
    echo "compute-sanitizer: ${sanitizer}"
    third=$(($(limit_of sanitizer) / 3))
    # memcheck over the normalize tests and a slice of the selection tests;
    # racecheck (shared memory) over the selection's sort and merge paths.
    run_step sanitizer-memcheck "${third}" "${sanitizer}" --tool memcheck --error-exitcode 3 \
      "${root}/bin/normalize_gpu_test" --gtest_brief=1 || { [[ $? -eq 3 ]] && failed=1; }
    run_step sanitizer-memcheck-select "${third}" "${sanitizer}" --tool memcheck --error-exitcode 3 \
      "${root}/bin/select_topk_gpu_test" --gtest_brief=1 \
      --gtest_filter='Sweep/SelectTopKSkipSortGpuTest.*:Sweep/SelectTopKSplitGpuTest.*/1' ||
      { [[ $? -eq 3 ]] && failed=1; }
    run_step sanitizer-racecheck "${third}" "${sanitizer}" --tool racecheck --error-exitcode 3 \
      "${root}/bin/select_topk_gpu_test" --gtest_brief=1 \
      --gtest_filter='Sweep/SelectTopKSkipSortGpuTest.*' || { [[ $? -eq 3 ]] && failed=1; }
  fi
fi

echo "== summary ($((SECONDS - start)) s)"
for r in "${results[@]}"; do echo "  ${r}"; done
for r in "${results[@]}"; do [[ "${r}" == *TIMEOUT* && "${r}" == *_test* ]] && failed=1; done
echo "== done: $([[ ${failed} -eq 0 ]] && echo all tests passed || echo FAILURES)"
exit "${failed}"
