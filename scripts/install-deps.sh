#!/usr/bin/env bash
# Installs every build and test dependency of candor from Debian's packages
# (and the Python client's from PyPI). Idempotent; safe to run twice.
set -euo pipefail

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

DEBIAN_PACKAGES=(
  build-essential cmake pkg-config git ccache
  # RPC: gRPC C++ with its codegen plugin, Protobuf
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  # Utilities: Abseil (Status, flags, synchronization, strings, time)
  libabsl-dev
  # Index: FAISS (CPU) over OpenBLAS
  libfaiss-dev libopenblas-dev
  # Tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # Metrics: prometheus-cpp (registry + civetweb exposer); the real Prometheus
  # server scrapes candor in the integration test
  prometheus-cpp-dev prometheus
  # Checksums (zlib crc32), audit-chain hashing (OpenSSL SHA-256), JSON
  zlib1g-dev libssl-dev nlohmann-json3-dev
  # CLI option parsing (subcommands, hyphenated options)
  libcli11-dev
  # /metrics HTTP server (GNU libmicrohttpd)
  libmicrohttpd-dev
  # Python client and tests
  python3 python3-pip python3-venv python3-grpcio
  # The CPU image's smoke test (tests/image): a Debian root file system without Docker
  mmdebstrap
)

export DEBIAN_FRONTEND=noninteractive
if ! dpkg -s "${DEBIAN_PACKAGES[@]}" >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${DEBIAN_PACKAGES[@]}"
fi

# The CPU flat index's GEMM: a current OpenBLAS from PyPI (scipy-openblas32,
# the build numpy and SciPy ship; symbols prefixed scipy_), because Debian
# 12's OpenBLAS 0.3.21 does not recognise current CPUs (server/index/
# cpu_blas.h). Into a project-local folder (pip --target: no venv, no
# system Python change), where CMake finds its pkg-config file
# (cmake/FindScipyOpenBLAS.cmake). Pinned: the version CI measured. About
# 8 MB, a few seconds; skipped when that version is already there.
SCIPY_OPENBLAS_VERSION="0.3.34.481.3"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BLAS_DIR="${CANDOR_DEPS_DIR:-${ROOT}/.deps}/scipy-openblas32"
if [[ ! -f "${BLAS_DIR}/scipy_openblas32-${SCIPY_OPENBLAS_VERSION}.dist-info/RECORD" ]]; then
  rm -rf "${BLAS_DIR}"
  python3 -m pip install --disable-pip-version-check -q --no-deps \
    --target "${BLAS_DIR}" "scipy-openblas32==${SCIPY_OPENBLAS_VERSION}"
fi
