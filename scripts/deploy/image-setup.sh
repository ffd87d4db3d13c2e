#!/usr/bin/env bash
# The runtime stage of both images: installs the packages of a
# runtime-packages.txt (written by build-release.sh) and creates the
# unprivileged user the server runs as (uid/gid 10001) and its data folder.
# The image smoke test (tests/image) runs the same script in its root file
# system, where the packages are already installed, so apt is skipped.
#
#   scripts/deploy/image-setup.sh RUNTIME_PACKAGES
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: image-setup.sh RUNTIME_PACKAGES" >&2
  exit 2
fi
mapfile -t packages < <(grep -vE '^[[:space:]]*(#|$)' "$1")
if [[ ${#packages[@]} -eq 0 ]]; then
  echo "image-setup.sh: $1 names no package" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
installed=$(dpkg-query -W -f='${db:Status-Status}\n' "${packages[@]}" 2>/dev/null |
  grep -cx installed || true)
if [[ $installed -ne ${#packages[@]} ]]; then
  # Not pinned: the base image's tag fixes the release, and the archive
  # serves one version per package (a pin breaks on the next security update).
  apt-get update
  apt-get install -y --no-install-recommends "${packages[@]}"
  rm -rf /var/lib/apt/lists/*
fi

groupadd --system --gid 10001 candor
useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/candor \
  --no-create-home --shell /usr/sbin/nologin candor
install -d -o candor -g candor -m 0750 /var/lib/candor
