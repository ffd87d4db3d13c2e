#!/usr/bin/env bash
# Stages the built binaries as the image build does (build-release.sh
# --stage-only) and checks that the CPU image's runtime stage installs every
# package their shared libraries come from.
#   runtime_packages_test.sh BUILD_DIR
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
"$repo/scripts/deploy/build-release.sh" --stage-only --build-dir "$1" --prefix "$stage"
test -x "$stage/bin/candor-server"
test -x "$stage/bin/candor-health"
"$repo/scripts/deploy/check-runtime-packages.sh" \
  "$stage/share/candor/runtime-packages.txt" "$repo/deploy/docker/cpu.Dockerfile"
