// One gallery: enroll, search, remove, reopen, idempotency, and damage on
// disk, checked against an in-test model of the live entries.
#include "server/gallery/gallery.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/gallery/layout.h"
#include "tests/gallery/test_util.h"

namespace candor::gallery {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ReadAll;
using testing::ScratchDir;
using testing::WriteAll;

constexpr int kDim = 16;

GalleryConfig Config(const std::string& name = "g") {
  GalleryConfig c;
  c.name = name;
  c.index.dimension = kDim;
  c.policy_blob = "max_fpir: 0.001";
  c.created_at_us = 1700000000000000;
  return c;
}

struct Model {
  struct Row {
    std::string subject;
    std::string group;
    std::vector<float> vector;
  };
  std::map<EntryId, Row> rows;
};

// Compares everything a reopened or live gallery holds with the model.
void ExpectMatches(const Gallery& g, const Model& model) {
  std::vector<EntryMeta> entries = g.Entries();
  std::sort(entries.begin(), entries.end(),
            [](const EntryMeta& a, const EntryMeta& b) { return a.id < b.id; });
  ASSERT_EQ(entries.size(), model.rows.size());
  auto it = model.rows.begin();
  for (const EntryMeta& e : entries) {
    EXPECT_EQ(e.id, it->first);
    EXPECT_EQ(e.subject_id, it->second.subject);
    EXPECT_EQ(e.group, it->second.group);
    std::vector<float> v(kDim);
    ASSERT_TRUE(g.GetVector(e.id, v.data()).ok());
    EXPECT_EQ(v, it->second.vector);
    ++it;
  }
}

// Brute force over the model: every row with score >= threshold, best
// first, ties by id, at most top_k.
std::vector<EntryId> OracleSearch(const Model& model, const float* probe,
                                  float threshold, int top_k) {
  std::vector<std::pair<float, EntryId>> scored;
  for (const auto& [id, row] : model.rows) {
    double dot = 0;
    for (int i = 0; i < kDim; ++i) dot += double{probe[i]} * row.vector[i];
    if (dot >= threshold) scored.push_back({static_cast<float>(dot), id});
  }
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<EntryId> out;
  for (size_t i = 0; i < scored.size() && static_cast<int>(i) < top_k; ++i) {
    out.push_back(scored[i].second);
  }
  return out;
}

class GalleryTest : public ::testing::Test {
 protected:
  std::string dir() const { return scratch_.path() + "/g"; }

  std::unique_ptr<Gallery> CreateGallery() {
    auto g = Gallery::Create(dir(), Config(), GalleryOptions());
    EXPECT_TRUE(g.ok()) << g.status();
    return g.ok() ? std::move(*g) : nullptr;
  }
  std::unique_ptr<Gallery> Reopen() {
    auto g = Gallery::Open(dir(), GalleryOptions());
    EXPECT_TRUE(g.ok()) << g.status();
    return g.ok() ? std::move(*g) : nullptr;
  }

  // Enrolls rows with subjects s<seed>_<i> and groups alternating.
  EnrollResult EnrollRows(Gallery& g, int rows, uint32_t seed,
                          const std::string& request_id = "") {
    std::vector<float> v = testing::RandomUnitRows(rows, kDim, seed);
    std::vector<std::string> subjects, groups;
    for (int i = 0; i < rows; ++i) {
      subjects.push_back("s" + std::to_string(seed) + "_" + std::to_string(i % 3));
      groups.push_back(i % 2 ? "b" : "a");
    }
    auto r = g.Enroll(v, subjects, groups, request_id);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return {};
    if (!r->replayed) {
      for (int i = 0; i < rows; ++i) {
        model_.rows[r->entry_ids[i]] = {
            subjects[i], groups[i],
            std::vector<float>(v.begin() + i * kDim, v.begin() + (i + 1) * kDim)};
      }
    }
    return *r;
  }

  ScratchDir scratch_;
  Model model_;
};

TEST_F(GalleryTest, EnrollAssignsMonotonicIdsAndVersions) {
  auto g = CreateGallery();
  EnrollResult a = EnrollRows(*g, 3, 1);
  EnrollResult b = EnrollRows(*g, 2, 2);
  EXPECT_THAT(a.entry_ids, ElementsAre(1u, 2u, 3u));
  EXPECT_THAT(b.entry_ids, ElementsAre(4u, 5u));
  EXPECT_EQ(a.version, 1u);
  EXPECT_EQ(b.version, 2u);
  ExpectMatches(*g, model_);

  GalleryInfo info = g->Info();
  EXPECT_EQ(info.size, 5u);
  EXPECT_EQ(info.subjects, 5u);  // s1_0..s1_2, s2_0, s2_1
  EXPECT_EQ(info.groups, (std::map<std::string, uint64_t>{{"a", 3}, {"b", 2}}));
  EXPECT_EQ(info.version, 2u);
  EXPECT_EQ(info.backend, "cpu-flat");
  EXPECT_TRUE(info.trained);
  EXPECT_GE(info.memory.host_bytes, 5u * kDim * sizeof(float));
  EXPECT_EQ(info.config.policy_blob, "max_fpir: 0.001");
}

TEST_F(GalleryTest, RejectsMalformedEnrollments) {
  auto g = CreateGallery();
  std::vector<float> v = testing::RandomUnitRows(2, kDim, 1);
  EXPECT_EQ(g->Enroll(v, {"a"}, {}, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(g->Enroll(v, {"a", "b"}, {"x"}, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(g->Enroll(v, {"a", ""}, {}, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(g->Info().version, 0u);
}

TEST_F(GalleryTest, SearchMatchesBruteForce) {
  auto g = CreateGallery();
  EnrollRows(*g, 40, 7);
  std::vector<float> probes = testing::RandomUnitRows(5, kDim, 99);
  std::vector<ProbeQuery> queries(5);
  for (int q = 0; q < 5; ++q) {
    queries[q].threshold = q == 0 ? -1.0f : 0.1f * q;
    queries[q].top_k = 3 + q;
  }
  auto result = g->Search(probes, queries);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->version, 1u);
  ASSERT_EQ(result->candidates.size(), 5u);
  for (int q = 0; q < 5; ++q) {
    std::vector<EntryId> got;
    for (const Candidate& c : result->candidates[q]) {
      got.push_back(c.entry_id);
      EXPECT_EQ(c.subject_id, model_.rows[c.entry_id].subject);
      EXPECT_EQ(c.group, model_.rows[c.entry_id].group);
    }
    EXPECT_EQ(got, OracleSearch(model_, probes.data() + q * kDim,
                                queries[q].threshold, queries[q].top_k))
        << "probe " << q;
  }
  EXPECT_EQ(g->Search(probes, absl::MakeSpan(queries).subspan(1))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(GalleryTest, RemoveEntriesIsAllOrNothing) {
  auto g = CreateGallery();
  EnrollResult a = EnrollRows(*g, 4, 1);
  std::vector<EntryId> ids = {a.entry_ids[0], 777, a.entry_ids[1]};
  auto bad = g->RemoveEntries(ids);
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(bad.status().message(), HasSubstr("777"));
  ExpectMatches(*g, model_);
  EXPECT_EQ(g->Info().version, 1u);

  auto ok = g->RemoveEntries({a.entry_ids[0], a.entry_ids[2]});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_THAT(ok->removed, ElementsAre(a.entry_ids[0], a.entry_ids[2]));
  EXPECT_EQ(ok->version, 2u);
  model_.rows.erase(a.entry_ids[0]);
  model_.rows.erase(a.entry_ids[2]);
  ExpectMatches(*g, model_);
  EXPECT_EQ(g->RemoveEntries({a.entry_ids[0]}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(GalleryTest, RemoveSubject) {
  auto g = CreateGallery();
  EnrollRows(*g, 6, 3);  // subjects s3_0 (rows 0, 3), s3_1, s3_2
  EXPECT_EQ(g->RemoveSubject("nobody").status().code(),
            absl::StatusCode::kNotFound);
  auto r = g->RemoveSubject("s3_0");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->removed, ElementsAre(1u, 4u));
  model_.rows.erase(1);
  model_.rows.erase(4);
  ExpectMatches(*g, model_);
  EXPECT_EQ(g->RemoveSubject("s3_0").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(GalleryTest, ReopenRestoresEveryAcknowledgedChange) {
  {
    auto g = CreateGallery();
    EnrollRows(*g, 5, 1);
    EnrollRows(*g, 5, 2);
    ASSERT_TRUE(g->RemoveEntries({2, 7}).ok());
    ASSERT_TRUE(g->RemoveSubject("s1_0").ok());  // ids 1, 4
    ASSERT_TRUE(g->SetPolicyBlob("new policy").ok());
    for (EntryId id : {2, 7, 1, 4}) model_.rows.erase(id);
  }
  auto g = Reopen();
  ExpectMatches(*g, model_);
  GalleryInfo info = g->Info();
  EXPECT_EQ(info.version, 4u);
  EXPECT_EQ(info.config.policy_blob, "new policy");
  EXPECT_EQ(info.config.created_at_us, 1700000000000000);
  EXPECT_EQ(info.config.name, "g");
  // Ids keep counting from where they were, even past removed ones.
  EnrollResult next = EnrollRows(*g, 1, 3);
  EXPECT_THAT(next.entry_ids, ElementsAre(11u));
  EXPECT_EQ(next.version, 5u);
}

TEST_F(GalleryTest, IdsAreNeverReusedAfterCompactingAwayTheNewest) {
  {
    auto g = CreateGallery();
    EnrollRows(*g, 3, 1);
    ASSERT_TRUE(g->RemoveEntries({3}).ok());
    ASSERT_TRUE(g->Compact().ok());
  }
  auto g = Reopen();
  EXPECT_THAT(EnrollRows(*g, 1, 2).entry_ids, ElementsAre(4u));
}

TEST_F(GalleryTest, RequestIdIsIdempotentAcrossReopen) {
  EnrollResult first;
  {
    auto g = CreateGallery();
    first = EnrollRows(*g, 3, 1, "req-1");
    EnrollResult again = EnrollRows(*g, 3, 1, "req-1");
    EXPECT_TRUE(again.replayed);
    EXPECT_EQ(again.entry_ids, first.entry_ids);
    EXPECT_EQ(again.version, 1u);
  }
  {
    auto g = Reopen();
    EnrollResult again = EnrollRows(*g, 3, 1, "req-1");
    EXPECT_TRUE(again.replayed);
    EXPECT_EQ(again.entry_ids, first.entry_ids);
    EXPECT_EQ(g->Info().size, 3u);
    // Survives a snapshot too.
    ASSERT_TRUE(g->Compact().ok());
  }
  auto g = Reopen();
  EnrollResult again = EnrollRows(*g, 3, 1, "req-1");
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.entry_ids, first.entry_ids);
  EnrollResult other = EnrollRows(*g, 1, 2, "req-2");
  EXPECT_FALSE(other.replayed);
  EXPECT_THAT(other.entry_ids, ElementsAre(4u));
  ExpectMatches(*g, model_);
}

std::string OnlySegment(const std::string& dir) {
  std::string found;
  for (const std::string& path : testing::FilesUnder(dir)) {
    if (ParseSegmentFileName(path.substr(path.rfind('/') + 1))) found = path;
  }
  return found;
}

TEST_F(GalleryTest, TornFinalRecordIsDroppedAndTruncated) {
  size_t good_size;
  {
    auto g = CreateGallery();
    EnrollRows(*g, 2, 1);
    good_size = ReadAll(OnlySegment(dir())).size();
    std::vector<float> v = testing::RandomUnitRows(1, kDim, 2);
    ASSERT_TRUE(g->Enroll(v, {"late"}, {}, "").ok());
  }
  const std::string seg = OnlySegment(dir());
  std::string bytes = ReadAll(seg);
  WriteAll(seg, bytes.substr(0, bytes.size() - 5));
  auto g = Reopen();
  ExpectMatches(*g, model_);
  EXPECT_EQ(ReadAll(seg).size(), good_size);
  // Appends continue cleanly after the truncation point.
  EnrollRows(*g, 1, 3);
  g.reset();
  ExpectMatches(*Reopen(), model_);
}

// A crash can cut the last append anywhere: every cut point reopens to
// exactly the earlier records, with the file truncated back to them.
TEST_F(GalleryTest, TornFinalRecordAtEveryOffsetReopensToEarlierRecords) {
  size_t good_size;
  {
    auto g = CreateGallery();
    EnrollRows(*g, 2, 1);
    ASSERT_TRUE(g->RemoveEntries({1}).ok());
    model_.rows.erase(1);
    good_size = ReadAll(OnlySegment(dir())).size();
    std::vector<float> v = testing::RandomUnitRows(2, kDim, 2);
    ASSERT_TRUE(g->Enroll(v, {"late", "late"}, {}, "req-late").ok());
  }
  const std::string seg = OnlySegment(dir());
  const std::string full = ReadAll(seg);
  for (size_t cut = good_size; cut < full.size(); ++cut) {
    WriteAll(seg, full.substr(0, cut));
    auto g = Gallery::Open(dir(), GalleryOptions());
    ASSERT_TRUE(g.ok()) << "cut at " << cut << ": " << g.status();
    ExpectMatches(**g, model_);
    EXPECT_EQ((*g)->Info().version, 2u) << "cut at " << cut;
    EXPECT_EQ(ReadAll(seg).size(), good_size) << "cut at " << cut;
  }
}

TEST_F(GalleryTest, DamageBeforeTheTailFailsOpenWithDataLoss) {
  {
    auto g = CreateGallery();
    EnrollRows(*g, 2, 1);
    EnrollRows(*g, 2, 2);
  }
  const std::string seg = OnlySegment(dir());
  std::string bytes = ReadAll(seg);
  bytes[40] ^= 0x10;  // inside the first record's payload
  WriteAll(seg, bytes);
  auto g = Gallery::Open(dir(), GalleryOptions());
  ASSERT_EQ(g.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(g.status().message(), HasSubstr(seg));
  EXPECT_THAT(g.status().message(), HasSubstr("offset 16"));
}

TEST_F(GalleryTest, CreateRefusesAnExistingDirectoryAndBadDimension) {
  auto g = CreateGallery();
  EXPECT_FALSE(Gallery::Create(dir(), Config(), GalleryOptions()).ok());
  GalleryConfig bad = Config();
  bad.index.dimension = 0;
  EXPECT_EQ(Gallery::Create(scratch_.path() + "/h", bad, GalleryOptions())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(GalleryTest, TrainIndexOnIvfSurvivesReopen) {
  GalleryConfig config = Config();
  config.index.type = index::IndexType::kIvfFlat;
  config.index.default_nprobe = 4;
  {
    auto g = Gallery::Create(dir(), config, GalleryOptions());
    ASSERT_TRUE(g.ok()) << g.status();
    EnrollRows(**g, 200, 5);
    EXPECT_FALSE((*g)->Info().trained);
    ASSERT_TRUE((*g)->TrainIndex(4).ok());
    EXPECT_TRUE((*g)->Info().trained);
    EXPECT_EQ((*g)->Info().config.index.nlist, 4);
  }
  auto g = Reopen();
  EXPECT_TRUE(g->Info().trained);
  ExpectMatches(*g, model_);
  // Each entry finds itself (nprobe = nlist: exhaustive).
  std::vector<float> probe(kDim);
  ASSERT_TRUE(g->GetVector(17, probe.data()).ok());
  std::vector<ProbeQuery> q(1);
  q[0].top_k = 1;
  q[0].nprobe = 4;
  auto hits = g->Search(probe, q);
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_EQ(hits->candidates[0].size(), 1u);
  EXPECT_EQ(hits->candidates[0][0].entry_id, 17u);
}

TEST_F(GalleryTest, TrainIndexOnFlatIsFailedPrecondition) {
  auto g = CreateGallery();
  EnrollRows(*g, 4, 1);
  EXPECT_EQ(g->TrainIndex(2).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace candor::gallery
