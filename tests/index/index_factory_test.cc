#include "server/index/index_factory.h"

#include "gtest/gtest.h"

namespace candor::index {
namespace {

TEST(IndexFactory, ParsesBackendNames) {
  EXPECT_EQ(*ParseBackend("auto"), Backend::kAuto);
  EXPECT_EQ(*ParseBackend("cpu"), Backend::kCpu);
  EXPECT_EQ(*ParseBackend("cpu-flat"), Backend::kCpu);
  EXPECT_EQ(*ParseBackend("faiss-cpu"), Backend::kFaissCpu);
  EXPECT_EQ(BackendName(Backend::kFaissCpu), "faiss-cpu");
  EXPECT_EQ(*ParseBackend("gpu"), Backend::kGpu);
  EXPECT_EQ(*ParseBackend("faiss-gpu"), Backend::kFaissGpu);
  EXPECT_EQ(ParseBackend("tpu").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(IndexFactory, AutoResolvesToCpuWithoutADevice) {
  // The build machines have no GPU: auto must fall back, gpu must refuse.
  auto resolved = ResolveBackend(Backend::kAuto);
  ASSERT_TRUE(resolved.ok());
  if (*resolved == Backend::kCpu) {
    EXPECT_EQ(ResolveBackend(Backend::kGpu).status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(*ResolveBackend(Backend::kCpu), Backend::kCpu);
}

TEST(IndexFactory, CreatesFlatAndIvf) {
  IndexConfig config;
  config.dimension = 8;
  auto flat = CreateIndex(config, Backend::kCpu);
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ((*flat)->backend(), "cpu-flat");
  auto faiss_flat = CreateIndex(config, Backend::kFaissCpu);
  ASSERT_TRUE(faiss_flat.ok());
  EXPECT_EQ((*faiss_flat)->backend(), "faiss-cpu");
  config.type = IndexType::kIvfFlat;
  auto ivf = CreateIndex(config, Backend::kCpu);
  ASSERT_TRUE(ivf.ok());
  EXPECT_EQ((*ivf)->backend(), "faiss-ivf");
  EXPECT_FALSE(CreateIndex(config, Backend::kAuto).ok());
}

}  // namespace
}  // namespace candor::index
