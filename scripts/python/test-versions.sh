#!/usr/bin/env bash
# Tests the Python client against the oldest and the newest releases of its
# dependencies, each in its own venv (.venv-floor, .venv-newest):
#
#   floor   clients/python/constraints-floor.txt: the floors pyproject.toml
#           states (grpcio 1.62.3, protobuf 4.25.3, ...), kept between runs
#   newest  every dependency upgraded to its newest release (at most daily)
#
#   CANDOR_SERVER_BIN=build/server/candor-server scripts/python/test-versions.sh floor|newest [pytest args]
#
# It checks that the venv holds the versions it is meant to, imports the
# generated stubs with warnings as errors (a gencode/runtime mismatch warns),
# then runs the client's pytest suite. Needs the package index (pip's cache
# makes repeated runs download nothing new).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KIND="${1:?usage: test-versions.sh floor|newest [pytest args]}"
shift
export VENV="${ROOT}/.venv-${KIND}"
FLOOR="${ROOT}/clients/python/constraints-floor.txt"
case "${KIND}" in
  floor) export CANDOR_PY_CONSTRAINTS="${FLOOR}" ;;
  # Upgrading asks the index about every package and rebuilds the client
  # (about a minute): done when the venv is a day old, or when asked
  # (CANDOR_PY_UPGRADE=1); in between the venv is only refreshed when the
  # client's sources change.
  newest)
    stamp="${VENV}/.candor-client-stamp"
    if [[ -z "${CANDOR_PY_UPGRADE:-}" ]]; then
      if [[ -f "${stamp}" && -n "$(find "${stamp}" -mmin -1440)" ]]; then
        export CANDOR_PY_UPGRADE=0
      else
        export CANDOR_PY_UPGRADE=1
      fi
    fi ;;
  *) echo "test-versions.sh: floor or newest, not ${KIND}" >&2; exit 2 ;;
esac

start=${SECONDS}
bash "${ROOT}/scripts/python/setup-venv.sh" >&2
echo "venv ready in $((SECONDS - start)) s" >&2

"${VENV}/bin/python" -W error - "${KIND}" "${FLOOR}" <<'PY'
import sys
from importlib import metadata

import candor, candor.aio, candor.v1.candor_pb2, candor.v1.candor_pb2_grpc  # noqa: F401

kind, floor_file = sys.argv[1], sys.argv[2]
names = ["grpcio", "grpcio-status", "protobuf", "googleapis-common-protos", "numpy"]
have = {n: metadata.version(n) for n in names}
print(f"candor-client {candor.__version__} ({kind}):", ", ".join(f"{n} {v}" for n, v in have.items()))
if kind == "floor":
    pins = {}
    with open(floor_file) as f:
        lines = f.read().splitlines()
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name] = version
    wrong = {n: (have.get(n), v) for n, v in pins.items() if have.get(n) != v}
    if wrong:
        sys.exit(f"the floor venv does not hold the floors: {wrong}")
PY

cd "${ROOT}/clients/python"
exec "${VENV}/bin/python" -P -m pytest -p no:cacheprovider -q "$@"
