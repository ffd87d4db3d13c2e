#include "server/gallery/entry_table.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace candor::gallery {

EntryTable::EntryTable(int dimension)
    : dimension_(dimension), rows_source_(std::make_unique<RowSource>(this)) {}

EntryTable::EntryTable(EntryTable&& other) noexcept { *this = std::move(other); }

EntryTable& EntryTable::operator=(EntryTable&& other) noexcept {
  dimension_ = other.dimension_;
  ids_ = std::move(other.ids_);
  subject_ids_ = std::move(other.subject_ids_);
  groups_ = std::move(other.groups_);
  vectors_ = std::move(other.vectors_);
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
  row_of_[id] = ids_.size();
  ids_.push_back(id);
  subject_ids_.push_back(subject_id);
  groups_.push_back(group);
  vectors_.insert(vectors_.end(), vector, vector + dimension_);
  subjects_[subject_id].push_back(id);
  ++group_counts_[group];
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

  const size_t last = ids_.size() - 1;
  const size_t dim = static_cast<size_t>(dimension_);
  if (row != last) {
    ids_[row] = ids_[last];
    subject_ids_[row] = std::move(subject_ids_[last]);
    groups_[row] = std::move(groups_[last]);
    std::memcpy(vectors_.data() + row * dim, vectors_.data() + last * dim,
                dim * sizeof(float));
    row_of_[ids_[row]] = row;
  }
  ids_.pop_back();
  subject_ids_.pop_back();
  groups_.pop_back();
  // Zero the vacated row before shrinking: the vector of a removed entry
  // should not linger in memory that a later snapshot might copy.
  std::fill(vectors_.begin() + last * dim, vectors_.end(), 0.0f);
  vectors_.resize(last * dim);
  return true;
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
  uint64_t bytes = vectors_.capacity() * sizeof(float) +
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

}  // namespace candor::gallery
