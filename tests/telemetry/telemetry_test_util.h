// Test helpers for the telemetry units: a scratch directory, and a tiny
// in-memory gallery searched by brute force (the role a server's index or a
// router's shards play behind the calibrator's callbacks).
#ifndef CANDOR_TESTS_TELEMETRY_TELEMETRY_TEST_UTIL_H_
#define CANDOR_TESTS_TELEMETRY_TELEMETRY_TEST_UTIL_H_

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "server/common/types.h"
#include "server/telemetry/calibrator.h"

namespace candor::telemetry::testing {

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "candor-tel-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct FakeEntry {
  EntryId id;
  std::string subject;
  std::string group;
  std::vector<float> vector;  // unit length
};

// A gallery of 2-d unit vectors, searched exactly (best score first, ties
// by entry id), counting its search calls and their probes.
class FakeGallery {
 public:
  void Add(EntryId id, const std::string& subject, const std::string& group,
           float angle) {
    entries_.push_back(
        {id, subject, group, {std::cos(angle), std::sin(angle)}});
  }
  const std::vector<FakeEntry>& entries() const { return entries_; }

  std::vector<std::vector<Candidate>> Search(
      const std::vector<float>& probes,
      const std::vector<CalibrationQuery>& queries) {
    ++calls_;
    probes_ += static_cast<int>(queries.size());
    std::vector<std::vector<Candidate>> out(queries.size());
    for (size_t i = 0; i < queries.size(); ++i) {
      for (const FakeEntry& e : entries_) {
        const float score = probes[2 * i] * e.vector[0] +
                            probes[2 * i + 1] * e.vector[1];
        out[i].push_back({e.id, e.subject, e.group, score});
      }
      std::sort(out[i].begin(), out[i].end(),
                [](const Candidate& a, const Candidate& b) {
                  return a.score != b.score ? a.score > b.score
                                            : a.entry_id < b.entry_id;
                });
      if (out[i].size() > static_cast<size_t>(queries[i].top_k)) {
        out[i].resize(static_cast<size_t>(queries[i].top_k));
      }
    }
    return out;
  }

  // A backend over this gallery: probes read as float32 rows (2 columns).
  CalibrationBackend Backend(const std::string& name = "g") {
    CalibrationBackend b;
    b.gallery = {name, 2, entries_.size(), 7};
    b.max_top_k = 100;
    b.read_probes = [](const v1::Matrix& m, const std::string& field)
        -> absl::StatusOr<std::vector<float>> {
      if (m.cols() != 2) {
        return absl::InvalidArgumentError(field + ": wrong width");
      }
      std::vector<float> rows(m.rows() * 2);
      std::memcpy(rows.data(), m.data().data(), rows.size() * sizeof(float));
      return rows;
    };
    b.search = [this](std::vector<float> probes,
                      std::vector<CalibrationQuery> queries, absl::Time) {
      return absl::StatusOr<std::vector<std::vector<Candidate>>>(
          Search(probes, queries));
    };
    return b;
  }

  int calls() const { return calls_; }
  int probes() const { return probes_; }

 private:
  std::vector<FakeEntry> entries_;
  int calls_ = 0;
  int probes_ = 0;
};

// A float32 matrix of 2-d unit rows at these angles.
inline v1::Matrix Rows(const std::vector<float>& angles) {
  std::vector<float> values;
  for (float a : angles) {
    values.push_back(std::cos(a));
    values.push_back(std::sin(a));
  }
  v1::Matrix m;
  m.set_rows(static_cast<uint32_t>(angles.size()));
  m.set_cols(2);
  m.set_data(values.data(), values.size() * sizeof(float));
  return m;
}

}  // namespace candor::telemetry::testing

#endif  // CANDOR_TESTS_TELEMETRY_TELEMETRY_TEST_UTIL_H_
