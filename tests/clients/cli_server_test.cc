// The candor CLI end to end against a real candor-server: galleries,
// enrollment from synthetic files, search output checked against a
// brute-force cosine search computed here, removal, compaction, and
// malformed input.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "clients/cli/csv.h"
#include "clients/cli/npy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/clients/server_fixture.h"

namespace candor {
namespace {

using test_util::CommandResult;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int kDim = 16;
constexpr int kTopK = 5;
constexpr float kThreshold = 0.3f;
// Server scores are float32 on normalized float32 vectors; the oracle
// works in double. Scores closer than this to a decision boundary are not
// held against the server.
constexpr double kScoreTolerance = 1e-4;

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

std::vector<double> Normalized(const FloatMatrix& m, int64_t row) {
  std::vector<double> v(m.values.begin() + row * m.cols,
                        m.values.begin() + (row + 1) * m.cols);
  double norm = 0;
  for (double x : v) norm += x * x;
  for (double& x : v) x /= std::sqrt(norm);
  return v;
}

double Cosine(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += a[i] * b[i];
  return sum;
}

class CliServerTest : public test_util::ServerFixture {
 protected:
  // Writes a synthetic set into `dir` with the CLI itself.
  void Synth(const std::string& dir) {
    CommandResult r =
        Candor({"synth", "--out", dir, "--subjects", "40", "--per-subject", "2",
                "--dim", std::to_string(kDim), "--groups", "A,B", "--seed", "3",
                "--mated-probes", "20", "--nonmated-subjects", "20"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Creates `name` and enrolls dir/gallery.*; returns the entry ids.
  std::vector<uint64_t> CreateAndEnroll(const std::string& name,
                                        const std::string& dir) {
    CommandResult create =
        Candor({"gallery", "create", name, "--dim", std::to_string(kDim)});
    EXPECT_EQ(create.exit_code, 0) << create.err;
    CommandResult enroll =
        Candor({"enroll", name, "--vectors", dir + "/gallery.npy", "--meta",
                dir + "/gallery.csv", "--batch-size", "25"});
    EXPECT_EQ(enroll.exit_code, 0) << enroll.err << ServerLog();
    if (enroll.exit_code != 0) return {};
    return nlohmann::json::parse(enroll.out).get<std::vector<uint64_t>>();
  }
  std::string Dir(const std::string& name) const {
    return scratch() + "/" + name;
  }
};

TEST_F(CliServerTest, GalleryCreateListInfoDelete) {
  CommandResult create = Candor(
      {"gallery", "create", "lifecycle", "--dim", "8", "--index", "flat"});
  ASSERT_EQ(create.exit_code, 0) << create.err;
  nlohmann::json created = nlohmann::json::parse(create.out);
  EXPECT_EQ(created["name"], "lifecycle");
  EXPECT_EQ(created["dimension"], 8);

  CommandResult list = Candor({"gallery", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::vector<std::string> names;
  for (const auto& g : nlohmann::json::parse(list.out))
    names.push_back(g["name"]);
  EXPECT_THAT(names, ::testing::Contains("lifecycle"));

  CommandResult info = Candor({"gallery", "info", "lifecycle"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  // uint64 fields are strings in proto3 JSON.
  EXPECT_EQ(nlohmann::json::parse(info.out)["size"], "0");

  CommandResult again =
      Candor({"gallery", "create", "lifecycle", "--dim", "8"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, StartsWith("candor: error: ALREADY_EXISTS: "));

  ASSERT_EQ(Candor({"gallery", "delete", "lifecycle"}).exit_code, 0);
  CommandResult gone = Candor({"gallery", "info", "lifecycle"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_THAT(gone.err, StartsWith("candor: error: NOT_FOUND: "));
}

TEST_F(CliServerTest, SearchMatchesBruteForce) {
  const std::string dir = Dir("brute");
  Synth(dir);
  const std::vector<uint64_t> ids = CreateAndEnroll("brute", dir);
  ASSERT_EQ(ids.size(), 80u);
  EXPECT_EQ(std::set<uint64_t>(ids.begin(), ids.end()).size(), 80u);

  absl::StatusOr<FloatMatrix> gallery = ReadNpy(dir + "/gallery.npy");
  absl::StatusOr<CsvTable> gallery_meta = ReadCsv(dir + "/gallery.csv");
  ASSERT_TRUE(gallery.ok() && gallery_meta.ok());
  std::map<uint64_t, int64_t> row_of;
  for (size_t r = 0; r < ids.size(); ++r) row_of[ids[r]] = r;

  for (const std::string set : {"mated", "nonmated"}) {
    SCOPED_TRACE(set);
    absl::StatusOr<FloatMatrix> probes = ReadNpy(dir + "/" + set + ".npy");
    absl::StatusOr<CsvTable> meta = ReadCsv(dir + "/" + set + ".csv");
    ASSERT_TRUE(probes.ok() && meta.ok());
    CommandResult search = Candor(
        {"search", "brute", "--probes", dir + "/" + set + ".npy", "--meta",
         dir + "/" + set + ".csv", "--threshold", "0.3", "--top-k",
         std::to_string(kTopK), "--batch-size", "7", "--purpose", "test"});
    ASSERT_EQ(search.exit_code, 0) << search.err;
    std::vector<nlohmann::json> lines = JsonLines(search.out);
    ASSERT_EQ(lines.size(), static_cast<size_t>(probes->rows) + 1);
    EXPECT_TRUE(lines.back().contains("report"));

    for (int64_t p = 0; p < probes->rows; ++p) {
      SCOPED_TRACE(p);
      const nlohmann::json& line = lines[p];
      EXPECT_EQ(line["probe"], p);
      EXPECT_EQ(line["group"], meta->records[p][0]);
      EXPECT_EQ(line["ref"], meta->records[p][1]);
      const std::vector<double> probe = Normalized(*probes, p);
      std::vector<double> scores(gallery->rows);
      for (int64_t e = 0; e < gallery->rows; ++e) {
        scores[e] = Cosine(probe, Normalized(*gallery, e));
      }
      const auto above = [&](double t) {
        return std::count_if(scores.begin(), scores.end(),
                             [t](double s) { return s >= t; });
      };
      const int64_t most =
          std::min<int64_t>(kTopK, above(kThreshold - kScoreTolerance));
      const int64_t least =
          std::min<int64_t>(kTopK, above(kThreshold + kScoreTolerance));
      const nlohmann::json& candidates = line["candidates"];
      EXPECT_GE(static_cast<int64_t>(candidates.size()), least);
      EXPECT_LE(static_cast<int64_t>(candidates.size()), most);
      double previous = 2.0;
      std::set<int64_t> returned;
      for (const nlohmann::json& c : candidates) {
        const uint64_t id = c["entry_id"];
        ASSERT_TRUE(row_of.count(id)) << id;
        const int64_t row = row_of[id];
        returned.insert(row);
        EXPECT_NEAR(c["score"].get<double>(), scores[row], kScoreTolerance);
        EXPECT_LE(c["score"].get<double>(), previous);
        previous = c["score"];
        EXPECT_EQ(c["subject_id"], gallery_meta->records[row][0]);
        EXPECT_EQ(c["group"], gallery_meta->records[row][1]);
      }
      // Nothing left out scores clearly better than what came back.
      if (!candidates.empty()) {
        for (int64_t e = 0; e < gallery->rows; ++e) {
          if (returned.count(e) == 0) {
            EXPECT_LT(scores[e], previous + kScoreTolerance) << "entry " << e;
          }
        }
      }
    }
  }

  CommandResult quiet =
      Candor({"search", "brute", "--probes", dir + "/mated.npy", "--threshold",
              "0.3", "--top-k", "1", "--no-report"});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  std::vector<nlohmann::json> lines = JsonLines(quiet.out);
  ASSERT_EQ(lines.size(), 20u);
  EXPECT_FALSE(lines.back().contains("report"));
  EXPECT_FALSE(lines[0].contains("ref"));
}

TEST_F(CliServerTest, RemoveAndCompact) {
  const std::string dir = Dir("remove");
  Synth(dir);
  const std::vector<uint64_t> ids = CreateAndEnroll("remove", dir);
  ASSERT_EQ(ids.size(), 80u);

  CommandResult by_id = Candor(
      {"remove", "remove", "--entry-ids", absl::StrCat(ids[0], ",", ids[1])});
  ASSERT_EQ(by_id.exit_code, 0) << by_id.err;
  std::vector<uint64_t> removed_ids =
      nlohmann::json::parse(by_id.out).get<std::vector<uint64_t>>();
  std::sort(removed_ids.begin(), removed_ids.end());
  EXPECT_EQ(removed_ids, (std::vector<uint64_t>{std::min(ids[0], ids[1]),
                                                std::max(ids[0], ids[1])}));

  // Subject subj-3 owns rows 6 and 7.
  CommandResult by_subject =
      Candor({"remove", "remove", "--subject", "subj-3"});
  ASSERT_EQ(by_subject.exit_code, 0) << by_subject.err;
  std::vector<uint64_t> removed =
      nlohmann::json::parse(by_subject.out).get<std::vector<uint64_t>>();
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(removed, (std::vector<uint64_t>{ids[6], ids[7]}));

  CommandResult again =
      Candor({"remove", "remove", "--entry-ids", std::to_string(ids[0])});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, StartsWith("candor: error: NOT_FOUND: "));

  CommandResult info = Candor({"gallery", "info", "remove"});
  ASSERT_EQ(info.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(info.out)["size"], "76");

  // The removed subject's mated probe (row 3 of mated.npy) no longer finds
  // it, whatever the threshold.
  CommandResult search =
      Candor({"search", "remove", "--probes", dir + "/mated.npy", "--threshold",
              "-1", "--top-k", "76", "--no-report"});
  ASSERT_EQ(search.exit_code, 0) << search.err;
  std::vector<nlohmann::json> lines = JsonLines(search.out);
  ASSERT_EQ(lines.size(), 20u);
  EXPECT_EQ(lines[3]["candidates"].size(), 76u);
  for (const nlohmann::json& c : lines[3]["candidates"]) {
    EXPECT_NE(c["subject_id"], "subj-3");
    EXPECT_NE(c["entry_id"].get<uint64_t>(), ids[0]);
  }

  CommandResult compact = Candor({"gallery", "compact", "remove"});
  ASSERT_EQ(compact.exit_code, 0) << compact.err;
  EXPECT_TRUE(nlohmann::json::parse(compact.out).contains("bytes_after"));
}

TEST_F(CliServerTest, MalformedInputFailsWithMessage) {
  const std::string dir = Dir("malformed");
  Synth(dir);
  ASSERT_EQ(CreateAndEnroll("malformed", dir).size(), 80u);

  // A v1.0 preamble announcing an 8-byte header that is not NumPy's.
  std::ofstream(dir + "/bad.npy", std::ios::binary)
      << std::string("\x93NUMPY\x01\x00\x08\x00{'a': 1}", 18);
  CommandResult bad_npy = Candor(
      {"search", "malformed", "--probes", dir + "/bad.npy", "--top-k", "3"});
  EXPECT_EQ(bad_npy.exit_code, 1);
  EXPECT_THAT(bad_npy.err, HasSubstr("bad.npy: header has an unknown key"));

  std::ofstream(dir + "/short.csv") << "subject_id,group\ns1,A\n";
  CommandResult bad_csv =
      Candor({"enroll", "malformed", "--vectors", dir + "/gallery.npy",
              "--meta", dir + "/short.csv"});
  EXPECT_EQ(bad_csv.exit_code, 1);
  EXPECT_THAT(bad_csv.err, HasSubstr("short.csv: has 1 records but"));

  // Vectors of the wrong dimension are the server's to refuse.
  std::vector<float> wide(2 * (kDim + 1), 0.25f);
  ASSERT_TRUE(WriteNpy(dir + "/wide.npy", wide, 2, kDim + 1).ok());
  std::ofstream(dir + "/wide.csv") << "subject_id\nw1\nw2\n";
  CommandResult wrong_dim =
      Candor({"enroll", "malformed", "--vectors", dir + "/wide.npy", "--meta",
              dir + "/wide.csv"});
  EXPECT_EQ(wrong_dim.exit_code, 1);
  EXPECT_THAT(wrong_dim.err, StartsWith("candor: error: INVALID_ARGUMENT: "));

  CommandResult unknown =
      Candor({"search", "no-such-gallery", "--probes", dir + "/mated.npy",
              "--top-k", "3", "--threshold", "0.5"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, StartsWith("candor: error: NOT_FOUND: "));
}

TEST_F(CliServerTest, Stats) {
  CommandResult stats = Candor({"stats"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_TRUE(nlohmann::json::parse(stats.out).contains("backend"));
}

TEST_F(CliServerTest, Demo) {
  // --keep: deleting an enrolled gallery is covered below.
  CommandResult demo =
      Candor({"demo", "--subjects", "30", "--dim", "32", "--keep"});
  ASSERT_EQ(demo.exit_code, 0) << demo.err << ServerLog();
  EXPECT_THAT(demo.out, HasSubstr("mate found"));
  EXPECT_THAT(demo.out, HasSubstr("kept gallery demo-"));
  // Every mated probe finds its mate at the default threshold 0.5: the
  // synthetic mated scores sit near 0.74.
  EXPECT_THAT(demo.out, HasSubstr("30/30 (100.0%)"));
}

TEST_F(CliServerTest, DeleteEnrolledGallery) {
  const std::string dir = Dir("delete");
  Synth(dir);
  ASSERT_EQ(CreateAndEnroll("delete", dir).size(), 80u);
  CommandResult deleted = Candor({"gallery", "delete", "delete"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err << ServerLog();
  CommandResult gone = Candor({"gallery", "info", "delete"});
  EXPECT_THAT(gone.err, StartsWith("candor: error: NOT_FOUND: "));
  EXPECT_EQ(Candor({"stats"}).exit_code, 0) << ServerLog();
}

}  // namespace
}  // namespace candor
