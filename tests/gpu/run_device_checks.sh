#!/usr/bin/env bash
# The one prepared script for a GPU machine: runs candor's GPU tests and the
# GPU benchmark from a bundle made by scripts/gpu/bundle.sh, and writes all
# output to one log ($OUT/device-checks.log when $OUT is set, else
# ./device-checks.log).
#
#   tests/gpu/run_device_checks.sh BUNDLE_DIR [full|smoke]
#
# smoke (default) runs the benchmark's quick variant; full runs the whole
# matrix (1M and 10M galleries; a few minutes). Each binary runs under a
# time limit (TEST_TIMEOUT_S, default 300; BENCH_TIMEOUT_S, default 480) so
# that a hang cannot eat the machine's lease. Exit status: non-zero when any
# test binary failed.
set -uo pipefail

bundle="$(realpath "${1:?usage: $0 BUNDLE_DIR [full|smoke]}")"
mode="${2:-smoke}"
test_timeout_s="${TEST_TIMEOUT_S:-300}"
bench_timeout_s="${BENCH_TIMEOUT_S:-480}"
log="${OUT:-.}/device-checks.log"
mkdir -p "$(dirname "${log}")"
exec > >(tee "${log}") 2>&1

echo "== candor device checks: $(date -u +%Y-%m-%dT%H:%M:%SZ), mode ${mode}"
root="${bundle}"
if [[ -f "${bundle}/bundle.tar.zst" ]]; then
  root="$(mktemp -d)"
  zstd_bin="$(command -v zstd || echo "${bundle}/tools/zstd")"
  LD_LIBRARY_PATH="${bundle}/tools/lib${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}" \
    "${zstd_bin}" -d -q -c "${bundle}/bundle.tar.zst" | tar -C "${root}" -xf - ||
    { echo "error: cannot unpack ${bundle}/bundle.tar.zst"; exit 1; }
fi
[[ -f "${root}/MANIFEST" ]] && cat "${root}/MANIFEST"
# Bundled libraries first; the machine's CUDA libraries after them.
cuda_libs=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [[ -d "${d}" ]] && cuda_libs="${cuda_libs}:${d}"
done
export LD_LIBRARY_PATH="${root}/lib${cuda_libs}${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}"
echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH}"

echo "== nvidia-smi"
nvidia-smi || echo "(nvidia-smi failed)"

failed=0
echo "== GPU tests"
for t in "${root}"/bin/*_test; do
  [[ -x "${t}" ]] || continue
  echo "-- $(basename "${t}")"
  # Missing libraries show here, before any test runs.
  ldd "${t}" | grep 'not found' && failed=1
  if ! timeout "${test_timeout_s}" "${t}" --gtest_brief=1; then
    echo "FAILED: $(basename "${t}")"
    failed=1
  fi
done

echo "== GPU benchmark"
bench="${root}/bin/candor_gpu_bench"
if [[ -x "${bench}" ]]; then
  if [[ "${mode}" == "full" ]]; then
    timeout "${bench_timeout_s}" "${bench}" --benchmark_min_time=0.2 --benchmark_counters_tabular=true \
      --benchmark_out="${OUT:-.}/gpu-bench.json" --benchmark_out_format=json ||
      echo "(benchmark exited with $?)"
  else
    timeout "${bench_timeout_s}" "${bench}" --benchmark_filter=Smoke --benchmark_counters_tabular=true ||
      echo "(benchmark exited with $?)"
  fi
else
  echo "(no candor_gpu_bench in the bundle)"
fi

echo "== done: $([[ ${failed} -eq 0 ]] && echo all tests passed || echo FAILURES)"
exit "${failed}"
