#!/usr/bin/env bash
# Builds candor's release binaries and stages them for a container image.
# The container build stages run exactly this script; CI runs it too (the
# `--stage-only` half against its own build tree), so no image step exists
# only inside a Dockerfile.
#
#   scripts/deploy/build-release.sh [--cuda=ON|OFF] [--build-dir DIR]
#                                   [--prefix DIR] [--stage-only]
#                                   [--provided DIR]...
#
#   --cuda=ON|OFF  passed as -DCANDOR_CUDA (default OFF)
#   --build-dir    CMake build tree (default build-release)
#   --prefix       staging root (default stage); receives
#                    bin/candor-server and bin/candor (audit verify is a candor subcommand),
#                    bin/candor-health (the image's gRPC health check),
#                    share/candor/runtime-packages.txt (the Debian/Ubuntu
#                    packages that own the binaries' shared libraries, and
#                    those of deploy/docker/image-packages.txt: the list
#                    the runtime stage installs),
#                    share/candor/image-setup.sh (the runtime stage's step)
#   --stage-only   skip configure and build; stage what --build-dir holds
#   --provided DIR libraries under DIR come with the image's base although
#                  no package here owns them (runtime-packages.sh --provided)
#
# Environment:
#   CANDOR_CMAKE_ARGS  more -D options for the configure step
#                      (e.g. -DCANDOR_FAISS_GPU=ON -Dfaiss_DIR=...)
#   CANDOR_TARGETS     the CMake targets to build and stage (default
#                      "candor-server candor"); one the tree does
#                      not define is skipped with a note, except
#                      candor-server, which must exist.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cuda=OFF
build_dir=build-release
prefix=stage
stage_only=0
provided=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cuda=*) cuda=${1#--cuda=} ;;
    --build-dir) build_dir=$2; shift ;;
    --prefix) prefix=$2; shift ;;
    --stage-only) stage_only=1 ;;
    --provided) provided+=(--provided "$2"); shift ;;
    *) echo "build-release.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
read -r -a targets <<<"${CANDOR_TARGETS:-candor-server candor}"
read -r -a extra_cmake_args <<<"${CANDOR_CMAKE_ARGS:-}"

if [[ $stage_only -eq 0 ]]; then
  cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
    -DCANDOR_CUDA="$cuda" "${extra_cmake_args[@]}"
  # One target at a time so a missing optional target names itself. `help`
  # lists "... target" (Makefiles) or "target: phony" (Ninja).
  jobs=$(nproc)
  # Read whole: `grep -q` on the pipe would close it early, and pipefail
  # would count the build tool's broken pipe as a missing target.
  known_targets=$(cmake --build "$build_dir" --target help)
  for t in "${targets[@]}"; do
    if grep -qE "^(\.\.\. )?${t}(:| |$)" <<<"$known_targets"; then
      cmake --build "$build_dir" --target "$t" --parallel "$jobs"
    elif [[ $t == candor-server ]]; then
      echo "build-release.sh: the build defines no candor-server target" >&2
      exit 1
    else
      echo "build-release.sh: note: no target $t in this build, skipped"
    fi
  done
fi

mkdir -p "$prefix/bin" "$prefix/share/candor"
prefix_real=$(readlink -f "$prefix")
staged=()
for t in "${targets[@]}"; do
  # A build tree nested inside this one (the image test's CPU build) is
  # another build: pruned, so its binaries are never staged for this one;
  # nor is a copy staged earlier into a --prefix inside the build tree.
  bin=""
  while IFS= read -r candidate; do
    [[ $(readlink -f "$candidate") == "$prefix_real"/* ]] && continue
    bin=$candidate
    break
  done < <(find "$build_dir" -mindepth 1 -type d -exec test -e '{}/CMakeCache.txt' \; -prune \
    -o -type f -name "$t" -perm -u+x -not -path '*/CMakeFiles/*' -print)
  if [[ -z $bin ]]; then
    if [[ $t == candor-server ]]; then
      echo "build-release.sh: no candor-server binary under $build_dir" >&2
      exit 1
    fi
    continue
  fi
  install -m 0755 "$bin" "$prefix/bin/$t"
  staged+=("$prefix/bin/$t")
done
install -m 0755 "$repo/deploy/docker/grpc_health_check.py" "$prefix/bin/candor-health"
install -m 0755 "$repo/scripts/deploy/image-setup.sh" "$prefix/share/candor/image-setup.sh"
# The CPU flat index's GEMM (scipy-openblas, server/index/cpu_blas.h), as
# the build found it: the server loads it from ../lib/candor beside itself.
# The folder exists either way, for the image's COPY.
install -d "$prefix/lib/candor"
blas=$(sed -n 's/^ScipyOpenBLAS_LIBRARY:FILEPATH=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
if [[ -n $blas && -f $blas ]]; then
  install -m 0644 "$blas" "$prefix/lib/candor/libscipy_openblas.so"
else
  echo "build-release.sh: no scipy-openblas in the build; the CPU flat index" \
    "will use the OpenBLAS FAISS links" >&2
fi

libs=$(mktemp)
trap 'rm -f "$libs"' EXIT
"$repo/scripts/deploy/runtime-packages.sh" "${provided[@]}" "${staged[@]}" >"$libs"
grep -vhE '^[[:space:]]*(#|$)' "$libs" "$repo/deploy/docker/image-packages.txt" |
  sort -u >"$prefix/share/candor/runtime-packages.txt"
echo "build-release.sh: staged ${staged[*]} under $prefix; runtime packages:"
sed 's/^/  /' "$prefix/share/candor/runtime-packages.txt"
