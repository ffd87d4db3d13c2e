#!/usr/bin/env bash
# The fuzzing run: builds the targets of tests/fuzz (every parser of
# untrusted bytes: write-ahead log segments, snapshots, manifests,
# calibrations, the audit verifier, the CLI's .npy and CSV readers, and the
# request path through a real in-process server) with clang, libFuzzer,
# AddressSanitizer and UBSan into build-fuzz/ (or $CANDOR_FUZZ_BUILD_DIR),
# then runs each from its committed seed corpus for CANDOR_FUZZ_SECONDS
# (default 20; longer by hand, e.g. CANDOR_FUZZ_SECONDS=600). A crash, a
# sanitizer report, a timeout or a leak fails the run and leaves the input
# as crash-*/timeout-*/leak-* in build-fuzz/tests/fuzz.
#
#   scripts/test-fuzz.sh [ctest options, e.g. -R fuzz.npy]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${CANDOR_FUZZ_BUILD_DIR:-${ROOT}/build-fuzz}"
JOBS="${CANDOR_JOBS:-$(nproc)}"
export CCACHE_BASEDIR="${ROOT}"

TARGETS=(wal_segment_fuzz snapshot_fuzz manifest_fuzz calibration_fuzz
         audit_verify_fuzz npy_fuzz csv_fuzz request_fuzz)

CC=clang CXX=clang++ cmake -S "${ROOT}" -B "${BUILD}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCANDOR_FUZZ=ON -DCANDOR_ASAN=ON \
  -DCANDOR_CUDA=OFF >/dev/null
cmake --build "${BUILD}" -j"${JOBS}" --target "${TARGETS[@]}"
cd "${BUILD}"
ctest --output-on-failure -j"${CANDOR_TEST_JOBS:-2}" -L fuzz "$@"
