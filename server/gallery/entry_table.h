// The live entries of a gallery in host memory: ids, subjects, groups and
// vectors (rows of dimension floats, contiguous, in no particular order).
// The host copy feeds snapshots and index rebuilds. Not thread-safe: the
// gallery guards it with its reader/writer lock.
#ifndef CANDOR_SERVER_GALLERY_ENTRY_TABLE_H_
#define CANDOR_SERVER_GALLERY_ENTRY_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "server/common/types.h"
#include "server/index/bf16_flat_index.h"

namespace candor::gallery {

class EntryTable {
 public:
  explicit EntryTable(int dimension);
  // Moves keep fp32_rows() valid (it follows the table); no copies.
  EntryTable(EntryTable&& other) noexcept;
  EntryTable& operator=(EntryTable&& other) noexcept;
  EntryTable(const EntryTable&) = delete;
  EntryTable& operator=(const EntryTable&) = delete;

  int dimension() const { return dimension_; }
  size_t size() const { return ids_.size(); }
  bool Contains(EntryId id) const { return row_of_.contains(id); }

  // Adds one entry; `id` must be new (the caller checks).
  void Add(EntryId id, const std::string& subject_id, const std::string& group,
           const float* vector);
  // Removes a live entry (the last row moves into its place). False if
  // `id` is not live.
  bool Remove(EntryId id);

  // Live ids of a subject, in enrollment order; empty if none.
  std::vector<EntryId> SubjectEntries(const std::string& subject_id) const;
  size_t subject_count() const { return subjects_.size(); }
  // Live entries per group label ("" = none).
  const std::map<std::string, uint64_t>& group_counts() const {
    return group_counts_;
  }

  // Row access (row < size()); rows are renumbered by Remove.
  EntryId id_at(size_t row) const { return ids_[row]; }
  const std::string& subject_at(size_t row) const { return subject_ids_[row]; }
  const std::string& group_at(size_t row) const { return groups_[row]; }
  const float* vector_at(size_t row) const {
    return vectors_.data() + row * static_cast<size_t>(dimension_);
  }
  // The row of a live id, or -1.
  int64_t RowOf(EntryId id) const;

  absl::Span<const EntryId> ids() const { return ids_; }
  // size() x dimension floats, row-major, rows as ids().
  absl::Span<const float> vectors() const { return vectors_; }

  // The rows by entry id, for an index that rescores from them (a bf16
  // gallery's). The pointer is stable for the table's life, across moves;
  // each Row call reads the table as it is then (under the gallery's lock).
  const index::Fp32RowSource* fp32_rows() const { return rows_source_.get(); }

  // Host bytes held: vectors, ids, strings and lookup tables (estimated
  // from capacities and per-node sizes).
  uint64_t HostBytes() const;

 private:
  int dimension_;
  std::vector<EntryId> ids_;
  std::vector<std::string> subject_ids_;
  std::vector<std::string> groups_;
  std::vector<float> vectors_;
  absl::flat_hash_map<EntryId, size_t> row_of_;
  absl::flat_hash_map<std::string, std::vector<EntryId>> subjects_;
  std::map<std::string, uint64_t> group_counts_;

  class RowSource final : public index::Fp32RowSource {
   public:
    explicit RowSource(const EntryTable* table) : table_(table) {}
    const float* Row(EntryId id) const override;
    void Point(const EntryTable* table) { table_ = table; }

   private:
    const EntryTable* table_;
  };
  std::unique_ptr<RowSource> rows_source_;
};

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_ENTRY_TABLE_H_
