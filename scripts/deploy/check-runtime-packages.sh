#!/usr/bin/env bash
# Checks that a Dockerfile's runtime stage installs every package the staged
# binaries need: each package in RUNTIME_PACKAGES (as written by
# runtime-packages.sh) must be named in the runtime stage's apt-get install,
# be a dependency of one that is, or come with the Debian base image.
#
#   scripts/deploy/check-runtime-packages.sh RUNTIME_PACKAGES DOCKERFILE
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: check-runtime-packages.sh RUNTIME_PACKAGES DOCKERFILE" >&2
  exit 2
fi
needed_file=$1
dockerfile=$2

# debian:bookworm-slim carries these (Priority: required, or needed by apt).
base=(libc6 libgcc-s1 libstdc++6 zlib1g libzstd1 liblzma5 libbz2-1.0)

# The package names after `apt-get install` in the last stage, up to the
# first && of the next command.
listed=$(awk '/^FROM /{stage=""} {stage=stage $0 "\n"} END{printf "%s", stage}' "$dockerfile" |
  sed -e 's/\\$//' | tr '\n' ' ' |
  grep -oE 'apt-get install [^&]*' | head -n 1 |
  tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vxE 'apt-get|install' || true)
if [[ -z $listed ]]; then
  echo "check-runtime-packages.sh: no apt-get install in the last stage of $dockerfile" >&2
  exit 1
fi
# shellcheck disable=SC2086 # one package name a word
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
  --no-breaks --no-replaces --no-enhances $listed 2>/dev/null |
  grep -E '^[a-z0-9]' | sed 's/:.*//' | sort -u)

missing=()
while read -r pkg; do
  [[ -z $pkg ]] && continue
  if printf '%s\n' "${base[@]}" | grep -qxF "$pkg"; then continue; fi
  if grep -qxF "$pkg" <<<"$closure"; then continue; fi
  missing+=("$pkg")
done <"$needed_file"

if [[ ${#missing[@]} -gt 0 ]]; then
  echo "check-runtime-packages.sh: $dockerfile's runtime stage lacks: ${missing[*]}" >&2
  exit 1
fi
echo "check-runtime-packages.sh: $(wc -l <"$needed_file") needed packages covered by $dockerfile"
