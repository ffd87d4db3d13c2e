#!/usr/bin/env bash
# Builds FAISS with GPU support (GpuIndexFlatIP and friends) from Debian's
# source package of faiss 1.7.3 and installs it into PREFIX. Optional: only
# needed for candor's FAISS GPU backend (-DCANDOR_FAISS_GPU=ON); never run in
# CI. About 18 minutes of both cores on a 2-core build machine.
#
#   scripts/gpu/build-faiss-gpu.sh PREFIX [WORKDIR]
#   e.g. scripts/gpu/build-faiss-gpu.sh "$HOME/.local/faiss-gpu"
#
# Then configure candor with
#   -DCANDOR_FAISS_GPU=ON -DCMAKE_PREFIX_PATH=PREFIX
# so that find_package(faiss) finds this build before Debian's CPU-only one.
#
# Environment: CUDA_HOME (default /usr/local/cuda), CUDA_ARCHITECTURES
# (default 90: H100/H200 machine code only, which keeps the library at about
# 40 MB stripped), JOBS (default: all cores).
#
# What it does, and why:
# - apt-get source needs deb-src entries. They are derived from the
#   machine's own deb entries into a private APT configuration under
#   WORKDIR, so the script needs no root and leaves /etc/apt untouched.
# - FAISS 1.7.3 asks for C++11; CUDA 13's CCCL refuses anything before
#   C++17, so CMAKE_CXX_STANDARD is raised to 17 and CMAKE_CUDA_STANDARD 17
#   is set.
# - FAISS_OPT_LEVEL=generic builds the one library `faiss` that candor links
#   (an avx2 build would also compile a second, unused `faiss_avx2`).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 PREFIX [WORKDIR]" >&2
  exit 2
fi
prefix="$(realpath -m "$1")"
workdir="$(realpath -m "${2:-${TMPDIR:-/tmp}/candor-faiss-gpu}")"
cuda_home="${CUDA_HOME:-/usr/local/cuda}"
cuda_archs="${CUDA_ARCHITECTURES:-90}"
jobs="${JOBS:-$(nproc)}"

for tool in apt-get dpkg-source cmake "${cuda_home}/bin/nvcc"; do
  if ! command -v "${tool}" >/dev/null 2>&1; then
    echo "error: ${tool} not found (dpkg-source is in dpkg-dev)" >&2
    exit 1
  fi
done

mkdir -p "${workdir}/apt/lists/partial" "${workdir}/apt/cache/archives/partial"
apt_conf="${workdir}/apt/sources.list"
: >"${apt_conf}"
# One-line entries: "deb URI SUITE COMPONENTS" -> "deb-src ...".
for list in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [[ -f "${list}" ]] || continue
  sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "${list}" >>"${apt_conf}"
done
# deb822 entries (Debian 12's default): every "Types: deb" stanza, URIs x
# Suites, with its Components and Signed-By.
for sources in /etc/apt/sources.list.d/*.sources; do
  [[ -f "${sources}" ]] || continue
  awk '
    function flush() {
      if (types ~ /(^| )deb( |$)/ && uris != "" && suites != "") {
        n = split(uris, u, " "); m = split(suites, s, " ");
        opt = signed != "" ? "[signed-by=" signed "] " : "";
        for (i = 1; i <= n; i++) for (j = 1; j <= m; j++)
          print "deb-src " opt u[i] " " s[j] " " comps;
      }
      types = uris = suites = comps = signed = "";
    }
    /^[[:space:]]*$/ { flush(); next }
    /^#/ { next }
    /^Types:/ { sub(/^Types:[[:space:]]*/, ""); types = $0 }
    /^URIs:/ { sub(/^URIs:[[:space:]]*/, ""); uris = $0 }
    /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
    /^Components:/ { sub(/^Components:[[:space:]]*/, ""); comps = $0 }
    /^Signed-By:/ { sub(/^Signed-By:[[:space:]]*/, ""); signed = $0 }
    END { flush() }
  ' "${sources}" >>"${apt_conf}"
done
if [[ ! -s "${apt_conf}" ]]; then
  echo "error: no deb entries found in /etc/apt to derive deb-src from" >&2
  exit 1
fi
apt_opts=(
  -o "Dir::Etc::SourceList=${apt_conf}"
  -o "Dir::Etc::SourceParts=/nonexistent"
  -o "Dir::State::Lists=${workdir}/apt/lists"
  -o "Dir::Cache=${workdir}/apt/cache"
  -o "Debug::NoLocking=1"
)
apt-get "${apt_opts[@]}" update
cd "${workdir}"
src="$(find . -maxdepth 1 -type d -name 'faiss-1.7.3*' | head -n 1)"
if [[ -z "${src}" ]]; then
  apt-get "${apt_opts[@]}" source --only-source faiss=1.7.3-2
  src="$(find . -maxdepth 1 -type d -name 'faiss-1.7.3*' | head -n 1)"
fi
src="$(realpath "${src}")"
echo "FAISS source: ${src}"

# C++17 for host and device code (idempotent).
sed -i 's/set(CMAKE_CXX_STANDARD 11)/set(CMAKE_CXX_STANDARD 17)/' \
  "${src}/CMakeLists.txt"
if ! grep -q 'CMAKE_CUDA_STANDARD' "${src}/CMakeLists.txt"; then
  sed -i '/set(CMAKE_CXX_STANDARD 17)/a set(CMAKE_CUDA_STANDARD 17)\nset(CMAKE_CUDA_STANDARD_REQUIRED ON)' \
    "${src}/CMakeLists.txt"
fi
grep -n 'CMAKE_CXX_STANDARD\|CMAKE_CUDA_STANDARD' "${src}/CMakeLists.txt"

build="${src}/build-gpu"
cmake -S "${src}" -B "${build}" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="${prefix}" \
  -DCMAKE_CUDA_COMPILER="${cuda_home}/bin/nvcc" \
  -DCUDAToolkit_ROOT="${cuda_home}" \
  -DCMAKE_CUDA_ARCHITECTURES="${cuda_archs}" \
  -DCMAKE_CUDA_STANDARD=17 \
  -DFAISS_ENABLE_GPU=ON \
  -DFAISS_ENABLE_PYTHON=OFF \
  -DFAISS_ENABLE_C_API=OFF \
  -DFAISS_OPT_LEVEL=generic \
  -DBUILD_TESTING=OFF \
  -DBUILD_SHARED_LIBS=ON
cmake --build "${build}" --target faiss -j "${jobs}"
cmake --install "${build}"
echo "FAISS GPU installed in ${prefix}"
echo "configure candor with: -DCANDOR_FAISS_GPU=ON -DCMAKE_PREFIX_PATH=${prefix}"
