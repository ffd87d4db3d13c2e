#!/usr/bin/env bash
# Checks that a Dockerfile's runtime stage installs exactly the packages
# build-release.sh derived from the binaries, so that no hand-written list can
# fall behind what the binaries link:
#   - the last stage copies share/candor/ from the build stage and runs
#     image-setup.sh on its runtime-packages.txt, after that copy;
#   - no other apt-get install in that stage (a second list would drift);
#   - RUNTIME_PACKAGES names at least one package, and where the stage's
#     base is this machine's release (the CPU image: Debian bookworm), each
#     one is in this machine's archive (apt-cache policy has a candidate).
#
#   scripts/deploy/check-runtime-packages.sh RUNTIME_PACKAGES DOCKERFILE
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: check-runtime-packages.sh RUNTIME_PACKAGES DOCKERFILE" >&2
  exit 2
fi
needed_file=$1
dockerfile=$2
fail() {
  echo "check-runtime-packages.sh: $dockerfile: $*" >&2
  exit 1
}

# The last stage, continuation lines joined.
stage=$(sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' "$dockerfile" |
  awk '/^FROM /{stage=""} {stage=stage $0 "\n"} END{printf "%s", stage}')
base=$(awk 'NR==1{print $2}' <<<"$stage")
copy_line=$(grep -nE '^COPY --from=[^ ]+ /opt/candor/share/candor/ /usr/local/share/candor/' <<<"$stage" |
  head -n 1 | cut -d: -f1 || true)
setup_line=$(grep -nE '^RUN .*/usr/local/share/candor/image-setup\.sh /usr/local/share/candor/runtime-packages\.txt' <<<"$stage" |
  head -n 1 | cut -d: -f1 || true)
[[ -n $copy_line ]] || fail "the runtime stage does not COPY /opt/candor/share/candor/ from the build stage"
[[ -n $setup_line ]] || fail "the runtime stage does not RUN image-setup.sh on runtime-packages.txt"
[[ $setup_line -gt $copy_line ]] || fail "image-setup.sh runs before share/candor/ is copied"
if grep -qE 'apt-get +install|apt +install' <<<"$stage"; then
  fail "the runtime stage installs packages itself: only image-setup.sh may (from runtime-packages.txt)"
fi

mapfile -t needed < <(grep -vE '^[[:space:]]*(#|$)' "$needed_file")
[[ ${#needed[@]} -gt 0 ]] || fail "$needed_file names no package"

# shellcheck source=/dev/null
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [[ -n $codename && $base == debian:"$codename"* ]]; then
  # One apt-cache call ("pkg:" then "  Candidate: VERSION" or "(none)").
  available=$(apt-cache policy "${needed[@]}" 2>/dev/null |
    awk '/^[^ ]/{pkg=$1; sub(/:$/, "", pkg)} /^ +Candidate: [^(]/{print pkg}')
  missing=()
  for pkg in "${needed[@]}"; do
    grep -qxF "$pkg" <<<"$available" || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] || fail "not in the $codename archive: ${missing[*]}"
  echo "check-runtime-packages.sh: $dockerfile installs the ${#needed[@]} derived packages, all in $codename"
else
  echo "check-runtime-packages.sh: $dockerfile installs the ${#needed[@]} derived packages" \
    "(base $base is not this machine's release: archive not checked)"
fi
