#!/usr/bin/env bash
# Prints, one a line and sorted, the Debian (or Ubuntu) packages that own the
# shared libraries the given ELF binaries load, as ldd resolves them on this
# machine. The container build stages use it to install exactly these
# packages in the runtime stage; CI uses it to check that the CPU image's
# hand-written list covers them.
#
#   scripts/deploy/runtime-packages.sh [--provided DIR]... BINARY...
#
# Fails when a library is missing ("not found") or owned by no package
# (for example a shared library of candor's own build tree that no image
# step copies). The NVIDIA driver's libraries (libcuda, libnvidia-*) are the
# exception: the NVIDIA container runtime mounts them from the host, so they
# are reported on stderr and left out. So are the libraries under each
# --provided DIR: those the image's base provides although no package of
# this machine owns them (a CUDA toolkit installed from NVIDIA's .run file,
# whose libraries the nvidia/cuda runtime image carries as packages).
set -euo pipefail

provided=()
while [[ $# -gt 0 && $1 == --provided ]]; do
  provided+=("$(readlink -f "$2")")
  shift 2
done
if [[ $# -eq 0 ]]; then
  echo "usage: runtime-packages.sh [--provided DIR]... BINARY..." >&2
  exit 2
fi

# Whether a library path lies under one of the --provided folders.
is_provided() {
  local real d
  real=$(readlink -f "$1")
  for d in "${provided[@]}"; do
    [[ $1 == "$d"/* || $real == "$d"/* ]] && return 0
  done
  return 1
}

# Every library path ldd resolves, with its other spellings: /lib <-> /usr/lib
# (merged /usr: dpkg may know either) and the target of an alternatives
# symlink (libblas.so.3 -> openblas-pthread/libblas.so.3).
status=0
declare -A spellings=()   # candidate path -> library path as ldd printed it
libs=()
for bin in "$@"; do
  while read -r line; do
    if [[ $line == *"not found"* ]]; then
      # A build container has no GPU driver: libcuda is absent there.
      if [[ $line == libcuda.so* || $line == libnvidia-* ]]; then
        echo "runtime-packages.sh: $bin: ${line} (the host's NVIDIA driver provides it)" >&2
      else
        echo "runtime-packages.sh: $bin: ${line}" >&2
        status=1
      fi
      continue
    fi
    # "libfoo.so.1 => /path/libfoo.so.1 (0x...)" or "/lib64/ld-linux... (0x...)"
    path=$(sed -nE 's/.*=> (\/[^ ]+) .*/\1/p; t; s/^(\/[^ ]+) .*/\1/p' <<<"$line")
    [[ -z $path ]] && continue
    if is_provided "$path"; then
      echo "runtime-packages.sh: $path is provided by the image's base (--provided)" >&2
      continue
    fi
    libs+=("$path")
    for c in "$path" "${path/#\/usr\/lib\//\/lib\/}" "${path/#\/lib\//\/usr\/lib\/}" \
             "$(readlink -f "$path")"; do
      spellings[$c]=$path
    done
  done < <(ldd "$bin")
done

# One dpkg-query call for all paths: each call reads every package's file
# list, so asking per library takes minutes. Lines: "pkg:arch: /path" or
# "pkg1, pkg2: /path"; "diversion by ..." lines are skipped.
declare -A owner_of=()    # library path as ldd printed it -> package
if [[ ${#spellings[@]} -gt 0 ]]; then
  while IFS= read -r line; do
    [[ $line == diversion* ]] && continue
    pkg=${line%%: /*}
    pkg=${pkg%%,*}
    pkg=${pkg%%:*}
    file=/${line#*: /}
    lib=${spellings[$file]:-}
    [[ -n $lib && -z ${owner_of[$lib]:-} ]] && owner_of[$lib]=$pkg
  done < <(dpkg-query -S "${!spellings[@]}" 2>/dev/null || true)
fi

declare -A pkgs=()
for lib in "${libs[@]}"; do
  if [[ -n ${owner_of[$lib]:-} ]]; then
    pkgs[${owner_of[$lib]}]=1
  elif [[ $(basename "$lib") == libcuda.so* || $(basename "$lib") == libnvidia-* ]]; then
    echo "runtime-packages.sh: $lib comes from the host's NVIDIA driver" >&2
  else
    echo "runtime-packages.sh: $lib is owned by no package" >&2
    status=1
  fi
done
if [[ ${#pkgs[@]} -gt 0 ]]; then
  printf '%s\n' "${!pkgs[@]}" | sort
fi
exit $status
