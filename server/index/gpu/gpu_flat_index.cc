// GpuFlatIndex: host bookkeeping, device memory management and the tiled
// GEMM + selection pipeline (see gpu_flat_index.h).
#include "server/index/gpu/gpu_flat_index.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kernels/cublas_check.h"
#include "kernels/cuda_check.h"
#include "kernels/cuda_raii.h"
#include "kernels/half_convert_device.h"
#include "kernels/normalize_device.h"
#include "kernels/select_topk.h"
#include "kernels/select_topk_device.h"
#include "kernels/tile_sizing.h"
#include "server/index/gpu/gpu_flat_index_kernels.h"

namespace candor::index::gpu {

using kernels::CudaEvent;
using kernels::CudaStream;
using kernels::DeviceBuffer;
using kernels::PinnedBuffer;

namespace {

// Host rows staged per H2D copy in Add: 16384 rows of 512 floats = 32 MiB,
// large enough to run PCIe at full speed, small enough to keep the staging
// buffer modest.
constexpr int64_t kAddChunkRows = 16384;

// Grows `buffer` to at least `count` elements (contents not kept).
template <typename Buffer>
absl::Status Reserve(Buffer& buffer, size_t count) {
  if (buffer.size() >= count) return absl::OkStatus();
  buffer.Reset();  // free first: the old and new buffers need not coexist
  auto grown = Buffer::Allocate(count);
  if (!grown.ok()) return grown.status();
  buffer = *std::move(grown);
  return absl::OkStatus();
}

class CublasHandle {
 public:
  CublasHandle() = default;
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  ~CublasHandle() {
    if (handle_ != nullptr) cublasDestroy(handle_);
  }
  absl::Status Init() {
    CUBLAS_RETURN_IF_ERROR(cublasCreate(&handle_));
    return absl::OkStatus();
  }
  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

}  // namespace

// All of it is guarded by GpuFlatIndex::mu_.
struct GpuFlatIndex::Device {
  // Read from the device at Create.
  kernels::DeviceL2Properties properties;
  // Two streams: tile t's GEMM runs on streams[t % 2] while tile t-1's
  // selection finishes on the other; selected[t % 2] orders the selections,
  // which all update the same running top-k lists. One cuBLAS handle per
  // stream, bound once: a handle's default workspace must not be shared by
  // GEMMs running concurrently on two streams.
  CudaStream streams[2];
  CublasHandle cublas[2];
  CudaEvent selected[2];
  CudaEvent inputs_ready;
  // Timing events (cheap to record: two per Search).
  CudaEvent search_start;
  CudaEvent search_end;

  // The gallery: capacity rows of RowBytes(), row-major, and their ids
  // (kRemovedId for tombstones). Rows [0, stored) are in use.
  DeviceBuffer<uint8_t> rows;
  DeviceBuffer<uint64_t> row_ids;
  int64_t capacity = 0;

  // Add staging (fp32 rows on the device before conversion; freed after
  // each Add) and the row lists of Remove / compaction.
  DeviceBuffer<float> staging;
  DeviceBuffer<int64_t> row_list;

  // Search workspace, grown on demand and kept.
  DeviceBuffer<float> probes32;
  DeviceBuffer<uint16_t> probes16;
  DeviceBuffer<float> thresholds;
  DeviceBuffer<float> scores[2];
  DeviceBuffer<float> list_scores;
  DeviceBuffer<uint64_t> list_ids;
  DeviceBuffer<int32_t> list_counts;
  // Split selection's per-slice lists (one set: the selections of all tiles
  // are serialized by the `selected` events).
  DeviceBuffer<float> partial_scores;
  DeviceBuffer<uint64_t> partial_ids;
  DeviceBuffer<int32_t> partial_counts;
  // Per probe, what the normalize kernel found (kernels::RowStatus).
  DeviceBuffer<kernels::RowStatus> row_status;
  PinnedBuffer<float> host_probes;
  PinnedBuffer<float> host_thresholds;
  PinnedBuffer<float> host_list_scores;
  PinnedBuffer<uint64_t> host_list_ids;
  PinnedBuffer<int32_t> host_list_counts;
  PinnedBuffer<kernels::RowStatus> host_row_status;

  uint64_t DeviceBytes() const {
    uint64_t bytes = rows.bytes() + row_ids.bytes() + staging.bytes() +
                     row_list.bytes() + probes32.bytes() + probes16.bytes() +
                     thresholds.bytes() + list_scores.bytes() +
                     list_ids.bytes() + list_counts.bytes() +
                     partial_scores.bytes() + partial_ids.bytes() +
                     partial_counts.bytes() + row_status.bytes();
    for (const auto& s : scores) bytes += s.bytes();
    return bytes;
  }
  uint64_t PinnedBytes() const {
    return host_probes.bytes() + host_thresholds.bytes() +
           host_list_scores.bytes() + host_list_ids.bytes() +
           host_list_counts.bytes() + host_row_status.bytes();
  }
  // Waits for both streams, ignoring errors: used on error paths so that no
  // kernel still writes a buffer that the next call reallocates.
  void DrainQuietly() const {
    for (const auto& s : streams) cudaStreamSynchronize(s.get());
  }
};

GpuFlatIndex::GpuFlatIndex(const GpuFlatIndexOptions& options)
    : options_(options) {}

GpuFlatIndex::~GpuFlatIndex() {
  absl::MutexLock lock(&mu_);
  if (device_ != nullptr) {
    cudaSetDevice(options_.device);
    device_->DrainQuietly();
  }
}

absl::StatusOr<std::unique_ptr<GpuFlatIndex>> GpuFlatIndex::Create(
    const GpuFlatIndexOptions& options) {
  if (options.dimension < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("dimension must be positive, got ", options.dimension));
  }
  if (options.max_batch_probes < 1 || options.initial_capacity_rows < 1 ||
      !(options.compaction_fraction > 0.0)) {
    return absl::InvalidArgumentError("bad GPU flat index options");
  }
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    cudaGetLastError();  // clear the non-sticky error
    return absl::FailedPreconditionError("no CUDA device is available");
  }
  if (options.device < 0 || options.device >= devices) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CUDA device ", options.device, " does not exist (", devices, ")"));
  }
  CUDA_RETURN_IF_ERROR(cudaSetDevice(options.device));
  int l2_bytes = 0;
  CUDA_RETURN_IF_ERROR(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize,
                                              options.device));
  int sm_count = 0;
  CUDA_RETURN_IF_ERROR(cudaDeviceGetAttribute(
      &sm_count, cudaDevAttrMultiProcessorCount, options.device));

  auto device = std::make_unique<Device>();
  device->properties = {l2_bytes, sm_count};
  for (int i = 0; i < 2; ++i) {
    auto stream = CudaStream::Create();
    if (!stream.ok()) return stream.status();
    device->streams[i] = *std::move(stream);
    if (absl::Status s = device->cublas[i].Init(); !s.ok()) return s;
    CUBLAS_RETURN_IF_ERROR(
        cublasSetStream(device->cublas[i].get(), device->streams[i].get()));
    auto event = CudaEvent::Create();
    if (!event.ok()) return event.status();
    device->selected[i] = *std::move(event);
  }
  auto ready = CudaEvent::Create();
  if (!ready.ok()) return ready.status();
  device->inputs_ready = *std::move(ready);
  for (CudaEvent* event : {&device->search_start, &device->search_end}) {
    auto timing = CudaEvent::Create(/*timing=*/true);
    if (!timing.ok()) return timing.status();
    *event = *std::move(timing);
  }

  std::unique_ptr<GpuFlatIndex> index(new GpuFlatIndex(options));
  {
    absl::MutexLock lock(&index->mu_);
    index->device_ = std::move(device);
  }
  return index;
}

int64_t GpuFlatIndex::RowBytes() const {
  return static_cast<int64_t>(options_.dimension) *
         (options_.fp16_storage ? 2 : 4);
}

int64_t GpuFlatIndex::size() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(row_of_.size());
}

int64_t GpuFlatIndex::stored_rows() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(row_ids_.size());
}

int64_t GpuFlatIndex::capacity_rows() const {
  absl::MutexLock lock(&mu_);
  return device_->capacity;
}

kernels::ScoreTilePlan GpuFlatIndex::PlanLocked(int64_t probes, int k) const {
  kernels::TileShape shape;
  shape.gallery_rows = static_cast<int64_t>(row_ids_.size());
  shape.probes = probes;
  shape.gallery_row_bytes = RowBytes();
  shape.probe_row_bytes = RowBytes();  // the GEMM's probes match the rows
  shape.k = k;
  shape.min_cols_per_block = options_.selection_min_cols_per_block;
  const double fraction = tuning_.l2_fraction > 0.0
                              ? tuning_.l2_fraction
                              : options_.score_tile_l2_fraction;
  return kernels::PlanScoreTiles(device_->properties, shape, fraction,
                                 options_.score_tile_budget_bytes);
}

int64_t GpuFlatIndex::ScoreTileCols(int64_t probes) const {
  absl::MutexLock lock(&mu_);
  return PlanLocked(probes, 1).tile_cols;
}

kernels::ScoreTilePlan GpuFlatIndex::TilePlan(int64_t probes, int k) const {
  absl::MutexLock lock(&mu_);
  return PlanLocked(probes, k);
}

void GpuFlatIndex::SetSearchTuning(const SearchTuning& tuning) {
  absl::MutexLock lock(&mu_);
  tuning_ = tuning;
}

void GpuFlatIndex::FailNextCompactionForTest(absl::Status status) {
  absl::MutexLock lock(&mu_);
  injected_compaction_failure_ = std::move(status);
}

absl::Status GpuFlatIndex::compaction_status() const {
  absl::MutexLock lock(&mu_);
  return compaction_status_;
}

MemoryBytes GpuFlatIndex::memory() const {
  absl::MutexLock lock(&mu_);
  MemoryBytes bytes;
  // The id map's slots (key, value and one control byte each) and the
  // row -> id vector.
  bytes.host_bytes =
      row_of_.capacity() * (sizeof(EntryId) + sizeof(int64_t) + 1) +
      row_ids_.capacity() * sizeof(EntryId) + device_->PinnedBytes();
  bytes.device_bytes = device_->DeviceBytes();
  return bytes;
}

absl::StatusOr<double> GpuFlatIndex::LastSearchGpuSeconds() const {
  absl::MutexLock lock(&mu_);
  float ms = 0.0f;
  CUDA_RETURN_IF_ERROR(cudaEventElapsedTime(&ms, device_->search_start.get(),
                                            device_->search_end.get()));
  return ms * 1e-3;
}

absl::Status GpuFlatIndex::EnsureCapacity(int64_t rows) {
  Device& d = *device_;
  if (rows <= d.capacity) return absl::OkStatus();
  const int64_t capacity =
      std::max({rows, 2 * d.capacity, options_.initial_capacity_rows});
  const int64_t stored = static_cast<int64_t>(row_ids_.size());
  auto new_rows = DeviceBuffer<uint8_t>::Allocate(
      static_cast<size_t>(capacity * RowBytes()));
  if (!new_rows.ok()) return new_rows.status();
  auto new_ids =
      DeviceBuffer<uint64_t>::Allocate(static_cast<size_t>(capacity));
  if (!new_ids.ok()) return new_ids.status();
  cudaStream_t stream = d.streams[0].get();
  if (stored > 0) {
    // Device-to-device: the host copy of the rows is never needed again.
    CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(new_rows->data(), d.rows.data(),
                                         stored * RowBytes(),
                                         cudaMemcpyDeviceToDevice, stream));
    CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(new_ids->data(), d.row_ids.data(),
                                         stored * sizeof(uint64_t),
                                         cudaMemcpyDeviceToDevice, stream));
    CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
  }
  d.rows = *std::move(new_rows);
  d.row_ids = *std::move(new_ids);
  d.capacity = capacity;
  return absl::OkStatus();
}

absl::Status GpuFlatIndex::Add(absl::Span<const EntryId> ids,
                               absl::Span<const float> vectors) {
  if (vectors.size() != ids.size() * static_cast<size_t>(options_.dimension)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Add: ", vectors.size(), " floats for ", ids.size(),
                     " ids of dimension ", options_.dimension));
  }
  absl::MutexLock lock(&mu_);
  return AddRows(ids, vectors.data(), /*on_device=*/false);
}

absl::Status GpuFlatIndex::AddFromDevice(absl::Span<const EntryId> ids,
                                         const float* device_vectors) {
  absl::MutexLock lock(&mu_);
  return AddRows(ids, device_vectors, /*on_device=*/true);
}

absl::Status GpuFlatIndex::AddRows(absl::Span<const EntryId> ids,
                                   const float* vectors, bool on_device) {
  if (ids.empty()) return absl::OkStatus();
  for (EntryId id : ids) {
    if (id == kernels::kRemovedId) {
      return absl::InvalidArgumentError(
          absl::StrCat("entry id ", id, " is reserved"));
    }
    if (row_of_.contains(id)) {
      return absl::AlreadyExistsError(absl::StrCat("entry id ", id));
    }
  }
  CUDA_RETURN_IF_ERROR(cudaSetDevice(options_.device));
  Device& d = *device_;
  const int64_t n = static_cast<int64_t>(ids.size());
  const int64_t first = static_cast<int64_t>(row_ids_.size());
  const int64_t dim = options_.dimension;
  if (absl::Status s = EnsureCapacity(first + n); !s.ok()) return s;
  cudaStream_t stream = d.streams[0].get();

  const cudaMemcpyKind kind =
      on_device ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice;
  if (options_.fp16_storage) {
    // fp32 rows go to the staging buffer (host rows) or are read in place
    // (device rows), then convert straight into the gallery.
    if (!on_device) {
      if (absl::Status s = Reserve(
              d.staging, static_cast<size_t>(std::min(n, kAddChunkRows) * dim));
          !s.ok()) {
        return s;
      }
    }
    for (int64_t done = 0; done < n; done += kAddChunkRows) {
      const int64_t chunk = std::min(kAddChunkRows, n - done);
      const float* src = vectors + done * dim;
      if (!on_device) {
        CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(
            d.staging.data(), src, chunk * dim * sizeof(float), kind, stream));
        src = d.staging.data();
      }
      uint16_t* dst =
          reinterpret_cast<uint16_t*>(d.rows.data()) + (first + done) * dim;
      if (absl::Status s =
              kernels::FloatToHalfDevice(src, chunk * dim, dst, stream);
          !s.ok()) {
        d.DrainQuietly();
        return s;
      }
      // The staging buffer is reused by the next chunk.
      if (!on_device) CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
    }
  } else {
    float* dst = reinterpret_cast<float*>(d.rows.data()) + first * dim;
    CUDA_RETURN_IF_ERROR(
        cudaMemcpyAsync(dst, vectors, n * dim * sizeof(float), kind, stream));
  }
  CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(d.row_ids.data() + first, ids.data(),
                                       n * sizeof(uint64_t),
                                       cudaMemcpyHostToDevice, stream));
  CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
  // Adds are rare and bulky: the staging memory goes back between them.
  d.staging.Reset();

  row_ids_.insert(row_ids_.end(), ids.begin(), ids.end());
  for (int64_t i = 0; i < n; ++i) row_of_[ids[i]] = first + i;
  return absl::OkStatus();
}

absl::Status GpuFlatIndex::Remove(absl::Span<const EntryId> ids) {
  absl::MutexLock lock(&mu_);
  std::vector<int64_t> rows;
  rows.reserve(ids.size());
  for (EntryId id : ids) {
    auto it = row_of_.find(id);
    if (it == row_of_.end()) {
      return absl::NotFoundError(absl::StrCat("entry id ", id));
    }
    rows.push_back(it->second);
  }
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  if (rows.empty()) return absl::OkStatus();

  CUDA_RETURN_IF_ERROR(cudaSetDevice(options_.device));
  Device& d = *device_;
  cudaStream_t stream = d.streams[0].get();
  if (absl::Status s = Reserve(d.row_list, rows.size()); !s.ok()) return s;
  CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(d.row_list.data(), rows.data(),
                                       rows.size() * sizeof(int64_t),
                                       cudaMemcpyHostToDevice, stream));
  if (absl::Status s = MarkRowsRemovedDevice(d.row_list.data(),
                                             static_cast<int64_t>(rows.size()),
                                             d.row_ids.data(), stream);
      !s.ok()) {
    d.DrainQuietly();
    return s;
  }
  CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
  for (int64_t row : rows) {
    row_of_.erase(row_ids_[row]);
    row_ids_[row] = kernels::kRemovedId;
  }
  removed_rows_ += static_cast<int64_t>(rows.size());
  // The removal is done. A failed compaction leaves a consistent index
  // (Compact changes nothing before its last step) with the tombstones in
  // place; it is recorded, not returned, so that a caller does not retry a
  // removal that already happened (the retry would be NotFound).
  if (static_cast<double>(removed_rows_) >
      options_.compaction_fraction * static_cast<double>(row_ids_.size())) {
    compaction_status_ = Compact();
  }
  return absl::OkStatus();
}

absl::Status GpuFlatIndex::Compact() {
  if (!injected_compaction_failure_.ok()) {
    return std::exchange(injected_compaction_failure_, absl::OkStatus());
  }
  Device& d = *device_;
  std::vector<int64_t> keep;
  keep.reserve(row_of_.size());
  for (int64_t row = 0; row < static_cast<int64_t>(row_ids_.size()); ++row) {
    if (row_ids_[row] != kernels::kRemovedId) keep.push_back(row);
  }
  const int64_t live = static_cast<int64_t>(keep.size());
  // Room for half as much again before the next growth.
  const int64_t capacity =
      std::max(options_.initial_capacity_rows, live + live / 2);
  auto new_rows = DeviceBuffer<uint8_t>::Allocate(
      static_cast<size_t>(capacity * RowBytes()));
  if (!new_rows.ok()) return new_rows.status();
  auto new_ids =
      DeviceBuffer<uint64_t>::Allocate(static_cast<size_t>(capacity));
  if (!new_ids.ok()) return new_ids.status();
  cudaStream_t stream = d.streams[0].get();
  if (live > 0) {
    if (absl::Status s = Reserve(d.row_list, keep.size()); !s.ok()) return s;
    CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(d.row_list.data(), keep.data(),
                                         keep.size() * sizeof(int64_t),
                                         cudaMemcpyHostToDevice, stream));
    if (absl::Status s = GatherRowsDevice(
            d.rows.data(), d.row_ids.data(), d.row_list.data(), live,
            RowBytes(), new_rows->data(), new_ids->data(), stream);
        !s.ok()) {
      d.DrainQuietly();
      return s;
    }
    CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
  }
  d.rows = *std::move(new_rows);
  d.row_ids = *std::move(new_ids);
  d.capacity = capacity;
  std::vector<EntryId> compacted;
  compacted.reserve(keep.size());
  for (int64_t row : keep) compacted.push_back(row_ids_[row]);
  row_ids_ = std::move(compacted);
  for (int64_t row = 0; row < live; ++row) row_of_[row_ids_[row]] = row;
  removed_rows_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<SearchHits> GpuFlatIndex::Search(
    absl::Span<const float> probes,
    absl::Span<const ProbeQuery> queries) const {
  const int64_t dim = options_.dimension;
  if (probes.size() != queries.size() * static_cast<size_t>(dim)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Search: ", probes.size(), " floats for ", queries.size(),
                     " probes of dimension ", dim));
  }
  for (const ProbeQuery& q : queries) {
    if (absl::Status s = kernels::ValidateTopK(q.top_k); !s.ok()) return s;
  }
  SearchHits hits(queries.size());
  absl::MutexLock lock(&mu_);
  if (row_of_.empty()) return hits;
  CUDA_RETURN_IF_ERROR(cudaSetDevice(options_.device));
  const int64_t total = static_cast<int64_t>(queries.size());
  for (int64_t start = 0; start < total; start += options_.max_batch_probes) {
    const int64_t count =
        std::min<int64_t>(options_.max_batch_probes, total - start);
    absl::Status s =
        SearchPass(start, probes.data() + start * dim, queries.data() + start,
                   count, hits.data() + start);
    if (!s.ok()) {
      device_->DrainQuietly();
      return s;
    }
  }
  return hits;
}

// The shape of one device pass, fixed before any of its steps runs.
struct GpuFlatIndex::PassShape {
  int64_t num_probes = 0;
  // The largest top_k of the pass: every probe's list is k slots long.
  int k = 1;
  kernels::ScoreTilePlan plan;
  // Selection blocks that fill the device (kernels::SelectionSplits).
  int64_t target_blocks = 0;

  size_t probes() const { return static_cast<size_t>(num_probes); }
  size_t list_slots() const { return probes() * k; }
};

// One device pass over at most max_batch_probes probes. `probes`,
// `queries` and `hits` point at the pass's first probe, row `first_row` of
// the Search (for error messages). The steps queue work on the streams in
// order; only DownloadLists waits for it.
absl::Status GpuFlatIndex::SearchPass(int64_t first_row, const float* probes,
                                      const ProbeQuery* queries,
                                      int64_t num_probes,
                                      std::vector<ScoredId>* hits) const {
  PassShape shape;
  shape.num_probes = num_probes;
  for (int64_t p = 0; p < num_probes; ++p) {
    shape.k = std::max(shape.k, queries[p].top_k);
  }
  shape.plan = PlanLocked(num_probes, shape.k);
  shape.target_blocks =
      kernels::kSelectionBlocksPerSm * device_->properties.sm_count;

  if (absl::Status s = ReserveWorkspace(shape); !s.ok()) return s;
  if (absl::Status s = UploadProbes(probes, queries, shape); !s.ok()) return s;
  absl::StatusOr<const void*> gemm_probes = NormalizeProbes(shape);
  if (!gemm_probes.ok()) return gemm_probes.status();
  if (absl::Status s = ScoreAndSelectTiles(*gemm_probes, shape); !s.ok()) {
    return s;
  }
  if (absl::Status s = DownloadLists(shape); !s.ok()) return s;
  if (!tuning_.select) return absl::OkStatus();  // GEMM-only: no lists
  return UnpackLists(first_row, queries, shape, hits);
}

// Grows the pass's device and pinned buffers (never shrinks them).
absl::Status GpuFlatIndex::ReserveWorkspace(const PassShape& shape) const {
  Device& d = *device_;
  const size_t probe_floats =
      shape.probes() * static_cast<size_t>(options_.dimension);
  const size_t probes_n = shape.probes();
  const size_t list_slots = shape.list_slots();
  const size_t score_block =
      static_cast<size_t>(shape.plan.tile_cols * shape.num_probes);
  for (absl::Status s :
       {Reserve(d.probes32, probe_floats), Reserve(d.thresholds, probes_n),
        Reserve(d.scores[0], score_block), Reserve(d.scores[1], score_block),
        Reserve(d.list_scores, list_slots), Reserve(d.list_ids, list_slots),
        Reserve(d.list_counts, probes_n), Reserve(d.host_probes, probe_floats),
        Reserve(d.host_thresholds, probes_n),
        Reserve(d.host_list_scores, list_slots),
        Reserve(d.host_list_ids, list_slots),
        Reserve(d.host_list_counts, probes_n), Reserve(d.row_status, probes_n),
        Reserve(d.host_row_status, probes_n)}) {
    if (!s.ok()) return s;
  }
  if (options_.fp16_storage) {
    if (absl::Status s = Reserve(d.probes16, probe_floats); !s.ok()) return s;
  }
  if (shape.plan.splits > 1) {
    const size_t partial_lists = probes_n * shape.plan.splits;
    for (absl::Status s : {Reserve(d.partial_scores, partial_lists * shape.k),
                           Reserve(d.partial_ids, partial_lists * shape.k),
                           Reserve(d.partial_counts, partial_lists)}) {
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// Copies the probes and their thresholds to the device on stream 0, through
// pinned buffers so that the copies are truly async. Starts the pass's
// timing.
absl::Status GpuFlatIndex::UploadProbes(const float* probes,
                                        const ProbeQuery* queries,
                                        const PassShape& shape) const {
  Device& d = *device_;
  const size_t probe_floats =
      shape.probes() * static_cast<size_t>(options_.dimension);
  std::memcpy(d.host_probes.data(), probes, probe_floats * sizeof(float));
  for (int64_t p = 0; p < shape.num_probes; ++p) {
    d.host_thresholds.data()[p] = queries[p].threshold;
  }
  cudaStream_t s0 = d.streams[0].get();
  CUDA_RETURN_IF_ERROR(cudaEventRecord(d.search_start.get(), s0));
  CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(d.probes32.data(), d.host_probes.data(),
                                       probe_floats * sizeof(float),
                                       cudaMemcpyHostToDevice, s0));
  CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(
      d.thresholds.data(), d.host_thresholds.data(),
      shape.probes() * sizeof(float), cudaMemcpyHostToDevice, s0));
  return absl::OkStatus();
}

// Normalizes the uploaded probes (NormalizesProbes): into the fp16 GEMM
// input, or in place for an fp32 gallery. Rows arrive checked, so a bad row
// found here means a caller skipped the check; its status comes back with
// the lists (UnpackLists). Returns the GEMM's probe operand; both streams
// wait for it.
absl::StatusOr<const void*> GpuFlatIndex::NormalizeProbes(
    const PassShape& shape) const {
  Device& d = *device_;
  const int64_t dim = options_.dimension;
  cudaStream_t s0 = d.streams[0].get();
  absl::Status normalized =
      options_.fp16_storage
          ? kernels::L2NormalizeRowsToHalfDevice(
                d.probes32.data(), shape.num_probes, dim, d.probes16.data(),
                d.row_status.data(), s0)
          : kernels::L2NormalizeRowsDevice(d.probes32.data(), shape.num_probes,
                                           dim, d.probes32.data(),
                                           d.row_status.data(), s0);
  if (!normalized.ok()) return normalized;
  CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(
      d.host_row_status.data(), d.row_status.data(),
      shape.probes() * sizeof(kernels::RowStatus), cudaMemcpyDeviceToHost,
      s0));
  CUDA_RETURN_IF_ERROR(cudaEventRecord(d.inputs_ready.get(), s0));
  CUDA_RETURN_IF_ERROR(
      cudaStreamWaitEvent(d.streams[1].get(), d.inputs_ready.get(), 0));
  if (options_.fp16_storage) return static_cast<const void*>(d.probes16.data());
  return static_cast<const void*>(d.probes32.data());
}

// The tile loop: for each tile of gallery rows, a cuBLAS GEMM writes the
// probes x tile score block, and the selection kernel folds it into each
// probe's running top-k. Tiles alternate between the two streams so that
// tile t's GEMM overlaps tile t-1's selection.
absl::Status GpuFlatIndex::ScoreAndSelectTiles(const void* gemm_probes,
                                               const PassShape& shape) const {
  Device& d = *device_;
  const int64_t dim = options_.dimension;
  const int64_t stored = static_cast<int64_t>(row_ids_.size());
  const int64_t num_probes = shape.num_probes;
  const int64_t tile_cols = shape.plan.tile_cols;
  kernels::SelectTuning select_tuning;
  select_tuning.skip_unchanged_sort = tuning_.skip_unchanged_sort;
  const kernels::DeviceTopKLists partial{
      d.partial_scores.data(), d.partial_ids.data(), d.partial_counts.data()};
  const kernels::DeviceTopKLists lists{d.list_scores.data(), d.list_ids.data(),
                                       d.list_counts.data()};
  const cudaDataType_t input_type =
      options_.fp16_storage ? CUDA_R_16F : CUDA_R_32F;
  const float alpha = 1.0f, beta = 0.0f;
  for (int64_t t = 0; t < shape.plan.num_tiles; ++t) {
    const int slot = static_cast<int>(t % 2);
    cudaStream_t stream = d.streams[slot].get();
    const int64_t first_col = t * tile_cols;
    // Every tile but the last has tile_cols columns; the last is not wider.
    const int64_t cols = std::min(tile_cols, stored - first_col);
    // scores (cols x probes, column-major, ld = cols) =
    //   rows[first_col ..]^T (cols x dim) * probes (dim x probes):
    // i.e. probe p's scores are the contiguous run scores + p * cols.
    CUBLAS_RETURN_IF_ERROR(cublasGemmEx(
        d.cublas[slot].get(), CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(cols),
        static_cast<int>(num_probes), static_cast<int>(dim), &alpha,
        d.rows.data() + first_col * RowBytes(), input_type,
        static_cast<int>(dim), gemm_probes, input_type, static_cast<int>(dim),
        &beta, d.scores[slot].data(), CUDA_R_32F, static_cast<int>(cols),
        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    if (!tuning_.select) continue;  // GEMM-only timing (SearchTuning)
    // Selections update the same running lists: each waits for the last.
    if (t > 0) {
      CUDA_RETURN_IF_ERROR(
          cudaStreamWaitEvent(stream, d.selected[1 - slot].get(), 0));
    }
    // A narrower last tile may take fewer splits than the others.
    const int tile_splits = std::min(
        shape.plan.splits,
        kernels::SelectionSplits(num_probes, cols, shape.target_blocks,
                                 options_.selection_min_cols_per_block,
                                 shape.plan.max_splits));
    if (absl::Status s = kernels::SelectTopKSplitDevice(
            d.scores[slot].data(), num_probes, cols, cols,
            d.row_ids.data() + first_col, d.thresholds.data(), shape.k,
            tile_splits, partial, /*merge_into_lists=*/t > 0, lists, stream,
            select_tuning);
        !s.ok()) {
      return s;
    }
    CUDA_RETURN_IF_ERROR(cudaEventRecord(d.selected[slot].get(), stream));
  }
  return absl::OkStatus();
}

// Copies the top-k lists to the pinned host buffers after the last tile's
// selection, ends the pass's timing and waits for both streams. GEMM-only
// passes (SearchTuning::select = false) download nothing.
absl::Status GpuFlatIndex::DownloadLists(const PassShape& shape) const {
  Device& d = *device_;
  cudaStream_t last = d.streams[(shape.plan.num_tiles - 1) % 2].get();
  if (!tuning_.select) {
    // Both streams' GEMMs end before the timing event.
    CUDA_RETURN_IF_ERROR(
        cudaEventRecord(d.selected[0].get(), d.streams[0].get()));
    CUDA_RETURN_IF_ERROR(
        cudaEventRecord(d.selected[1].get(), d.streams[1].get()));
    CUDA_RETURN_IF_ERROR(cudaStreamWaitEvent(last, d.selected[0].get(), 0));
    CUDA_RETURN_IF_ERROR(cudaStreamWaitEvent(last, d.selected[1].get(), 0));
  } else {
    CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(
        d.host_list_counts.data(), d.list_counts.data(),
        shape.probes() * sizeof(int32_t), cudaMemcpyDeviceToHost, last));
    CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(
        d.host_list_scores.data(), d.list_scores.data(),
        shape.list_slots() * sizeof(float), cudaMemcpyDeviceToHost, last));
    CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(
        d.host_list_ids.data(), d.list_ids.data(),
        shape.list_slots() * sizeof(uint64_t), cudaMemcpyDeviceToHost, last));
  }
  CUDA_RETURN_IF_ERROR(cudaEventRecord(d.search_end.get(), last));
  for (const auto& s : d.streams) {
    CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(s.get()));
  }
  return absl::OkStatus();
}

// Turns the downloaded lists into each probe's hits, after reporting the
// first probe the normalize kernel could not normalize.
absl::Status GpuFlatIndex::UnpackLists(int64_t first_row,
                                       const ProbeQuery* queries,
                                       const PassShape& shape,
                                       std::vector<ScoredId>* hits) const {
  const Device& d = *device_;
  for (int64_t p = 0; p < shape.num_probes; ++p) {
    const kernels::RowStatus status = d.host_row_status.data()[p];
    if (status != kernels::RowStatus::kOk) {
      return kernels::BadRowError("probes", first_row + p, status);
    }
  }
  // Each probe's list holds the top-k of the pass's largest k; its own
  // top_k is a prefix of that (the order is total).
  for (int64_t p = 0; p < shape.num_probes; ++p) {
    const int32_t found = d.host_list_counts.data()[p];
    const int32_t n = std::min(found, queries[p].top_k);
    std::vector<ScoredId>& out = hits[p];
    out.resize(static_cast<size_t>(n));
    const size_t base = static_cast<size_t>(p) * shape.k;
    for (int32_t i = 0; i < n; ++i) {
      out[i] = ScoredId{d.host_list_ids.data()[base + i],
                        d.host_list_scores.data()[base + i]};
    }
  }
  return absl::OkStatus();
}

}  // namespace candor::index::gpu
