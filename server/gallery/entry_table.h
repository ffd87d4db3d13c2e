// The live entries of a gallery: ids, subjects, groups in host memory, and
// each entry's vector (a row of dimension floats). A row lives either in
// the table's own memory (entries enrolled since the last snapshot) or in
// a memory-mapped snapshot file (the rest), so a gallery does not keep a
// second full copy of its vectors beside its index. The rows feed
// snapshots, index rebuilds and a bf16 index's fp32 rescoring. Not
// thread-safe: the gallery guards it with its reader/writer lock.
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
#include "absl/status/statusor.h"
#include "server/index/bf16_flat_index.h"
#include "server/index/index.h"
#include "server/index/index_factory.h"

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

  // Adds one entry with a copy of `vector` in the table's own memory; `id`
  // must be new (the caller checks).
  void Add(EntryId id, const std::string& subject_id, const std::string& group,
           const float* vector);
  // Adds one entry whose row lives elsewhere (a mapped snapshot) and stays
  // valid while `row` is held.
  void AddShared(EntryId id, const std::string& subject_id,
                 const std::string& group, std::shared_ptr<const float> row);
  // Moves the row of every entry `other` also holds onto other's row (a
  // snapshot just written and mapped); the table's own copies of those
  // rows, and its hold on rows elsewhere, are released. Returns how many
  // rows moved. Both tables must have the same dimension and each shared
  // entry the same vector.
  size_t AdoptRows(const EntryTable& other);
  // Removes a live entry (the last row moves into its place). False if
  // `id` is not live.
  bool Remove(EntryId id);

  // Forgets every entry, releasing every row (a deleted gallery's table,
  // before its files are erased).
  void Clear();

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
  const float* vector_at(size_t row) const { return rows_[row].get(); }
  // The row of a live id, or -1.
  int64_t RowOf(EntryId id) const;

  absl::Span<const EntryId> ids() const { return ids_; }
  // Copies rows [first, first + count) into `out` (count x dimension
  // floats, row-major).
  void CopyRows(size_t first, size_t count, float* out) const;
  // Every row as it is now, each kept valid while the copy is held (a
  // snapshot is written from them without the gallery's lock).
  std::vector<std::shared_ptr<const float>> ShareRows() const { return rows_; }
  // Rows in the table's own memory (the rest are mapped).
  size_t owned_rows() const { return owned_rows_; }

  // The rows by entry id, for an index that rescores from them (a bf16
  // gallery's). The pointer is stable for the table's life, across moves;
  // each Row call reads the table as it is then (under the gallery's lock).
  const index::Fp32RowSource* fp32_rows() const { return rows_source_.get(); }

  // Host bytes held: owned rows, ids, strings and lookup tables (estimated
  // from capacities and per-node sizes). Mapped rows are not counted: the
  // kernel keeps them as page cache it can drop (MappedBytes).
  uint64_t HostBytes() const;
  // Bytes of rows read from a mapped snapshot.
  uint64_t MappedBytes() const;

 private:
  int dimension_;
  std::vector<EntryId> ids_;
  std::vector<std::string> subject_ids_;
  std::vector<std::string> groups_;
  // One per row; a row the table owns is zeroed when its last holder
  // lets go (a removed vector should not linger in freed memory).
  std::vector<std::shared_ptr<const float>> rows_;
  size_t owned_rows_ = 0;
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

// A fresh index of `config` (its bf16 rescoring reading the table's rows)
// holding every entry, trained on every row first when `train`. Rows are
// added a bounded chunk at a time.
absl::StatusOr<std::unique_ptr<index::Index>> BuildIndex(
    const EntryTable& table, const index::IndexConfig& config,
    index::Backend backend, bool train);

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_ENTRY_TABLE_H_
