#include "server/gallery/entry_table.h"

#include <string.h>  // explicit_bzero

#include <algorithm>
#include <cstring>
#include <utility>

namespace candor::gallery {
namespace {

// Frees a row the table owns, zeroing it first (explicit_bzero: a plain
// fill before delete may be optimized away).
struct OwnedRowDeleter {
  size_t dimension;
  void operator()(const float* row) const {
    float* p = const_cast<float*>(row);
    explicit_bzero(p, dimension * sizeof(float));
    delete[] p;
  }
};

bool IsOwned(const std::shared_ptr<const float>& row) {
  return std::get_deleter<OwnedRowDeleter>(row) != nullptr;
}

}  // namespace

EntryTable::EntryTable(int dimension)
    : dimension_(dimension), rows_source_(std::make_unique<RowSource>(this)) {}

EntryTable::EntryTable(EntryTable&& other) noexcept { *this = std::move(other); }

EntryTable& EntryTable::operator=(EntryTable&& other) noexcept {
  dimension_ = other.dimension_;
  ids_ = std::move(other.ids_);
  subject_ids_ = std::move(other.subject_ids_);
  groups_ = std::move(other.groups_);
  rows_ = std::move(other.rows_);
  owned_rows_ = std::exchange(other.owned_rows_, 0);
  row_of_ = std::move(other.row_of_);
  subjects_ = std::move(other.subjects_);
  group_counts_ = std::move(other.group_counts_);
  // The source moves with the rows (an index may hold its address); the
  // emptied table gets a fresh one.
  rows_source_ = std::move(other.rows_source_);
  if (rows_source_ == nullptr) rows_source_ = std::make_unique<RowSource>(this);
  rows_source_->Point(this);
  other.rows_source_ = std::make_unique<RowSource>(&other);
  return *this;
}

const float* EntryTable::RowSource::Row(EntryId id) const {
  const int64_t row = table_->RowOf(id);
  return row < 0 ? nullptr : table_->vector_at(static_cast<size_t>(row));
}

void EntryTable::Add(EntryId id, const std::string& subject_id,
                     const std::string& group, const float* vector) {
  const size_t dim = static_cast<size_t>(dimension_);
  float* row = new float[dim];
  std::memcpy(row, vector, dim * sizeof(float));
  AddShared(id, subject_id, group,
            std::shared_ptr<const float>(row, OwnedRowDeleter{dim}));
}

void EntryTable::AddShared(EntryId id, const std::string& subject_id,
                           const std::string& group,
                           std::shared_ptr<const float> row) {
  row_of_[id] = ids_.size();
  ids_.push_back(id);
  subject_ids_.push_back(subject_id);
  groups_.push_back(group);
  if (IsOwned(row)) ++owned_rows_;
  rows_.push_back(std::move(row));
  subjects_[subject_id].push_back(id);
  ++group_counts_[group];
}

size_t EntryTable::AdoptRows(const EntryTable& other) {
  size_t moved = 0;
  for (size_t i = 0; i < other.size(); ++i) {
    auto it = row_of_.find(other.ids_[i]);
    if (it == row_of_.end()) continue;
    std::shared_ptr<const float>& row = rows_[it->second];
    if (IsOwned(row)) --owned_rows_;
    if (IsOwned(other.rows_[i])) ++owned_rows_;
    row = other.rows_[i];
    ++moved;
  }
  return moved;
}

void EntryTable::CopyRows(size_t first, size_t count, float* out) const {
  const size_t dim = static_cast<size_t>(dimension_);
  for (size_t i = 0; i < count; ++i) {
    std::memcpy(out + i * dim, rows_[first + i].get(), dim * sizeof(float));
  }
}

bool EntryTable::Remove(EntryId id) {
  auto it = row_of_.find(id);
  if (it == row_of_.end()) return false;
  const size_t row = it->second;
  row_of_.erase(it);

  auto subject = subjects_.find(subject_ids_[row]);
  auto& list = subject->second;
  list.erase(std::find(list.begin(), list.end(), id));
  if (list.empty()) subjects_.erase(subject);
  auto group = group_counts_.find(groups_[row]);
  if (--group->second == 0) group_counts_.erase(group);

  // An owned row is zeroed and freed once no snapshot writer holds it.
  if (IsOwned(rows_[row])) --owned_rows_;
  const size_t last = ids_.size() - 1;
  if (row != last) {
    ids_[row] = ids_[last];
    subject_ids_[row] = std::move(subject_ids_[last]);
    groups_[row] = std::move(groups_[last]);
    rows_[row] = std::move(rows_[last]);
    row_of_[ids_[row]] = row;
  }
  ids_.pop_back();
  subject_ids_.pop_back();
  groups_.pop_back();
  rows_.pop_back();
  return true;
}

void EntryTable::Clear() {
  ids_.clear();
  subject_ids_.clear();
  groups_.clear();
  std::vector<std::shared_ptr<const float>>().swap(rows_);
  owned_rows_ = 0;
  row_of_.clear();
  subjects_.clear();
  group_counts_.clear();
}

std::vector<EntryId> EntryTable::SubjectEntries(
    const std::string& subject_id) const {
  auto it = subjects_.find(subject_id);
  if (it == subjects_.end()) return {};
  return it->second;
}

int64_t EntryTable::RowOf(EntryId id) const {
  auto it = row_of_.find(id);
  return it == row_of_.end() ? -1 : static_cast<int64_t>(it->second);
}

uint64_t EntryTable::HostBytes() const {
  // An owned row: its floats plus the shared control block with its
  // deleter (two counts, a vtable pointer, the pointer and the deleter).
  const uint64_t owned_row_bytes =
      static_cast<uint64_t>(dimension_) * sizeof(float) + 2 * sizeof(long) +
      2 * sizeof(void*) + sizeof(OwnedRowDeleter);
  uint64_t bytes = owned_rows_ * owned_row_bytes +
                   rows_.capacity() * sizeof(rows_[0]) +
                   ids_.capacity() * sizeof(EntryId) +
                   (subject_ids_.capacity() + groups_.capacity()) *
                       sizeof(std::string);
  for (size_t i = 0; i < ids_.size(); ++i) {
    // Heap bytes of strings past the small-string buffer.
    if (subject_ids_[i].capacity() > 15) bytes += subject_ids_[i].capacity();
    if (groups_[i].capacity() > 15) bytes += groups_[i].capacity();
  }
  // Swiss tables: one control byte plus the slot per bucket.
  bytes += row_of_.capacity() * (1 + sizeof(std::pair<EntryId, size_t>));
  bytes += subjects_.capacity() *
           (1 + sizeof(std::pair<std::string, std::vector<EntryId>>));
  for (const auto& [subject, list] : subjects_) {
    bytes += list.capacity() * sizeof(EntryId);
    if (subject.capacity() > 15) bytes += subject.capacity();
  }
  // std::map node: three pointers and a color word besides the value.
  bytes += group_counts_.size() *
           (4 * sizeof(void*) + sizeof(std::pair<std::string, uint64_t>));
  return bytes;
}

absl::StatusOr<std::unique_ptr<index::Index>> BuildIndex(
    const EntryTable& table, const index::IndexConfig& config,
    index::Backend backend, bool train) {
  index::IndexConfig with_rows = config;
  with_rows.fp32_rows = table.fp32_rows();
  auto index = index::CreateIndex(with_rows, backend);
  if (!index.ok() || table.size() == 0) return index;
  const size_t dim = static_cast<size_t>(table.dimension());
  std::vector<float> rows;
  if (train) {
    // Train empties the index, so it comes before Add.
    rows.resize(table.size() * dim);
    table.CopyRows(0, table.size(), rows.data());
    if (auto s = (*index)->Train(rows, config.nlist); !s.ok()) return s;
  }
  constexpr size_t kChunk = 8192;
  rows.resize(std::min(kChunk, table.size()) * dim);
  for (size_t first = 0; first < table.size(); first += kChunk) {
    const size_t n = std::min(kChunk, table.size() - first);
    table.CopyRows(first, n, rows.data());
    if (auto s = (*index)->Add(table.ids().subspan(first, n),
                               absl::MakeConstSpan(rows.data(), n * dim));
        !s.ok()) {
      return s;
    }
  }
  return index;
}

uint64_t EntryTable::MappedBytes() const {
  return static_cast<uint64_t>(rows_.size() - owned_rows_) *
         static_cast<uint64_t>(dimension_) * sizeof(float);
}

}  // namespace candor::gallery
