#!/usr/bin/env bash
# Runs the Python client's pytest suite from the repository's venv, making
# or refreshing the venv first when needed (scripts/python/setup-venv.sh).
#
#   CANDOR_SERVER_BIN=build/server/candor-server scripts/python/run-tests.sh [pytest args]
#
# Without CANDOR_SERVER_BIN the tests that need a server skip.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${VENV:-${ROOT}/.venv}"

bash "${ROOT}/scripts/python/setup-venv.sh" >&2
cd "${ROOT}/clients/python"
# -p no:cacheprovider: leave no .pytest_cache in the source tree. Run from
# clients/python only for its pytest settings; the package is imported from
# the venv (import mode importlib, see pyproject.toml).
exec "${VENV}/bin/python" -P -m pytest -p no:cacheprovider "$@"
