#!/usr/bin/env bash
# The bf16 row of bench/cpu_limit.sh: candor-bf16-bench on the same shape
# (a bf16 and an fp32 gallery index on the same rows, in process): probes/s
# of each and their ratio (target >= 1.6 where the CPU has AVX512_BF16),
# every probe's answer compared (mismatches must be 0), bytes per entry of
# each, and the bf16 figure against the GEMM limit cpu_limit.sh measured.
#
#   bench/bf16/bf16_row.sh BUILD_DIR ENTRIES DIM BATCH TOP_K [LIMIT] [--quick]
#
# --quick compares 2,048 probes instead of 10,000. Bounded by `timeout`.
set -uo pipefail
BUILD="$1"; ENTRIES="$2"; DIM="$3"; BATCH="$4"; TOP_K="$5"; LIMIT="${6:-}"
CHECK=10000
[[ "${7:-}" == --quick ]] && CHECK=2048
BENCH="${BUILD}/bench/bf16/candor-bf16-bench"
if [[ ! -x "${BENCH}" ]]; then
  echo "bf16 row: ${BENCH} not built (target candor-bf16-bench)" >&2
  exit 1
fi
OUT="$(mktemp "${TMPDIR:-/tmp}/candor-bf16-row.XXXXXX")"
trap 'rm -f "${OUT}"' EXIT
timeout 3600 "${BENCH}" --entries="${ENTRIES}" --dim="${DIM}" --batch="${BATCH}" \
  --top_k="${TOP_K}" --threshold=-1 --rounds=5 --check_probes="${CHECK}" > "${OUT}" 2>&1
rc=$?
sed 's/^/  /' "${OUT}" | grep -v '^  RESULT '
bf16=$(sed -n 's/^RESULT .* bf16_probes_per_s=\([^ ]*\).*/\1/p' "${OUT}")
if [[ -n "${LIMIT}" && -n "${bf16}" ]]; then
  printf '%-44s %10s probes/s  %s x limit (fp32 GEMM)\n' "cpu-bf16 in process" "${bf16}" \
    "$(python3 -c "print(f'{float(\"${bf16}\") / float(\"${LIMIT}\"):.2f}')" 2>/dev/null || echo n/a)"
fi
[[ ${rc} == 0 ]] || echo "bf16 row: candor-bf16-bench exited ${rc} (2: answers differ)" >&2
exit "${rc}"
