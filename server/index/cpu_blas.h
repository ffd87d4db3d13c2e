// The single-precision GEMM behind candor's CPU flat index, chosen at run
// time: a CBLAS library loaded with dlopen, so that the server decides
// which one serves and how it picks its kernels.
//
// Why not the OpenBLAS that FAISS links: Debian 12's OpenBLAS 0.3.21 does
// not know current CPUs. On a Xeon with AVX-512 it falls back to its
// Prescott (SSE3) kernels, a quarter of the speed; on AMD EPYC its own
// detection is wrong or crashes, so machines there force a core with
// OPENBLAS_CORETYPE=Haswell. A current OpenBLAS (PyPI's scipy-openblas32,
// the build numpy and SciPy ship, with every symbol prefixed `scipy_`)
// recognises both. Measured in bench/gemm (bench/RESULTS.md).
//
// OpenBLAS reads OPENBLAS_CORETYPE once, when it is loaded. A value forced
// for the old library must not bind the new one, so Load() hides the
// variable while it loads a library with its own detection (the variable
// is restored at once, and the old library has read it already).
#ifndef CANDOR_SERVER_INDEX_CPU_BLAS_H_
#define CANDOR_SERVER_INDEX_CPU_BLAS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace candor::index {

// What a library says of itself, as loaded.
struct BlasInfo {
  // "scipy-openblas", "openblas", "blis", "mkl".
  std::string library;
  std::string version;
  // The kernel set it chose for this CPU ("SkylakeX", "Haswell", "zen3").
  std::string core;
  // Where it was loaded from ("" = already in the process).
  std::string path;
  // OPENBLAS_CORETYPE as the process found it ("" = unset), and whether
  // this library read it (false: hidden while it loaded).
  std::string forced_core;
  bool read_forced_core = false;
  // "scipy-openblas 0.3.30 SkylakeX" style, for logs and Stats.
  std::string Describe() const;
};

class CpuBlas {
 public:
  enum class Flavor { kOpenBlas, kBlis, kMkl };

  // Loads a CBLAS library. `path` "" takes the symbols already in the
  // process (the OpenBLAS that FAISS links); `prefix` is put before every
  // symbol name ("scipy_" for scipy-openblas). With `own_core_detection`,
  // OPENBLAS_CORETYPE is hidden while the library loads. Edits the
  // environment: call before other threads start.
  static absl::StatusOr<std::unique_ptr<CpuBlas>> Load(
      Flavor flavor, const std::string& path, const std::string& prefix,
      bool own_core_detection);

  ~CpuBlas();
  CpuBlas(const CpuBlas&) = delete;
  CpuBlas& operator=(const CpuBlas&) = delete;

  // Row-major scores: c[i * ldc + j] = dot(a row i, b row j), for m rows
  // of `a` (stride lda) and n rows of `b` (stride ldb), k floats each.
  void Scores(int m, int n, int k, const float* a, int lda, const float* b,
              int ldb, float* c, int ldc) const;

  void SetThreads(int threads) const;
  int threads() const;
  const BlasInfo& info() const { return info_; }

 private:
  CpuBlas() = default;

  using SgemmFn = void (*)(int, int, int, int, int, int, float, const float*,
                           int, const float*, int, float, float*, int);
  using SetThreadsFn = void (*)(int);
  using GetThreadsFn = int (*)();

  void* handle_ = nullptr;  // dlclose'd with the object; null for ""
  SgemmFn sgemm_ = nullptr;
  SetThreadsFn set_threads_ = nullptr;
  GetThreadsFn get_threads_ = nullptr;
  BlasInfo info_;
};

// Where the build found scipy-openblas ("" = not found; the installed
// server also looks in ../lib/candor beside itself).
std::string BuiltScipyOpenBlasPath();

// The library serving candor's CPU flat index: scipy-openblas where the
// build found it (CANDOR_SCIPY_OPENBLAS), set to one thread (the index
// runs its own workers), else the OpenBLAS FAISS links, threads untouched
// (server/main.cc sizes them; the index then calls it from one thread).
// Loaded on the first call, which main() makes before any other thread
// runs (Load edits the environment). Never null.
const CpuBlas& ServingBlas();

// One line for the start-up log: the serving GEMM, where it came from, and
// what became of a forced OPENBLAS_CORETYPE. Loads it (see ServingBlas).
std::string DescribeServingBlas();

}  // namespace candor::index

#endif  // CANDOR_SERVER_INDEX_CPU_BLAS_H_
