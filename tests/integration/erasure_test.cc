// Removal is erasure: after Remove and a compaction (the CompactGallery
// RPC), no copy of a removed vector remains in any file under the data
// directory, neither as enrolled nor as the normalized copy the server
// stores; kept vectors are still on disk.
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kernels/normalize.h"
#include "tests/api/test_server.h"

namespace candor::testing {
namespace {

constexpr uint32_t kDim = 32;

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Occurrences of `needle` in any regular file under `dir`.
int CountInTree(const std::string& dir, const std::string& needle) {
  int hits = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string bytes = ReadAll(entry.path());
    for (size_t pos = bytes.find(needle); pos != std::string::npos;
         pos = bytes.find(needle, pos + 1)) {
      ++hits;
    }
  }
  return hits;
}

std::string RowBytes(const std::vector<float>& rows, int r) {
  return std::string(reinterpret_cast<const char*>(rows.data() + r * kDim),
                     kDim * sizeof(float));
}

TEST(ErasureTest, NoRemovedVectorBytesRemainAfterCompaction) {
  TestServer server;
  grpc::ClientContext create_ctx;
  v1::CreateGalleryRequest create;
  create.set_name("g");
  create.set_dimension(kDim);
  v1::Gallery g;
  ASSERT_TRUE(server.stub().CreateGallery(&create_ctx, create, &g).ok());

  const int rows = 40;
  std::mt19937 rng(77);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> raw(rows * kDim);
  for (float& v : raw) v = normal(rng);
  // What the server stores: the kernel contract's normalized rows.
  std::vector<float> stored(raw.size());
  std::vector<kernels::RowStatus> status(rows);
  kernels::L2NormalizeRowsReference(raw.data(), rows, kDim, stored.data(),
                                    status.data());

  v1::EnrollRequest enroll;
  enroll.set_gallery("g");
  *enroll.mutable_vectors() = PackRows(raw, rows, kDim);
  for (int i = 0; i < rows; ++i) enroll.add_subject_ids("s" + std::to_string(i % 20));
  grpc::ClientContext enroll_ctx;
  v1::EnrollResponse enrolled;
  ASSERT_TRUE(server.stub().Enroll(&enroll_ctx, enroll, &enrolled).ok());

  // Before: the stored vectors are on disk (the test can see them).
  ASSERT_GT(CountInTree(server.data_dir(), RowBytes(stored, 0)), 0);

  // Remove by ids and by subject (subject s5 = rows 5 and 25).
  v1::RemoveRequest by_ids;
  by_ids.set_gallery("g");
  for (int r : {0, 7, 13}) by_ids.mutable_entry_ids()->add_ids(enrolled.entry_ids(r));
  grpc::ClientContext rm1;
  v1::RemoveResponse removed;
  ASSERT_TRUE(server.stub().Remove(&rm1, by_ids, &removed).ok());
  v1::RemoveRequest by_subject;
  by_subject.set_gallery("g");
  by_subject.set_subject_id("s5");
  grpc::ClientContext rm2;
  ASSERT_TRUE(server.stub().Remove(&rm2, by_subject, &removed).ok());
  ASSERT_EQ(removed.removed_entry_ids_size(), 2);

  grpc::ClientContext compact_ctx;
  v1::CompactGalleryRequest compact;
  compact.set_name("g");
  v1::CompactGalleryResponse compacted;
  ASSERT_TRUE(server.stub().CompactGallery(&compact_ctx, compact, &compacted).ok());

  const std::set<int> gone = {0, 7, 13, 5, 25};
  for (int r = 0; r < rows; ++r) {
    const int stored_hits = CountInTree(server.data_dir(), RowBytes(stored, r));
    const int raw_hits = CountInTree(server.data_dir(), RowBytes(raw, r));
    // A 16-byte window catches partial copies too.
    const int window_hits =
        CountInTree(server.data_dir(), RowBytes(stored, r).substr(40, 16));
    if (gone.count(r)) {
      EXPECT_EQ(stored_hits, 0) << "row " << r;
      EXPECT_EQ(raw_hits, 0) << "row " << r;
      EXPECT_EQ(window_hits, 0) << "row " << r;
    } else {
      EXPECT_GT(stored_hits, 0) << "kept row " << r << " missing from disk";
    }
  }
  // And after a restart the kept rows are all there, the removed ones not.
  server.Restart();
  grpc::ClientContext get_ctx;
  v1::GetGalleryRequest get;
  get.set_name("g");
  ASSERT_TRUE(server.stub().GetGallery(&get_ctx, get, &g).ok());
  EXPECT_EQ(g.size(), uint64_t(rows - gone.size()));
}

}  // namespace
}  // namespace candor::testing
