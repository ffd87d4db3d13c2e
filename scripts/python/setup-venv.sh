#!/usr/bin/env bash
# Creates the repository's Python virtual environment in .venv/ (or $VENV)
# and installs the candor Python client (clients/python) with pytest.
# Idempotent. Reinstalls the client only when its sources or the proto
# changed since the last install (a stamp in the venv), unless --force.
#
#   scripts/python/setup-venv.sh [--force]
#   .venv/bin/python -m pytest clients/python/tests
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${VENV:-${ROOT}/.venv}"
PYTHON="${PYTHON:-python3}"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

# What the installed client is built from; its hash is the stamp.
source_hash() {
  (cd "${ROOT}" && find clients/python/candor clients/python/setup.py \
      clients/python/pyproject.toml proto/candor -type f \
      \( -name '*.py' -o -name '*.proto' -o -name '*.toml' -o -name 'py.typed' \) \
      -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}
STAMP="${VENV}/.candor-client-stamp"
WANT="$(source_hash)"

if [[ ! -x "${VENV}/bin/python" ]]; then
  "${PYTHON}" -m venv "${VENV}"
  FORCE=1
fi
if [[ ${FORCE} -eq 0 && -f "${STAMP}" && "$(cat "${STAMP}")" == "${WANT}" ]] &&
   "${VENV}/bin/python" -c 'import candor.v1.candor_pb2, pytest' 2>/dev/null; then
  echo "candor Python client up to date in ${VENV}"
  exit 0
fi

PIP=("${VENV}/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip
# Test tools only; the client's own dependencies come from its pyproject.toml.
"${PIP[@]}" install "pytest>=7,<9"
# pip always rebuilds a local directory, so the stubs are regenerated from
# the current proto; dependencies already satisfied are kept.
"${PIP[@]}" install "${ROOT}/clients/python"
rm -rf "${ROOT}/clients/python/build"  # setuptools' in-tree build folder

"${VENV}/bin/python" -c 'import candor, candor.v1.candor_pb2; print("candor", candor.__version__, "installed")'
echo "${WANT}" > "${STAMP}"
