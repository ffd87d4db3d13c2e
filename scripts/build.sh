#!/usr/bin/env bash
# Configures and builds candor into build/ (or $CANDOR_BUILD_DIR).
# CUDA code is compiled wherever nvcc is found (no GPU needed to build).
#
#   scripts/build.sh [extra cmake -D options]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${CANDOR_BUILD_DIR:-${ROOT}/build}"
JOBS="${CANDOR_JOBS:-$(nproc)}"

# nvcc lives outside PATH in a default CUDA install.
if ! command -v nvcc >/dev/null 2>&1 && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:${PATH}"
fi
# Generated sources sit in each build tree; ccache matches them across trees
# when paths are taken relative to the checkout.
export CCACHE_BASEDIR="${ROOT}"

cmake -S "${ROOT}" -B "${BUILD}" -DCMAKE_BUILD_TYPE="${CANDOR_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "${BUILD}" -j"${JOBS}"
