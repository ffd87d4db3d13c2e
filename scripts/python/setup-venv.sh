#!/usr/bin/env bash
# Creates the repository's Python virtual environment in .venv/ (or $VENV)
# and installs the candor Python client (clients/python) with pytest.
# Idempotent. Reinstalls the client only when its sources or the proto
# changed since the last install (a stamp in the venv), unless --force.
#
#   scripts/python/setup-venv.sh [--force]
#   .venv/bin/python -m pytest clients/python/tests
#
# CANDOR_PY_CONSTRAINTS=FILE installs under pip constraints (the supported
# floors: clients/python/constraints-floor.txt); CANDOR_PY_UPGRADE=1 upgrades
# every dependency to its newest release on each run. Both are what
# scripts/python/test-versions.sh uses. pip keeps its download cache, so a
# repeated install downloads nothing it already has.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${VENV:-${ROOT}/.venv}"
PYTHON="${PYTHON:-python3}"
CONSTRAINTS="${CANDOR_PY_CONSTRAINTS:-}"
UPGRADE="${CANDOR_PY_UPGRADE:-0}"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

# What the installed client is built from; its hash is the stamp.
source_hash() {
  (cd "${ROOT}" && find clients/python/candor clients/python/setup.py \
      clients/python/pyproject.toml proto/candor -type f \
      \( -name '*.py' -o -name '*.proto' -o -name '*.toml' -o -name 'py.typed' \) \
      -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum
   [[ -n "${CONSTRAINTS}" ]] && sha256sum "${CONSTRAINTS}"; true) | sha256sum | cut -d' ' -f1
}
STAMP="${VENV}/.candor-client-stamp"
WANT="$(source_hash)"

if [[ ! -x "${VENV}/bin/python" ]]; then
  "${PYTHON}" -m venv "${VENV}"
  FORCE=1
fi
if [[ ${FORCE} -eq 0 && ${UPGRADE} != 1 && -f "${STAMP}" && "$(cat "${STAMP}")" == "${WANT}" ]] &&
   "${VENV}/bin/python" -c 'import candor.v1.candor_pb2, pytest' 2>/dev/null; then
  echo "candor Python client up to date in ${VENV}"
  exit 0
fi

PIP=("${VENV}/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip
# The distribution was called `candor` before it became `candor-client`; an
# old install of it would own the same files.
if "${PIP[@]}" show candor >/dev/null 2>&1; then "${PIP[@]}" uninstall -y candor; fi
EXTRA=()
[[ -n "${CONSTRAINTS}" ]] && EXTRA+=(--constraint "${CONSTRAINTS}")
[[ "${UPGRADE}" == 1 ]] && EXTRA+=(--upgrade --upgrade-strategy eager)
# Test tools only; the client's own dependencies come from its pyproject.toml.
"${PIP[@]}" install "${EXTRA[@]}" "pytest>=7,<9"
# pip always rebuilds a local directory, so the stubs are regenerated from
# the current proto; dependencies already satisfied are kept.
"${PIP[@]}" install "${EXTRA[@]}" "${ROOT}/clients/python"
rm -rf "${ROOT}/clients/python/build"  # setuptools' in-tree build folder

"${VENV}/bin/python" -c 'import candor, candor.v1.candor_pb2; print("candor-client", candor.__version__, "installed")'
echo "${WANT}" > "${STAMP}"
