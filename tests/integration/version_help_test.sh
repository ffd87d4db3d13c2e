#!/usr/bin/env bash
# candor-server and candor print one version, the top-level CMake
# project()'s, with the git commit they were built from; candor-server
# --help lists candor's own flags and --helpfull every flag.
#
#   version_help_test.sh CANDOR_SERVER CANDOR_CLI PROJECT_VERSION SOURCE_DIR
set -euo pipefail
server_bin=$1
cli_bin=$2
version=$3
source_dir=$4
fail() { echo "FAIL: $*" >&2; exit 1; }

server_line=$("$server_bin" --version)
cli_line=$("$cli_bin" --version)
echo "candor-server --version: ${server_line}"
echo "candor --version: ${cli_line}"
[[ "$server_line" == "$cli_line" ]] || fail "the two binaries disagree"
[[ "$server_line" =~ ^candor\ ${version//./\\.}\ \(commit\ ([0-9a-f]{12}(-dirty)?|unknown)\)$ ]] ||
  fail "'${server_line}' is not 'candor ${version} (commit <sha>)'"
if git -C "$source_dir" rev-parse HEAD >/dev/null 2>&1; then
  # Built from this checkout: a commit of it (HEAD when built; others may
  # have committed since), not "unknown".
  commit=${BASH_REMATCH[1]%-dirty}
  git -C "$source_dir" cat-file -e "${commit}^{commit}" 2>/dev/null ||
    fail "'${commit}' is not a commit of ${source_dir}"
fi

help=$("$server_bin" --help 2>&1 || true)
for flag in listen data_dir metrics_listen metrics_max_groups max_fpir tls_cert role shards; do
  grep -q -- "--${flag} " <<<"$help" || fail "--help does not list --${flag}"
done
! grep -q -- "--flagfile " <<<"$help" || fail "--help lists absl's --flagfile (that is --helpfull's)"
helpfull=$("$server_bin" --helpfull 2>&1 || true)
grep -q -- "--flagfile " <<<"$helpfull" || fail "--helpfull does not list --flagfile"
grep -q -- "--listen " <<<"$helpfull" || fail "--helpfull does not list --listen"
echo "PASS"
