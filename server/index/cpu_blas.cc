#include "server/index/cpu_blas.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/log.h"

namespace candor::index {
namespace {

// CBLAS's enum values (cblas.h), fixed by the standard interface.
constexpr int kRowMajor = 101;
constexpr int kNoTrans = 111;
constexpr int kTrans = 112;

constexpr char kCoreTypeVariable[] = "OPENBLAS_CORETYPE";

void* Symbol(void* handle, const std::string& name) {
  return dlsym(handle == nullptr ? RTLD_DEFAULT : handle, name.c_str());
}

// "OpenBLAS 0.3.30 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64": the
// second word is the version.
std::string OpenBlasVersion(const char* config) {
  if (config == nullptr) return "";
  std::vector<std::string> words =
      absl::StrSplit(config, ' ', absl::SkipEmpty());
  return words.size() >= 2 ? words[1] : "";
}

// Hides OPENBLAS_CORETYPE for its lifetime and puts it back after.
class HiddenCoreType {
 public:
  HiddenCoreType() {
    const char* value = std::getenv(kCoreTypeVariable);
    if (value == nullptr) return;
    saved_ = value;
    had_ = true;
    unsetenv(kCoreTypeVariable);
  }
  ~HiddenCoreType() {
    if (had_) setenv(kCoreTypeVariable, saved_.c_str(), 1);
  }
  HiddenCoreType(const HiddenCoreType&) = delete;
  HiddenCoreType& operator=(const HiddenCoreType&) = delete;

 private:
  std::string saved_;
  bool had_ = false;
};

// Where an installed server finds scipy-openblas: next to itself, in
// ../lib/candor (build-release.sh puts it there), then where the build
// found it.
std::vector<std::string> ScipyOpenBlasCandidates() {
  std::vector<std::string> paths;
  std::error_code error;
  const std::filesystem::path exe =
      std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    paths.push_back(
        (exe.parent_path() / "../lib/candor/libscipy_openblas.so").string());
  }
  if (!BuiltScipyOpenBlasPath().empty()) {
    paths.push_back(BuiltScipyOpenBlasPath());
  }
  return paths;
}

std::unique_ptr<CpuBlas> LoadServingBlas() {
  for (const std::string& path : ScipyOpenBlasCandidates()) {
    std::error_code error;
    if (!std::filesystem::exists(path, error)) continue;
    auto blas = CpuBlas::Load(CpuBlas::Flavor::kOpenBlas, path, "scipy_",
                              /*own_core_detection=*/true);
    if (blas.ok()) {
      // The flat index runs its own workers, one GEMM call each
      // (cpu_flat_index.h); this library's threads would only compete.
      (*blas)->SetThreads(1);
      return *std::move(blas);
    }
    LogWarning(absl::StrCat("CPU GEMM: cannot use ", path, ": ",
                            blas.status().message()));
  }
  // The OpenBLAS that FAISS links is in the process whatever happens.
  auto blas = CpuBlas::Load(CpuBlas::Flavor::kOpenBlas, "", "",
                            /*own_core_detection=*/false);
  if (!blas.ok()) {
    LogError(absl::StrCat("CPU GEMM: no CBLAS in the process: ",
                          blas.status().message()));
    std::abort();
  }
  return *std::move(blas);
}

}  // namespace

std::string BuiltScipyOpenBlasPath() {
#if defined(CANDOR_SCIPY_OPENBLAS_PATH)
  return CANDOR_SCIPY_OPENBLAS_PATH;
#else
  return "";
#endif
}

std::string BlasInfo::Describe() const {
  std::string out = library;
  if (!version.empty()) absl::StrAppend(&out, " ", version);
  if (!core.empty()) absl::StrAppend(&out, " ", core);
  return out;
}

absl::StatusOr<std::unique_ptr<CpuBlas>> CpuBlas::Load(
    Flavor flavor, const std::string& path, const std::string& prefix,
    bool own_core_detection) {
  std::unique_ptr<CpuBlas> blas(new CpuBlas());
  BlasInfo& info = blas->info_;
  info.path = path;
  const char* forced = std::getenv(kCoreTypeVariable);
  info.forced_core = forced == nullptr ? "" : forced;
  info.read_forced_core =
      flavor == Flavor::kOpenBlas && forced != nullptr && !own_core_detection;
  if (!path.empty()) {
    std::unique_ptr<HiddenCoreType> hidden;
    if (own_core_detection) hidden = std::make_unique<HiddenCoreType>();
    // RTLD_LOCAL: a second BLAS must not satisfy another library's cblas_*
    // lookups (FAISS keeps its own).
    blas->handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (blas->handle_ == nullptr) {
      const char* why = dlerror();
      return absl::NotFoundError(
          absl::StrCat("cannot load ", path, ": ", why ? why : "unknown"));
    }
  }
  void* h = blas->handle_;
  blas->sgemm_ =
      reinterpret_cast<SgemmFn>(Symbol(h, prefix + "cblas_sgemm"));
  if (blas->sgemm_ == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "no ", prefix, "cblas_sgemm in ", path.empty() ? "the process" : path));
  }
  switch (flavor) {
    case Flavor::kOpenBlas: {
      using TextFn = char* (*)();
      auto config = reinterpret_cast<TextFn>(
          Symbol(h, prefix + "openblas_get_config"));
      auto corename = reinterpret_cast<TextFn>(
          Symbol(h, prefix + "openblas_get_corename"));
      info.library = prefix == "scipy_" ? "scipy-openblas" : "openblas";
      info.version = OpenBlasVersion(config ? config() : nullptr);
      info.core = corename ? corename() : "";
      blas->set_threads_ = reinterpret_cast<SetThreadsFn>(
          Symbol(h, prefix + "openblas_set_num_threads"));
      blas->get_threads_ = reinterpret_cast<GetThreadsFn>(
          Symbol(h, prefix + "openblas_get_num_threads"));
      break;
    }
    case Flavor::kBlis: {
      using TextFn = const char* (*)();
      using ArchFn = int (*)();
      using ArchNameFn = const char* (*)(int);
      auto version = reinterpret_cast<TextFn>(
          Symbol(h, prefix + "bli_info_get_version_str"));
      auto arch = reinterpret_cast<ArchFn>(
          Symbol(h, prefix + "bli_arch_query_id"));
      auto arch_name = reinterpret_cast<ArchNameFn>(
          Symbol(h, prefix + "bli_arch_string"));
      info.library = "blis";
      info.version = version ? version() : "";
      info.core = arch && arch_name ? arch_name(arch()) : "";
      // dim_t is int64_t in BLIS's default build.
      using SetFn = void (*)(int64_t);
      using GetFn = int64_t (*)();
      static SetFn set = nullptr;
      static GetFn get = nullptr;
      set = reinterpret_cast<SetFn>(
          Symbol(h, prefix + "bli_thread_set_num_threads"));
      get = reinterpret_cast<GetFn>(
          Symbol(h, prefix + "bli_thread_get_num_threads"));
      if (set != nullptr) blas->set_threads_ = [](int n) { set(n); };
      if (get != nullptr) {
        blas->get_threads_ = [] { return static_cast<int>(get()); };
      }
      break;
    }
    case Flavor::kMkl: {
      using VersionFn = void (*)(char*, int);
      auto version = reinterpret_cast<VersionFn>(
          Symbol(h, prefix + "MKL_Get_Version_String"));
      info.library = "mkl";
      if (version != nullptr) {
        char text[256] = {};
        version(text, sizeof(text) - 1);
        info.version = text;
      }
      blas->set_threads_ = reinterpret_cast<SetThreadsFn>(
          Symbol(h, prefix + "MKL_Set_Num_Threads"));
      blas->get_threads_ = reinterpret_cast<GetThreadsFn>(
          Symbol(h, prefix + "MKL_Get_Max_Threads"));
      break;
    }
  }
  return blas;
}

CpuBlas::~CpuBlas() {
  // OpenBLAS's worker threads outlive any dlclose; leave the library
  // mapped (what numpy does too).
}

void CpuBlas::Scores(int m, int n, int k, const float* a, int lda,
                     const float* b, int ldb, float* c, int ldc) const {
  sgemm_(kRowMajor, kNoTrans, kTrans, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c,
         ldc);
}

void CpuBlas::SetThreads(int threads) const {
  if (set_threads_ != nullptr) set_threads_(threads < 1 ? 1 : threads);
}

int CpuBlas::threads() const {
  return get_threads_ != nullptr ? get_threads_() : 1;
}

const CpuBlas& ServingBlas() {
  static const CpuBlas* const blas = LoadServingBlas().release();
  return *blas;
}

std::string DescribeServingBlas() {
  const BlasInfo& info = ServingBlas().info();
  std::string line = absl::StrCat("CPU flat search GEMM: ", info.Describe());
  absl::StrAppend(&line, info.path.empty() ? " (the OpenBLAS FAISS links)"
                                           : absl::StrCat(" from ", info.path));
  if (!info.forced_core.empty()) {
    absl::StrAppend(&line, "; OPENBLAS_CORETYPE=", info.forced_core,
                    info.read_forced_core
                        ? " applies to it"
                        : " left to FAISS's OpenBLAS, this one detects its own");
  }
  return line;
}

}  // namespace candor::index
