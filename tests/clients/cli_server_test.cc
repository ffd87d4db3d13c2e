// The candor CLI end to end against a real candor-server: galleries,
// enrollment from synthetic files, search output checked against a
// brute-force cosine search computed here, removal, compaction, and
// malformed input.
#include <algorithm>
#include <cmath>
#include <cstring>
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

// IEEE binary16 bits of `value` (round to nearest; tiny values flush to
// zero, which a cosine score does not notice).
uint16_t ToHalf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  const int exponent = static_cast<int>((bits >> 23) & 0xFF) - 127 + 15;
  if (exponent <= 0) return sign;
  if (exponent >= 31) return sign | 0x7C00;
  const uint32_t mantissa = bits & 0x7FFFFF;
  uint32_t half = (static_cast<uint32_t>(exponent) << 10) | (mantissa >> 13);
  if (mantissa & 0x1000) ++half;  // round half up
  return static_cast<uint16_t>(sign | half);
}

// `m` as a version 1.0 '<f2' .npy file.
void WriteHalfNpy(const std::string& path, const FloatMatrix& m) {
  std::string header = "{'descr': '<f2', 'fortran_order': False, 'shape': (" +
                       std::to_string(m.rows) + ", " + std::to_string(m.cols) +
                       "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>((header.size() >> 8) & 0xFF);
  out += header;
  for (float v : m.values) {
    const uint16_t h = ToHalf(v);
    out += static_cast<char>(h & 0xFF);
    out += static_cast<char>(h >> 8);
  }
  std::ofstream(path, std::ios::binary) << out;
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
  // 64-bit fields are JSON numbers, not proto3 JSON's strings.
  EXPECT_EQ(nlohmann::json::parse(info.out)["size"], 0);
  EXPECT_TRUE(nlohmann::json::parse(info.out)["created_at_us"].is_number());
  CommandResult table =
      Candor({"gallery", "info", "lifecycle", "--format", "table"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, ::testing::ContainsRegex("(^|\n)name +lifecycle\n"));
  EXPECT_THAT(table.out, ::testing::ContainsRegex("(^|\n)size +0\n"));
  CommandResult list_table = Candor({"gallery", "list", "--format", "table"});
  ASSERT_EQ(list_table.exit_code, 0) << list_table.err;
  EXPECT_THAT(list_table.out, HasSubstr("  name  "));
  EXPECT_THAT(list_table.out, HasSubstr("lifecycle"));

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
    // stdout is one JSON line per probe and nothing else; the report goes
    // to stderr.
    std::vector<nlohmann::json> lines = JsonLines(search.out);
    ASSERT_EQ(lines.size(), static_cast<size_t>(probes->rows));
    EXPECT_THAT(search.err, HasSubstr("threshold report:\n  threshold 0.300 "
                                      "(requested)"));

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
  EXPECT_THAT(quiet.err, ::testing::Not(HasSubstr("report")));
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
  EXPECT_EQ(nlohmann::json::parse(info.out)["size"], 76);

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
  // (After the warning that wide.csv gives no entry a group.)
  EXPECT_THAT(wrong_dim.err, HasSubstr("candor: error: INVALID_ARGUMENT: "));

  CommandResult unknown =
      Candor({"search", "no-such-gallery", "--probes", dir + "/mated.npy",
              "--top-k", "3", "--threshold", "0.5"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, StartsWith("candor: error: NOT_FOUND: "));
}

TEST_F(CliServerTest, SearchDefaultsReportFileStdinAndFloat16) {
  const std::string dir = Dir("defaults");
  Synth(dir);
  ASSERT_EQ(CreateAndEnroll("defaults", dir).size(), 80u);

  // --top-k defaults to 10, as in the Python client.
  CommandResult plain =
      Candor({"search", "defaults", "--probes", dir + "/mated.npy",
              "--threshold", "-1", "--report-file", dir + "/report.json"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  std::vector<nlohmann::json> lines = JsonLines(plain.out);
  ASSERT_EQ(lines.size(), 20u);
  for (const nlohmann::json& line : lines) {
    EXPECT_EQ(line["candidates"].size(), 10u);
  }
  // The report went to the file, not to stderr.
  EXPECT_THAT(plain.err, ::testing::Not(HasSubstr("threshold report")));
  std::ifstream report_file(dir + "/report.json");
  const nlohmann::json report = nlohmann::json::parse(report_file)["report"];
  EXPECT_FLOAT_EQ(report["threshold"].get<float>(), -1.0f);
  EXPECT_EQ(report["source"], "REQUEST");

  // "-": the same probes from standard input, the same answer.
  CommandResult piped = test_util::RunCommand(
      {CANDOR_CLI_PATH, "--server", address(), "search", "defaults", "--probes",
       "-", "--threshold", "-1", "--no-report"},
      scratch(), dir + "/mated.npy");
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.out, plain.out);

  // float16 probes: converted once; each probe's best match scores as it
  // does in float32, within half precision's rounding.
  absl::StatusOr<FloatMatrix> mated = ReadNpy(dir + "/mated.npy");
  ASSERT_TRUE(mated.ok());
  WriteHalfNpy(dir + "/mated16.npy", *mated);
  const std::vector<std::string> top1 = {"--threshold", "-1", "--top-k", "1",
                                         "--no-report"};
  std::vector<std::string> single = {"search", "defaults", "--probes",
                                     dir + "/mated.npy"};
  std::vector<std::string> half_args = {"search", "defaults", "--probes",
                                        dir + "/mated16.npy"};
  single.insert(single.end(), top1.begin(), top1.end());
  half_args.insert(half_args.end(), top1.begin(), top1.end());
  CommandResult full = Candor(single);
  CommandResult half = Candor(half_args);
  ASSERT_EQ(full.exit_code, 0) << full.err;
  ASSERT_EQ(half.exit_code, 0) << half.err;
  std::vector<nlohmann::json> full_lines = JsonLines(full.out);
  std::vector<nlohmann::json> half_lines = JsonLines(half.out);
  ASSERT_EQ(half_lines.size(), 20u);
  ASSERT_EQ(full_lines.size(), 20u);
  for (size_t p = 0; p < half_lines.size(); ++p) {
    ASSERT_EQ(half_lines[p]["candidates"].size(), 1u) << p;
    EXPECT_NEAR(half_lines[p]["candidates"][0]["score"].get<double>(),
                full_lines[p]["candidates"][0]["score"].get<double>(), 5e-3)
        << p;
  }

  // --format table: rows a person reads, no JSON.
  CommandResult table =
      Candor({"search", "defaults", "--probes", dir + "/mated.npy",
              "--threshold", "0.3", "--top-k", "2", "--format", "table"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, StartsWith("probe  rank"));
  EXPECT_THAT(table.out, HasSubstr("subject_id"));
  EXPECT_THAT(table.out, ::testing::Not(HasSubstr("{")));
  EXPECT_THAT(table.err, HasSubstr("threshold 0.300 (requested)"));
}

TEST_F(CliServerTest, EnrollWithoutGroupsWarns) {
  const std::string dir = Dir("nogroup");
  Synth(dir);
  ASSERT_EQ(
      Candor({"gallery", "create", "nogroup", "--dim", std::to_string(kDim)})
          .exit_code,
      0);
  // The same subjects without their group column.
  absl::StatusOr<CsvTable> meta = ReadCsv(dir + "/gallery.csv");
  ASSERT_TRUE(meta.ok());
  std::ofstream csv(dir + "/nogroup.csv");
  csv << "subject_id\n";
  for (const auto& record : meta->records) csv << record[0] << "\n";
  csv.close();
  CommandResult bare =
      Candor({"enroll", "nogroup", "--vectors", dir + "/gallery.npy", "--meta",
              dir + "/nogroup.csv"});
  ASSERT_EQ(bare.exit_code, 0) << bare.err;
  EXPECT_THAT(bare.err, HasSubstr("candor: warning: "));
  EXPECT_THAT(bare.err, HasSubstr("per-group telemetry"));
  EXPECT_THAT(bare.err, HasSubstr("will be empty"));
  EXPECT_EQ(nlohmann::json::parse(bare.out).size(), 80u);

  CommandResult grouped =
      Candor({"enroll", "nogroup", "--vectors", dir + "/gallery.npy", "--meta",
              dir + "/gallery.csv", "--format", "table"});
  ASSERT_EQ(grouped.exit_code, 0) << grouped.err;
  EXPECT_THAT(grouped.err, ::testing::Not(HasSubstr("warning")));
  // --format table: one entry id per line.
  EXPECT_EQ(JsonLines(grouped.out).size(), 80u);
}

TEST_F(CliServerTest, ProgressOnlyOnATerminal) {
  const std::string dir = Dir("progress");
  Synth(dir);
  ASSERT_EQ(
      Candor({"gallery", "create", "progress", "--dim", std::to_string(kDim)})
          .exit_code,
      0);
  const std::vector<std::string> enroll = {CANDOR_CLI_PATH,
                                           "--server",
                                           address(),
                                           "enroll",
                                           "progress",
                                           "--vectors",
                                           dir + "/gallery.npy",
                                           "--meta",
                                           dir + "/gallery.csv",
                                           "--batch-size",
                                           "10"};
  CommandResult terminal = test_util::RunCommandWithTerminal(enroll, scratch());
  ASSERT_EQ(terminal.exit_code, 0) << terminal.err;
  EXPECT_THAT(terminal.err, HasSubstr("enroll: 10/80 rows ("));
  EXPECT_THAT(terminal.err, HasSubstr("enroll: 80/80 rows ("));
  EXPECT_THAT(terminal.err, HasSubstr("rows/s)"));
  EXPECT_EQ(nlohmann::json::parse(terminal.out).size(), 80u);
  // The same rows again, into another gallery: the calibration below
  // wants one copy of each.
  ASSERT_EQ(Candor({"gallery", "create", "progress-piped", "--dim",
                    std::to_string(kDim)})
                .exit_code,
            0);
  std::vector<std::string> piped_enroll = enroll;
  piped_enroll[4] = "progress-piped";
  CommandResult piped = test_util::RunCommand(piped_enroll, scratch());
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_THAT(piped.err, ::testing::Not(HasSubstr("rows/s")));

  const std::vector<std::string> calibrate = {
      CANDOR_CLI_PATH, "--server", address(),  "calibrate", "progress",
      "--self-audit",  "40",       "--format", "json"};
  CommandResult ticking =
      test_util::RunCommandWithTerminal(calibrate, scratch());
  ASSERT_EQ(ticking.exit_code, 0) << ticking.err;
  EXPECT_THAT(ticking.err, HasSubstr("calibrate: running, "));
  EXPECT_TRUE(nlohmann::json::parse(ticking.out).contains("groups"));
  CommandResult quiet = test_util::RunCommand(calibrate, scratch());
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_THAT(quiet.err, ::testing::Not(HasSubstr("running")));
}

TEST_F(CliServerTest, CalibrateDeadlineNamesTheFlag) {
  const std::string dir = Dir("deadline");
  Synth(dir);
  ASSERT_EQ(CreateAndEnroll("deadline", dir).size(), 80u);
  CommandResult r = Candor(
      {"--timeout-s", "0.001", "calibrate", "deadline", "--self-audit", "80"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("candor: error: DEADLINE_EXCEEDED: "));
  EXPECT_THAT(r.err, HasSubstr("give a larger --timeout-s"));
}

TEST_F(CliServerTest, Stats) {
  CommandResult stats = Candor({"stats"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_TRUE(nlohmann::json::parse(stats.out).contains("backend"));
  CommandResult table = Candor({"stats", "--format", "table"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, ::testing::ContainsRegex("(^|\n)backend +"));
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
  // The ending: a policy on per-group FPIR; the careless threshold refused
  // with the numbers; the policy's threshold used instead.
  EXPECT_THAT(demo.out, HasSubstr("policy set on demo-"));
  EXPECT_THAT(demo.out,
              HasSubstr("the same search at threshold 0.500 is refused by "
                        "the server:\n  policy rejects the request: FPIR of "
                        "group "));
  EXPECT_THAT(demo.out, HasSubstr("above max_fpir 0.001"));
  EXPECT_THAT(demo.out, ::testing::ContainsRegex(
                            "at threshold 0\\.[0-9]+ \\(the policy's\\)"));
  EXPECT_THAT(demo.out,
              ::testing::ContainsRegex("threshold 0\\.[0-9]+ \\(policy\\), "
                                       "calibration self-audit"));
  EXPECT_THAT(demo.out, HasSubstr("threshold 0.500 (requested)"));
  EXPECT_THAT(demo.out, HasSubstr("policy verdict: no policy"));
  EXPECT_THAT(demo.out, HasSubstr("policy verdict: pass"));
  // Enum values read as words, not as the .proto's names.
  for (const char* shout : {"REQUEST", "POLICY", "PASS", "NO_POLICY"}) {
    EXPECT_THAT(demo.out, ::testing::Not(HasSubstr(shout))) << shout;
  }
}

TEST_F(CliServerTest, DemoDeletesItsGalleryWhenAStepFails) {
  // The server refuses the search threshold after enrollment and
  // calibration have succeeded.
  CommandResult demo =
      Candor({"demo", "--subjects", "30", "--dim", "32", "--threshold", "1.5"});
  EXPECT_EQ(demo.exit_code, 1);
  EXPECT_THAT(demo.err, HasSubstr("candor: error: INVALID_ARGUMENT: "));
  EXPECT_THAT(demo.out, HasSubstr("enrolled 60 entries"));
  const std::string marker = "gallery demo-";
  const size_t at = demo.out.find(marker);
  ASSERT_NE(at, std::string::npos) << demo.out;
  const size_t start = at + std::string("gallery ").size();
  const std::string gallery =
      demo.out.substr(start, demo.out.find(',', start) - start);
  EXPECT_THAT(demo.err, HasSubstr("deleted demo gallery " + gallery));
  CommandResult gone = Candor({"gallery", "info", gallery});
  EXPECT_THAT(gone.err, StartsWith("candor: error: NOT_FOUND: ")) << gallery;
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
