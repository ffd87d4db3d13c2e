#!/usr/bin/env bash
# What the server writes about people (galleries, write-ahead logs,
# snapshots, calibrations, the audit log and its key and checkpoint) is
# readable by its owner only: every file 0600 or narrower, every folder
# 0700, whatever the umask.
#
#   file_modes_test.sh CANDOR_SERVER CANDOR_CLI
set -euo pipefail
server_bin=$1
cli=$2

# shellcheck source=tests/lib/candor_server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/candor_server.sh"
candor_scratch_dir
work=$CANDOR_WORK
umask 022
start_candor_server "$server_bin" "$work" --metrics_listen=
addr=$CANDOR_ADDR

"$cli" synth --out "$work/set" --subjects 30 --per-subject 2 --dim 8 \
  --mated-probes 4 --nonmated-subjects 1 --seed 2 >/dev/null
"$cli" --server "$addr" gallery create g --dim 8 >/dev/null
"$cli" --server "$addr" enroll g --vectors "$work/set/gallery.npy" \
  --meta "$work/set/gallery.csv" >/dev/null
"$cli" --server "$addr" calibrate g --self-audit 20 >/dev/null
"$cli" --server "$addr" remove g --subject subj-3 >/dev/null
"$cli" --server "$addr" gallery compact g >/dev/null
stop_candor_server

wide=$(find "$work/data" \( -type f -perm /077 \) -o \( -type d -perm /077 \))
if [[ -n "$wide" ]]; then
  echo "FAIL: readable or writable by group or others:"
  find "$work/data" \( -perm /077 \) -printf '%m %p\n'
  exit 1
fi
for kind in 'galleries/*' 'calibrations/*' 'audit/audit-*' audit.key audit-checkpoint.json; do
  # shellcheck disable=SC2086  # the pattern is meant to expand
  compgen -G "$work/data/$kind" >/dev/null || { echo "FAIL: nothing matches $kind"; exit 1; }
done
echo "file modes: $(find "$work/data" -type f | wc -l) files and $(find "$work/data" -type d | wc -l) folders, owner only"
