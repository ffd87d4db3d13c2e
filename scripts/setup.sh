#!/usr/bin/env bash
# One command from a fresh Debian machine to a built candor: installs every
# dependency from Debian's packages, builds everything, and prepares the
# Python client's virtual environment.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"${ROOT}/scripts/install-deps.sh"
"${ROOT}/scripts/build.sh" "$@"
"${ROOT}/scripts/python/setup-venv.sh"
