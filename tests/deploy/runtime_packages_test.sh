#!/usr/bin/env bash
# Stages the built binaries as the image build does (build-release.sh
# --stage-only), which derives runtime-packages.txt from them (it fails when
# a library is owned by no package), and checks that both Dockerfiles'
# runtime stages install exactly that list (check-runtime-packages.sh) and
# copy every staged folder.
#   runtime_packages_test.sh BUILD_DIR [CUDA_LIBRARY_DIR]
# CUDA_LIBRARY_DIR: a CUDA build's toolkit libraries, which no Debian package
# owns on a machine with NVIDIA's .run toolkit; the CUDA image's base has
# them. The CPU image builds without CUDA and links the rest of the same set.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
provided=()
if [[ -n ${2:-} ]]; then provided=(--provided "$2"); fi
"$repo/scripts/deploy/build-release.sh" --stage-only --build-dir "$1" --prefix "$stage" "${provided[@]}"
test -x "$stage/bin/candor-server"
test -x "$stage/bin/candor-health"
test -x "$stage/share/candor/image-setup.sh"
list=$stage/share/candor/runtime-packages.txt
# The list holds the package of a library every build links, and the extras.
grep -qx 'libgrpc++1.51\|libgrpc++1.51t64' "$list" || { echo "no gRPC package in $list" >&2; exit 1; }
grep -qx 'libmicrohttpd12\|libmicrohttpd12t64' "$list" || { echo "no libmicrohttpd in $list" >&2; exit 1; }
while read -r extra; do
  grep -qxF "$extra" "$list" || { echo "$list lacks $extra (image-packages.txt)" >&2; exit 1; }
done < <(grep -vE '^[[:space:]]*(#|$)' "$repo/deploy/docker/image-packages.txt")
for dockerfile in cpu cuda; do
  "$repo/scripts/deploy/check-runtime-packages.sh" "$list" "$repo/deploy/docker/$dockerfile.Dockerfile"
done

# Every folder staged (bin/, lib/ with scipy-openblas, share/) reaches both
# images: each runtime stage copies it, or what it holds, from the build
# stage's --prefix. The CUDA image once left lib/ behind, and its CPU search
# fell back to the old OpenBLAS.
for dockerfile in cpu cuda; do
  file=$repo/deploy/docker/$dockerfile.Dockerfile
  prefix=$(sed -nE 's/.*build-release\.sh.* --prefix +([^ ]+).*/\1/p' "$file" | head -n 1)
  [[ -n $prefix ]] || { echo "$file: no build-release.sh --prefix" >&2; exit 1; }
  runtime=$(awk '/^FROM /{stage=""} {stage=stage $0 "\n"} END{printf "%s", stage}' "$file")
  for dir in "$stage"/*/; do
    name=$(basename "$dir")
    grep -qE "^COPY --from=build ${prefix%/}/$name(/[^ ]*)? " <<<"$runtime" ||
      { echo "$file: the runtime stage copies nothing of the staged $name/ ($prefix/$name/)" >&2; exit 1; }
  done
  echo "$file: the runtime stage copies $(cd "$stage" && echo */)"
done
