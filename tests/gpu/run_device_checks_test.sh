#!/usr/bin/env bash
# run_device_checks.sh bounds a hang: against a fake bundle whose first test
# never ends, the step is cut off at the deadline, reported as a TIMEOUT and
# a failure, and the next step is not started. No GPU needed.
set -uo pipefail
script="$(cd "$(dirname "$0")" && pwd)/run_device_checks.sh"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
mkdir -p "${work}/bundle/bin" "${work}/out"
printf '#!/bin/sh\nsleep 60\n' >"${work}/bundle/bin/normalize_gpu_test"
printf '#!/bin/sh\necho ran\n' >"${work}/bundle/bin/select_topk_gpu_test"
chmod +x "${work}"/bundle/bin/*

start=${SECONDS}
OUT="${work}/out" CANDOR_MIN_STEP_S=1 "${script}" --deadline 3 \
  --steps normalize_gpu_test,select_topk_gpu_test "${work}/bundle" >/dev/null 2>&1
rc=$?
elapsed=$((SECONDS - start))
log="${work}/out/device-checks.log"
fail() { echo "FAIL: $*"; cat "${log}"; exit 1; }
[[ ${rc} -ne 0 ]] || fail "exit status 0 after a hung test"
grep -q "TIMEOUT: normalize_gpu_test" "${log}" || fail "no TIMEOUT line"
grep -q "select_topk_gpu_test: not started" "${log}" || fail "the next step started"
grep -q "^ran$" "${log}" && fail "the next step ran"
# The 3 s deadline, the kill grace, and slack for a loaded machine.
((elapsed <= 12)) || fail "took ${elapsed} s"
echo "ok: hung step cut off in ${elapsed} s"
