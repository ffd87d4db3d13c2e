#!/usr/bin/env bash
# Runs every test: sets up and builds first (idempotent and quick when
# already done), then the whole CTest suite: unit, integration, Python
# client, deployment manifests, benchmark smoke runs, and the GPU tests
# (label gpu), which skip with a message where no CUDA device exists.
# Then the ThreadSanitizer run (scripts/test-tsan.sh: the batcher and the
# many-client concurrency test built with -fsanitize=thread, three rounds)
# and the AddressSanitizer + UBSan run (scripts/test-asan.sh: the unit and
# integration tests built with clang and -fsanitize=address,undefined, then
# every fuzz target for 20 s).
#
#   scripts/test.sh [ctest options, e.g. -L unit or -R Gallery]
#
# With ctest options only the main suite runs, filtered; CANDOR_SKIP_TSAN=1
# leaves out the TSAN run, CANDOR_SKIP_ASAN=1 the ASan + UBSan run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${CANDOR_BUILD_DIR:-${ROOT}/build}"
"${ROOT}/scripts/setup.sh"
cd "${BUILD}"
ctest --output-on-failure -j"${CANDOR_TEST_JOBS:-2}" --timeout 1200 "$@"
if [[ $# -eq 0 && "${CANDOR_SKIP_TSAN:-0}" != 1 ]]; then
  "${ROOT}/scripts/test-tsan.sh" --repeat until-fail:3
fi
if [[ $# -eq 0 && "${CANDOR_SKIP_ASAN:-0}" != 1 ]]; then
  "${ROOT}/scripts/test-asan.sh"
fi
