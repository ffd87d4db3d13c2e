// A gallery's precision: stored in its manifest (an fp32 gallery's
// manifest unchanged, byte for byte), kept across restarts, refused where
// it cannot be served; and a bf16 gallery answers exactly as an fp32
// gallery holding the same entries does, through enrollment, removal,
// compaction and reopening, in fewer bytes per entry.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/gallery/gallery_store.h"
#include "server/gallery/manifest.h"
#include "server/storage/byte_io.h"
#include "tests/gallery/test_util.h"

namespace candor::gallery {
namespace {

using testing::Names;
using testing::OpenStore;
using testing::RandomUnitRows;
using testing::ScratchDir;

constexpr int kDim = 129;

GalleryConfig Config(const std::string& name, index::Precision precision) {
  GalleryConfig config;
  config.name = name;
  config.index.dimension = kDim;
  config.index.precision = precision;
  config.created_at_us = 1234;
  return config;
}

TEST(PrecisionManifestTest, Fp32IsFormatOneAndBf16RoundTrips) {
  Manifest m;
  m.config = Config("g", index::Precision::kFp32);
  const std::string fp32 = EncodeManifest(m);
  EXPECT_EQ(storage::DecodeU32(fp32.data() + 8), kManifestFormatVersion);
  auto back = DecodeManifest(fp32, "fp32");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->config.index.precision, index::Precision::kFp32);

  m.config.index.precision = index::Precision::kBf16;
  const std::string bf16 = EncodeManifest(m);
  EXPECT_EQ(storage::DecodeU32(bf16.data() + 8),
            kManifestFormatVersionPrecision);
  EXPECT_EQ(bf16.size(), fp32.size() + 1);
  back = DecodeManifest(bf16, "bf16");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->config.index.precision, index::Precision::kBf16);
  EXPECT_EQ(back->config.name, "g");

  // An unknown precision value is damage, not a guess.
  std::string bad = bf16;
  bad[bad.size() - 5] = 7;
  const uint32_t crc =
      storage::Crc32(absl::string_view(bad.data(), bad.size() - 4));
  storage::EncodeU32(crc, bad.data() + bad.size() - 4);
  EXPECT_EQ(DecodeManifest(bad, "bad").status().code(),
            absl::StatusCode::kDataLoss);
}

// Rows crowded within 1e-4 of 0.6 against the first probe (bf16 alone
// would misorder them), and random rows.
std::vector<float> CrowdedRows(int rows, const std::vector<float>& probe,
                               uint32_t seed) {
  std::vector<float> out = RandomUnitRows(rows, kDim, seed);
  for (int r = 0; r < rows / 2; ++r) {
    float* g = out.data() + size_t(r) * kDim;
    double dot = 0;
    for (int c = 0; c < kDim; ++c) dot += double(g[c]) * probe[c];
    double norm = 0;
    for (int c = 0; c < kDim; ++c) {
      g[c] = static_cast<float>(g[c] - dot * probe[c]);
      norm += double(g[c]) * g[c];
    }
    const double a = 0.6 + 2e-6 * ((r * 37) % 100 - 50);
    const double b = std::sqrt(1 - a * a) / std::sqrt(norm);
    for (int c = 0; c < kDim; ++c) {
      g[c] = static_cast<float>(a * probe[c] + b * g[c]);
    }
  }
  return out;
}

std::vector<std::vector<std::pair<EntryId, float>>> Answers(
    const Gallery& g, const std::vector<float>& probes,
    const std::vector<ProbeQuery>& queries) {
  auto result = g.Search(probes, queries);
  EXPECT_TRUE(result.ok()) << result.status();
  std::vector<std::vector<std::pair<EntryId, float>>> out;
  if (!result.ok()) return out;
  for (const auto& list : result->candidates) {
    out.emplace_back();
    for (const Candidate& c : list) out.back().push_back({c.entry_id, c.score});
  }
  return out;
}

TEST(PrecisionGalleryTest, Bf16AnswersAsFp32ThroughRemovalCompactionRestart) {
  ScratchDir dir;
  const std::vector<float> probes = RandomUnitRows(6, kDim, 99u);
  std::vector<float> probe0(probes.begin(), probes.begin() + kDim);
  const std::vector<float> rows = CrowdedRows(700, probe0, 5u);
  std::vector<std::string> subjects;
  for (int i = 0; i < 700; ++i) subjects.push_back("s" + std::to_string(i));
  std::vector<ProbeQuery> queries = {
      {0.6f, 400, 0}, {-1.0f, 150, 0}, {0.6f - 3e-5f, 90, 0},
      {0.05f, 10, 0}, {-1.0f, 1, 0},   {0.2f, 700, 0}};
  std::vector<float> all_probes = probe0;
  all_probes.insert(all_probes.end(), probe0.begin(), probe0.end());
  all_probes.insert(all_probes.end(), probe0.begin(), probe0.end());
  all_probes.insert(all_probes.end(), probes.begin() + 3 * kDim,
                    probes.end());

  auto check = [&](GalleryStore& store, const char* when) {
    SCOPED_TRACE(when);
    auto fp32 = store.Get("fp32");
    auto bf16 = store.Get("bf16");
    ASSERT_TRUE(fp32.ok() && bf16.ok());
    EXPECT_EQ((*bf16)->Info().config.index.precision, index::Precision::kBf16);
    EXPECT_EQ((*bf16)->Info().backend, "cpu-bf16");
    EXPECT_EQ((*fp32)->Info().config.index.precision, index::Precision::kFp32);
    const auto want = Answers(**fp32, all_probes, queries);
    const auto got = Answers(**bf16, all_probes, queries);
    ASSERT_EQ(got.size(), queries.size());
    EXPECT_GT(want[0].size(), 100u);  // the crowd passes the threshold
    for (size_t q = 0; q < queries.size(); ++q) {
      EXPECT_EQ(got[q], want[q]) << "probe " << q;
    }
    EXPECT_LT((*bf16)->Info().memory.host_bytes,
              (*fp32)->Info().memory.host_bytes);
  };

  {
    auto store = OpenStore(dir.path());
    ASSERT_NE(store, nullptr);
    for (auto [name, precision] :
         {std::pair{"fp32", index::Precision::kFp32},
          std::pair{"bf16", index::Precision::kBf16}}) {
      auto g = store->Create(Config(name, precision));
      ASSERT_TRUE(g.ok()) << g.status();
      ASSERT_TRUE((*g)->Enroll(rows, subjects, {}, "").ok());
    }
    check(*store, "after enrollment");
    for (const char* name : {"fp32", "bf16"}) {
      auto g = store->Get(name);
      std::vector<EntryId> gone;
      for (EntryId id = 1; id <= 700; id += 3) gone.push_back(id);
      ASSERT_TRUE((*g)->RemoveEntries(gone).ok());
    }
    check(*store, "after removal");
    for (const char* name : {"fp32", "bf16"}) {
      ASSERT_TRUE((*store->Get(name))->Compact().ok());
    }
    check(*store, "after compaction");
    // Rows now read from the first snapshot's mapping; the second
    // compaction erases that file (zeros written through the mapping)
    // after moving the rows onto its own snapshot.
    const std::vector<float> more = RandomUnitRows(50, kDim, 7u);
    for (const char* name : {"fp32", "bf16"}) {
      auto g = store->Get(name);
      ASSERT_TRUE((*g)->Enroll(more, std::vector<std::string>(50, "late"), {},
                               "")
                      .ok());
      ASSERT_TRUE((*g)->RemoveEntries({2, 5, 701}).ok());
      ASSERT_TRUE((*g)->Compact().ok());
    }
    check(*store, "after a second compaction");
  }
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  check(*store, "after reopening");
}

// Once compacted, a gallery's vectors are read from its mapped snapshot:
// host memory holds the index (bf16: half of fp32's) and the entries'
// metadata, not a second copy of every vector.
TEST(PrecisionGalleryTest, Bf16HalvesHostMemoryPerEntryOnceCompacted) {
  ScratchDir dir;
  constexpr int kWide = 512, kRows = 400;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  const std::vector<float> rows = RandomUnitRows(kRows, kWide, 11u);
  std::vector<std::string> subjects;
  for (int i = 0; i < kRows; ++i) subjects.push_back("s" + std::to_string(i));
  auto per_entry = [&](const char* name) {
    GalleryInfo info = (*store->Get(name))->Info();
    return double(info.memory.host_bytes) / double(info.size);
  };
  for (auto [name, precision] : {std::pair{"fp32", index::Precision::kFp32},
                                 std::pair{"bf16", index::Precision::kBf16}}) {
    GalleryConfig config = Config(name, precision);
    config.index.dimension = kWide;
    auto g = store->Create(config);
    ASSERT_TRUE(g.ok()) << g.status();
    ASSERT_TRUE((*g)->Enroll(rows, subjects, {}, "").ok());
  }
  // Before compaction the table holds every row in memory beside the index.
  EXPECT_GT(per_entry("fp32"), 2 * 4.0 * kWide);
  EXPECT_GT(per_entry("bf16"), (2 + 4) * double(kWide));
  for (const char* name : {"fp32", "bf16"}) {
    EXPECT_EQ((*store->Get(name))->Info().memory.mapped_bytes, 0u);
    ASSERT_TRUE((*store->Get(name))->Compact().ok());
    EXPECT_EQ((*store->Get(name))->Info().memory.mapped_bytes,
              uint64_t{kRows} * kWide * sizeof(float));
  }
  const double fp32 = per_entry("fp32"), bf16 = per_entry("bf16");
  EXPECT_LT(fp32, 4.0 * kWide + 300) << fp32;
  EXPECT_LT(bf16, 2.0 * kWide + 300) << bf16;
  // The vectors' bytes halve (2 bytes a dimension are saved); the entries'
  // metadata (ids, subject and group strings, lookups) is the same in both.
  EXPECT_GT(fp32 - bf16, 2.0 * kWide - 16) << bf16 << " vs " << fp32;
  EXPECT_LT(bf16 / fp32, 0.6) << bf16 << " vs " << fp32;
}

TEST(PrecisionGalleryTest, RefusesBf16WhereItCannotBeServed) {
  ScratchDir dir;
  {
    auto store = OpenStore(dir.path());
    ASSERT_NE(store, nullptr);
    GalleryConfig ivf = Config("ivf", index::Precision::kBf16);
    ivf.index.type = index::IndexType::kIvfFlat;
    EXPECT_EQ(store->Create(ivf).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(Names(*store).empty());
  }
  StoreOptions options;
  options.data_dir = dir.path();
  options.gallery.backend = index::Backend::kGpu;
  auto gpu_store = GalleryStore::Open(options);
  ASSERT_TRUE(gpu_store.ok()) << gpu_store.status();
  const absl::Status s =
      (*gpu_store)->Create(Config("g", index::Precision::kBf16)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("--backend"), std::string::npos) << s;
  EXPECT_TRUE(Names(**gpu_store).empty());
}

}  // namespace
}  // namespace candor::gallery
