#!/usr/bin/env bash
# The AddressSanitizer + UBSan run, part of scripts/test.sh: builds the unit
# and integration tests and the fuzz targets of tests/fuzz with clang,
# -fsanitize=address,undefined and libFuzzer into build-asan/ (or
# $CANDOR_ASAN_BUILD_DIR), without CUDA; runs the unit and integration
# tests, then each fuzz target (every parser of untrusted bytes:
# write-ahead log segments, snapshots, manifests, calibrations, the audit
# verifier, the CLI's .npy and CSV readers, and the request path through a
# real in-process server) from its committed seed corpus for
# CANDOR_FUZZ_SECONDS (default 20). Any sanitizer report fails the run; a
# fuzzer's crash, timeout or leak leaves its input as crash-*/timeout-*/
# leak-* in build-asan/tests/fuzz.
#
#   scripts/test-asan.sh                    # tests, then 20 s per fuzz target
#   CANDOR_FUZZ_SECONDS=600 scripts/test-asan.sh -L fuzz   # fuzz longer, by hand
#   scripts/test-asan.sh -R Gallery         # some tests only
#
# With ctest options only the tests they select run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${CANDOR_ASAN_BUILD_DIR:-${ROOT}/build-asan}"
JOBS="${CANDOR_JOBS:-$(nproc)}"
export CCACHE_BASEDIR="${ROOT}"

CC=clang CXX=clang++ cmake -S "${ROOT}" -B "${BUILD}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCANDOR_FUZZ=ON -DCANDOR_ASAN=ON \
  -DCANDOR_CUDA=OFF >/dev/null
cmake --build "${BUILD}" -j"${JOBS}"

# Leaks are checked by the fuzz targets (their inputs are hostile); the
# tests' servers end by exit paths that keep Debian gRPC's globals alive.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
cd "${BUILD}"
if [[ $# -gt 0 ]]; then
  exec ctest --output-on-failure -j"${CANDOR_TEST_JOBS:-2}" --timeout 1200 "$@"
fi
# load_smoke (the load benchmark's smoke run, which the main suite runs
# uninstrumented) is left out: under ASan it failed on a busy 2-core
# machine (failed calls, which it counts as errors) and passed alone; the
# cause is not yet known.
ctest --output-on-failure -j"${CANDOR_TEST_JOBS:-2}" --timeout 1200 \
  -L '^(unit|integration)$' -E '^load_smoke$'
ctest --output-on-failure -j"${CANDOR_TEST_JOBS:-2}" -L '^fuzz$'
