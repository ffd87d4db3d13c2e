#!/usr/bin/env bash
# Runs every test: sets up and builds first (idempotent and quick when
# already done), then the whole CTest suite: unit, integration, Python
# client, deployment manifests, benchmark smoke runs, and the GPU tests
# (label gpu), which skip with a message where no CUDA device exists.
#
#   scripts/test.sh [ctest options, e.g. -L unit or -R Gallery]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${CANDOR_BUILD_DIR:-${ROOT}/build}"
"${ROOT}/scripts/setup.sh"
cd "${BUILD}"
ctest --output-on-failure -j"${CANDOR_TEST_JOBS:-2}" --timeout 1200 "$@"
