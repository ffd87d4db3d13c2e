# shellcheck shell=bash
# Sourced by the shell tests that need a real candor-server on loopback.
#
#   source tests/lib/candor_server.sh
#   start_candor_server SERVER_BIN WORK_DIR [extra server flags...]
#
# Starts the server on a port the kernel picks, with its data in
# WORK_DIR/data and its log in WORK_DIR/server.log, waits until it serves,
# and sets CANDOR_PID and CANDOR_ADDR (127.0.0.1:PORT). Exits the test with
# FAIL and the log when the server exits or does not come up within 30 s.
#
#   candor_scratch_dir
#
# Sets CANDOR_WORK to a fresh scratch directory and an EXIT trap that stops
# the server, kills the processes listed in CANDOR_OTHER_PIDS, and removes
# the directory.

CANDOR_PID=""
# shellcheck disable=SC2034  # read by the scripts that source this file
CANDOR_ADDR=""
CANDOR_WORK=""
CANDOR_OTHER_PIDS=()

candor_scratch_dir() {
  CANDOR_WORK=$(mktemp -d)
  trap candor_cleanup EXIT
}

candor_cleanup() {
  stop_candor_server
  local pid
  for pid in "${CANDOR_OTHER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -n "$CANDOR_WORK" ]] && rm -rf "$CANDOR_WORK"
}

start_candor_server() {
  local bin=$1 work=$2
  shift 2
  rm -f "$work/server.port"
  "$bin" --listen=127.0.0.1:0 --data_dir="$work/data" \
    --port_file="$work/server.port" "$@" 2>"$work/server.log" &
  CANDOR_PID=$!
  local port=""
  for _ in $(seq 300); do
    # Written (atomically) once the server listens.
    [[ -s "$work/server.port" ]] && port=$(<"$work/server.port")
    [[ -n "$port" ]] && break
    kill -0 "$CANDOR_PID" 2>/dev/null || break  # it exited: no point waiting
    sleep 0.1
  done
  if [[ -z "$port" ]]; then
    echo "FAIL: server did not start"
    cat "$work/server.log"
    exit 1
  fi
  # shellcheck disable=SC2034
  CANDOR_ADDR="127.0.0.1:${port}"
}

stop_candor_server() {
  if [[ -n "$CANDOR_PID" ]]; then
    kill "$CANDOR_PID" 2>/dev/null || true
    wait "$CANDOR_PID" 2>/dev/null || true
    CANDOR_PID=""
  fi
}
