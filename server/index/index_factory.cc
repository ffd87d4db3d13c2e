#include "server/index/index_factory.h"

#include "absl/strings/str_cat.h"
#include "server/index/bf16_flat_index.h"
#include "server/index/cpu_blas.h"
#include "server/index/cpu_flat_index.h"
#include "server/index/faiss_flat_index.h"
#include "server/index/faiss_ivf_index.h"
#if defined(CANDOR_HAVE_CUDA)
#include "server/index/gpu/gpu_backend.h"
#endif

namespace candor::index {

absl::StatusOr<Backend> ParseBackend(const std::string& name) {
  if (name == "auto") return Backend::kAuto;
  if (name == "cpu" || name == "cpu-flat") return Backend::kCpu;
  if (name == "faiss-cpu") return Backend::kFaissCpu;
  if (name == "faiss-gpu") return Backend::kFaissGpu;
  if (name == "gpu") return Backend::kGpu;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown backend '", name,
      "': expected auto, cpu, faiss-cpu, faiss-gpu or gpu"));
}

std::string BackendName(Backend backend) {
  switch (backend) {
    case Backend::kAuto:
      return "auto";
    case Backend::kCpu:
      return "cpu";
    case Backend::kFaissCpu:
      return "faiss-cpu";
    case Backend::kFaissGpu:
      return "faiss-gpu";
    case Backend::kGpu:
      return "gpu";
  }
  return "unknown";
}

absl::StatusOr<Precision> ParsePrecision(const std::string& name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown precision '", name, "': expected fp32 or bf16"));
}

std::string PrecisionName(Precision precision) {
  return precision == Precision::kBf16 ? "bf16" : "fp32";
}

absl::StatusOr<Backend> ResolveBackend(Backend requested) {
#if defined(CANDOR_HAVE_CUDA)
  const bool have_device = gpu::DeviceCount() > 0;
#else
  const bool have_device = false;
#endif
  switch (requested) {
    case Backend::kAuto:
      return have_device ? Backend::kGpu : Backend::kCpu;
    case Backend::kCpu:
      return Backend::kCpu;
    case Backend::kFaissCpu:
      return Backend::kFaissCpu;
    case Backend::kGpu:
      if (!have_device) {
        return absl::FailedPreconditionError(
            "backend 'gpu' requested but no CUDA device is available "
            "(or candor was built without CANDOR_CUDA)");
      }
      return Backend::kGpu;
    case Backend::kFaissGpu:
#if defined(CANDOR_HAVE_FAISS_GPU)
      if (!have_device) {
        return absl::FailedPreconditionError(
            "backend 'faiss-gpu' requested but no CUDA device is available");
      }
      return Backend::kFaissGpu;
#else
      return absl::FailedPreconditionError(
          "backend 'faiss-gpu' requested but candor was built without "
          "CANDOR_FAISS_GPU (Debian's FAISS is CPU-only; see "
          "scripts/gpu/build-faiss-gpu.sh)");
#endif
  }
  return absl::InternalError("unhandled backend");
}

absl::StatusOr<std::unique_ptr<Index>> CreateIndex(const IndexConfig& config,
                                                   Backend backend) {
  if (backend == Backend::kAuto) {
    return absl::InvalidArgumentError("CreateIndex needs a resolved backend");
  }
  // bf16 is a CPU flat feature. Like IVF it is served by the CPU on any
  // backend, so that a bf16 gallery still opens on a GPU server (creating
  // one there is refused: gallery_store.cc).
  if (config.precision == Precision::kBf16) {
    if (config.type != IndexType::kFlat) {
      return absl::InvalidArgumentError(
          "precision bf16 needs a flat index (index.type FLAT): IVF galleries "
          "are fp32");
    }
    Bf16FlatIndexOptions options;
    options.dimension = config.dimension;
    options.fp32_rows = config.fp32_rows;
    // Rescoring through the fp32 flat index's GEMM gives the fp32
    // gallery's very scores.
    options.fp32_scores = [](int m, int n, int k, const float* probes,
                             const float* rows, float* c) {
      ServingBlas().Scores(m, n, k, probes, k, rows, k, c, n);
    };
    // OpenBLAS (x86-64) takes its small-matrix kernel up to 100^3
    // multiply-adds.
    options.fp32_scores_small_madds = 1000000;
    auto bf16 = Bf16FlatIndex::Create(options);
    if (!bf16.ok()) return bf16.status();
    return std::unique_ptr<Index>(*std::move(bf16));
  }
  // Approximate search is a CPU (FAISS IVF) feature; on a GPU server an IVF
  // gallery is still served by the CPU index.
  if (config.type == IndexType::kIvfFlat) {
    auto ivf = FaissIvfIndex::Create(config);
    if (!ivf.ok()) return ivf.status();
    return std::unique_ptr<Index>(*std::move(ivf));
  }
  switch (backend) {
    case Backend::kAuto:
      break;
    case Backend::kCpu: {
      auto flat = CpuFlatIndex::Create(config.dimension);
      if (!flat.ok()) return flat.status();
      return std::unique_ptr<Index>(*std::move(flat));
    }
    case Backend::kFaissCpu: {
      auto flat = FaissFlatIndex::Create(config.dimension);
      if (!flat.ok()) return flat.status();
      return std::unique_ptr<Index>(*std::move(flat));
    }
    case Backend::kGpu:
#if defined(CANDOR_HAVE_CUDA)
      return gpu::CreateGpuFlatIndex(config);
#else
      break;
#endif
    case Backend::kFaissGpu:
#if defined(CANDOR_HAVE_FAISS_GPU)
      return gpu::CreateFaissGpuIndex(config);
#else
      break;
#endif
  }
  return absl::FailedPreconditionError(
      absl::StrCat("backend '", BackendName(backend), "' is not built in"));
}

}  // namespace candor::index
