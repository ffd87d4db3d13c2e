#!/usr/bin/env bash
# Creates the repository's Python virtual environment in .venv/ (or $VENV)
# and installs the candor Python client (clients/python) with the test tools.
# Idempotent: reruns reuse the venv and reinstall the client, so the stubs
# always match proto/candor/v1/candor.proto.
#
#   scripts/python/setup-venv.sh            # creates/updates .venv
#   .venv/bin/python -m pytest clients/python/tests
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${VENV:-${ROOT}/.venv}"
PYTHON="${PYTHON:-python3}"

if [[ ! -x "${VENV}/bin/python" ]]; then
  "${PYTHON}" -m venv "${VENV}"
fi

PIP=("${VENV}/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip
# Test tools only; the client's own dependencies come from its pyproject.toml.
"${PIP[@]}" install "pytest>=7,<9"
# pip always rebuilds and reinstalls a local directory, so the stubs are
# regenerated from the current proto on every run; satisfied dependencies
# are kept.
"${PIP[@]}" install "${ROOT}/clients/python"

"${VENV}/bin/python" -c 'import candor, candor.v1.candor_pb2; print("candor", candor.__version__, "ready in", "'"${VENV}"'")'
