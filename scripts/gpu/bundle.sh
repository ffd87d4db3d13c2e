#!/usr/bin/env bash
# Packs what the GPU machine needs to run candor's device checks into one
# folder: the GPU test binaries, the GPU benchmark, FAISS's baseline
# (candor_faiss_gpu_bench, when built with CANDOR_FAISS_GPU), candor-server
# when built,
# tests/gpu/run_device_checks.sh, and every shared library they load that the
# GPU machine lacks (per ldd). The GPU machine has the NVIDIA driver and
# CUDA 13 (libcuda, cudart, cuBLAS) and a newer glibc, but no gRPC,
# Protobuf, FAISS, Abseil or OpenBLAS.
#
#   scripts/gpu/bundle.sh BUILD_DIR OUT_DIR [BUDGET_MIB]
#
# Binaries and libraries are stripped. When the folder exceeds the budget
# (default 60 MiB: the device tool carries 64 MiB in all, the working tree
# included) it is replaced by
# OUT_DIR/bundle.tar.zst (zstd -19) plus an uncompressed zstd binary and its
# libraries under OUT_DIR/tools, and the archive must fit the budget.
# run_device_checks.sh unpacks it when it finds it.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 BUILD_DIR OUT_DIR [BUDGET_MIB]" >&2
  exit 2
fi
build="$(realpath "$1")"
out="$(realpath -m "$2")"
budget_mib="${3:-60}"
budget_bytes=$((budget_mib * 1024 * 1024))
repo="$(cd "$(dirname "$0")/../.." && pwd)"

# Libraries never bundled: glibc's (the GPU machine's newer ones must be
# used), the driver's, and the CUDA runtime libraries it already has.
skip_lib() {
  case "$(basename "$1")" in
    linux-vdso.so* | ld-linux*.so* | libc.so* | libm.so* | libpthread.so* | \
      libdl.so* | librt.so* | libutil.so* | libresolv.so* | libanl.so* | \
      libcuda.so* | libnvidia-*.so* | libcudart.so* | libcublas.so* | \
      libcublasLt.so*)
      return 0 ;;
  esac
  return 1
}

# Copies the libraries `binary` loads (transitively: ldd resolves the whole
# tree) into $2, dereferenced, under the name the loader asks for.
copy_libs() {
  local binary="$1" dest="$2" name path
  while read -r name path; do
    [[ -n "${path}" && -f "${path}" ]] || continue
    skip_lib "${name}" && continue
    [[ -f "${dest}/${name}" ]] || cp -L "${path}" "${dest}/${name}"
  done < <(ldd "${binary}" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }')
  local missing
  missing="$(ldd "${binary}" | awk '/not found/ { print $1 }' |
    grep -v -E '^(libcuda|libcudart|libcublas)' || true)"
  if [[ -n "${missing}" ]]; then
    echo "error: unresolved libraries for ${binary}: ${missing}" >&2
    exit 1
  fi
  return 0
}

rm -rf "${out}"
mkdir -p "${out}/bin" "${out}/lib"

binaries=()
for pattern in 'tests/gpu/*_test' 'bench/gpu/candor_gpu_bench' \
  'bench/gpu/candor_faiss_gpu_bench'; do
  for f in ${build}/${pattern}; do
    [[ -f "${f}" && -x "${f}" ]] && binaries+=("${f}")
  done
done
# candor-server, wherever the server's CMakeLists puts it.
while IFS= read -r f; do
  binaries+=("${f}")
done < <(find "${build}" -maxdepth 4 -name candor-server -type f -executable)
if [[ ${#binaries[@]} -eq 0 ]]; then
  echo "error: no GPU test or benchmark binaries under ${build}" >&2
  echo "build them: cmake --build ${build} --target normalize_gpu_test" \
    "select_topk_gpu_test gpu_flat_index_test gpu_scale_test server_gpu_test" \
    "candor_gpu_bench" >&2
  exit 1
fi
for b in "${binaries[@]}"; do
  cp -L "${b}" "${out}/bin/"
  copy_libs "${b}" "${out}/lib"
done
cp "${repo}/tests/gpu/run_device_checks.sh" "${out}/"
strip --strip-unneeded "${out}"/bin/* "${out}"/lib/* 2>/dev/null || true

{
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git -C "${repo}" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "binaries:"; (cd "${out}/bin" && ls -1)
  echo "libraries:"; (cd "${out}/lib" && ls -1)
} >"${out}/MANIFEST"

size=$(du -sb "${out}" | cut -f1)
echo "bundle: ${out} ($((size / 1024 / 1024)) MiB uncompressed)"
if ((size > budget_bytes)); then
  if ! command -v zstd >/dev/null; then
    echo "error: over ${budget_mib} MiB and zstd is not installed" >&2
    exit 1
  fi
  echo "over ${budget_mib} MiB: compressing with zstd -19"
  tar -C "${out}" -cf - bin lib MANIFEST | zstd -19 -T0 -q -o "${out}/bundle.tar.zst"
  rm -rf "${out}/bin" "${out}/lib"
  # The GPU machine may have no zstd: carry ours.
  mkdir -p "${out}/tools/lib"
  cp -L "$(command -v zstd)" "${out}/tools/"
  copy_libs "${out}/tools/zstd" "${out}/tools/lib"
  size=$(du -sb "${out}" | cut -f1)
  echo "compressed bundle: $((size / 1024 / 1024)) MiB"
fi
if ((size > budget_bytes)); then
  echo "error: bundle is $((size / 1024 / 1024)) MiB, over the ${budget_mib} MiB budget" >&2
  exit 1
fi
echo "ok: $((size / 1024)) KiB within ${budget_mib} MiB"
