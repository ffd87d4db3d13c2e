// Every kind of bad input, through the real gRPC server: the most specific
// status code, a message naming the field and value, and nothing changed.
#include <functional>
#include <limits>
#include <random>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/api/test_server.h"

namespace candor::testing {
namespace {

constexpr uint32_t kDim = 8;
constexpr char kGallery[] = "g";

std::vector<float> Rows(int rows, uint32_t dim = kDim) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(size_t(rows) * dim);
  for (float& x : v) x = u(rng);
  return v;
}

v1::SearchRequest GoodSearch() {
  v1::SearchRequest r;
  r.set_gallery(kGallery);
  *r.mutable_probes() = PackRows(Rows(2), 2, kDim);
  r.set_threshold(0.5f);
  r.set_top_k(5);
  return r;
}

v1::EnrollRequest GoodEnroll() {
  v1::EnrollRequest r;
  r.set_gallery(kGallery);
  *r.mutable_vectors() = PackRows(Rows(2), 2, kDim);
  r.add_subject_ids("new-a");
  r.add_subject_ids("new-b");
  return r;
}

struct BadCase {
  std::string name;
  grpc::StatusCode code;
  std::string message_part;  // the field or value the message must name
  std::function<grpc::Status(v1::Candor::Stub&)> call;
};

// Test names come from the case name; gtest need not dump the struct.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

grpc::Status Search(v1::Candor::Stub& stub, const v1::SearchRequest& r) {
  grpc::ClientContext ctx;
  v1::SearchResponse resp;
  return stub.Search(&ctx, r, &resp);
}

grpc::Status Enroll(v1::Candor::Stub& stub, const v1::EnrollRequest& r) {
  grpc::ClientContext ctx;
  v1::EnrollResponse resp;
  return stub.Enroll(&ctx, r, &resp);
}

template <typename Mutate>
BadCase SearchCase(std::string name, grpc::StatusCode code, std::string part,
                   Mutate mutate) {
  return {name, code, part, [mutate](v1::Candor::Stub& stub) {
            v1::SearchRequest r = GoodSearch();
            mutate(r);
            return Search(stub, r);
          }};
}

template <typename Mutate>
BadCase EnrollCase(std::string name, grpc::StatusCode code, std::string part,
                   Mutate mutate) {
  return {name, code, part, [mutate](v1::Candor::Stub& stub) {
            v1::EnrollRequest r = GoodEnroll();
            mutate(r);
            return Enroll(stub, r);
          }};
}

std::vector<float> WithValue(int row, float value) {
  std::vector<float> v = Rows(2);
  v[row * kDim + 3] = value;
  return v;
}

std::vector<BadCase> Cases() {
  using grpc::StatusCode;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<BadCase> cases = {
      SearchCase("SearchWrongDimension", StatusCode::INVALID_ARGUMENT, "dimension 4",
                 [](auto& r) { *r.mutable_probes() = PackRows(Rows(2, 4), 2, 4); }),
      SearchCase("SearchNaN", StatusCode::INVALID_ARGUMENT, "probes row 1",
                 [=](auto& r) { *r.mutable_probes() = PackRows(WithValue(1, nan), 2, kDim); }),
      SearchCase("SearchInf", StatusCode::INVALID_ARGUMENT, "NaN or Inf",
                 [=](auto& r) { *r.mutable_probes() = PackRows(WithValue(0, inf), 2, kDim); }),
      SearchCase("SearchZeroVector", StatusCode::INVALID_ARGUMENT, "zero vector",
                 [](auto& r) {
                   std::vector<float> v = Rows(2);
                   std::fill(v.begin() + kDim, v.end(), 0.0f);
                   *r.mutable_probes() = PackRows(v, 2, kDim);
                 }),
      SearchCase("SearchEmptyBatch", StatusCode::INVALID_ARGUMENT, "empty batch",
                 [](auto& r) { *r.mutable_probes() = PackRows({}, 0, kDim); }),
      SearchCase("SearchBatchOverMax", StatusCode::INVALID_ARGUMENT, "65 rows",
                 [](auto& r) { *r.mutable_probes() = PackRows(Rows(65), 65, kDim); }),
      SearchCase("SearchTruncatedData", StatusCode::INVALID_ARGUMENT, "bytes",
                 [](auto& r) { r.mutable_probes()->mutable_data()->resize(20); }),
      SearchCase("SearchUnknownGallery", StatusCode::NOT_FOUND, "nope",
                 [](auto& r) { r.set_gallery("nope"); }),
      SearchCase("SearchThresholdAbove1", StatusCode::INVALID_ARGUMENT, "1.5",
                 [](auto& r) { r.set_threshold(1.5f); }),
      SearchCase("SearchThresholdBelowMinus1", StatusCode::INVALID_ARGUMENT, "threshold",
                 [](auto& r) { r.set_threshold(-1.01f); }),
      SearchCase("SearchThresholdNaN", StatusCode::INVALID_ARGUMENT, "nan",
                 [=](auto& r) { r.set_threshold(nan); }),
      SearchCase("SearchTopKZero", StatusCode::INVALID_ARGUMENT, "top_k: 0",
                 [](auto& r) { r.set_top_k(0); }),
      SearchCase("SearchTopKTooLarge", StatusCode::INVALID_ARGUMENT, "top_k: 101",
                 [](auto& r) { r.set_top_k(101); }),
      SearchCase("SearchProbeInfoMismatch", StatusCode::INVALID_ARGUMENT, "probe_info",
                 [](auto& r) { r.add_probe_info()->set_group("A"); }),
      SearchCase("SearchMessageOverLimit", StatusCode::RESOURCE_EXHAUSTED, "",
                 [](auto& r) { r.set_purpose(std::string(2 << 20, 'x')); }),
      EnrollCase("EnrollWrongDimension", StatusCode::INVALID_ARGUMENT, "dimension 9",
                 [](auto& r) { *r.mutable_vectors() = PackRows(Rows(2, 9), 2, 9); }),
      EnrollCase("EnrollNaN", StatusCode::INVALID_ARGUMENT, "vectors row 1",
                 [=](auto& r) { *r.mutable_vectors() = PackRows(WithValue(1, nan), 2, kDim); }),
      EnrollCase("EnrollZeroVector", StatusCode::INVALID_ARGUMENT, "zero vector",
                 [](auto& r) {
                   *r.mutable_vectors() = PackRows(std::vector<float>(2 * kDim, 0.0f), 2, kDim);
                 }),
      EnrollCase("EnrollEmptyBatch", StatusCode::INVALID_ARGUMENT, "empty batch",
                 [](auto& r) {
                   *r.mutable_vectors() = PackRows({}, 0, kDim);
                   r.clear_subject_ids();
                 }),
      EnrollCase("EnrollBatchOverMax", StatusCode::INVALID_ARGUMENT, "65 rows",
                 [](auto& r) { *r.mutable_vectors() = PackRows(Rows(65), 65, kDim); }),
      EnrollCase("EnrollSubjectCountMismatch", StatusCode::INVALID_ARGUMENT, "subject_ids",
                 [](auto& r) { r.add_subject_ids("extra"); }),
      EnrollCase("EnrollEmptySubject", StatusCode::INVALID_ARGUMENT, "subject_ids[1]",
                 [](auto& r) { r.set_subject_ids(1, ""); }),
      EnrollCase("EnrollGroupCountMismatch", StatusCode::INVALID_ARGUMENT, "groups",
                 [](auto& r) { r.add_groups("A"); }),
      EnrollCase("EnrollUnknownGallery", StatusCode::NOT_FOUND, "nope",
                 [](auto& r) { r.set_gallery("nope"); }),
  };
  auto remove_case = [](std::string name, grpc::StatusCode code, std::string part,
                        std::function<void(v1::RemoveRequest&)> mutate) {
    return BadCase{name, code, part, [mutate](v1::Candor::Stub& stub) {
                     v1::RemoveRequest r;
                     r.set_gallery(kGallery);
                     mutate(r);
                     grpc::ClientContext ctx;
                     v1::RemoveResponse resp;
                     return stub.Remove(&ctx, r, &resp);
                   }};
  };
  cases.push_back(remove_case("RemoveUnknownId", grpc::StatusCode::NOT_FOUND, "999999",
                              [](auto& r) { r.mutable_entry_ids()->add_ids(999999); }));
  cases.push_back(remove_case("RemoveKnownAndUnknownIds", grpc::StatusCode::NOT_FOUND,
                              "999999", [](auto& r) {
                                r.mutable_entry_ids()->add_ids(1);
                                r.mutable_entry_ids()->add_ids(999999);
                              }));
  cases.push_back(remove_case("RemoveUnknownSubject", grpc::StatusCode::NOT_FOUND,
                              "ghost", [](auto& r) { r.set_subject_id("ghost"); }));
  cases.push_back(remove_case("RemoveNoTarget", grpc::StatusCode::INVALID_ARGUMENT,
                              "target", [](auto&) {}));
  auto create_case = [](std::string name, grpc::StatusCode code, std::string part,
                        std::string gallery, uint32_t dim) {
    return BadCase{name, code, part, [gallery, dim](v1::Candor::Stub& stub) {
                     v1::CreateGalleryRequest r;
                     r.set_name(gallery);
                     r.set_dimension(dim);
                     grpc::ClientContext ctx;
                     v1::Gallery resp;
                     return stub.CreateGallery(&ctx, r, &resp);
                   }};
  };
  cases.push_back(create_case("CreateTakenName", grpc::StatusCode::ALREADY_EXISTS, "g", "g", kDim));
  cases.push_back(create_case("CreateInvalidName", grpc::StatusCode::INVALID_ARGUMENT,
                              "a/b", "a/b", kDim));
  cases.push_back(create_case("CreateDotName", grpc::StatusCode::INVALID_ARGUMENT,
                              ".hidden", ".hidden", kDim));
  cases.push_back(create_case("CreateLongName", grpc::StatusCode::INVALID_ARGUMENT,
                              "name", std::string(65, 'a'), kDim));
  cases.push_back(create_case("CreateDimensionZero", grpc::StatusCode::INVALID_ARGUMENT,
                              "dimension: 0", "z", 0));
  cases.push_back(create_case("CreateDimensionTooLarge", grpc::StatusCode::INVALID_ARGUMENT,
                              "dimension: 5000", "z", 5000));
  return cases;
}

class BadInputTest : public ::testing::TestWithParam<BadCase> {
 protected:
  static void SetUpTestSuite() {
    server_ = new TestServer();
    grpc::ClientContext ctx;
    v1::CreateGalleryRequest create;
    create.set_name(kGallery);
    create.set_dimension(kDim);
    v1::Gallery g;
    ASSERT_TRUE(server_->stub().CreateGallery(&ctx, create, &g).ok());
    ASSERT_TRUE(Enroll(server_->stub(), GoodEnroll()).ok());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static v1::Gallery Snapshot() {
    grpc::ClientContext ctx;
    v1::GetGalleryRequest req;
    req.set_name(kGallery);
    v1::Gallery g;
    EXPECT_TRUE(server_->stub().GetGallery(&ctx, req, &g).ok());
    return g;
  }

  static TestServer* server_;
};

TestServer* BadInputTest::server_ = nullptr;

TEST_P(BadInputTest, RejectedWithSpecificCodeAndNothingChanges) {
  const BadCase& c = GetParam();
  const v1::Gallery before = Snapshot();
  grpc::Status status = c.call(server_->stub());
  EXPECT_EQ(status.error_code(), c.code) << status.error_message();
  EXPECT_NE(status.error_message().find(c.message_part), std::string::npos)
      << "message '" << status.error_message() << "' should name '"
      << c.message_part << "'";
  const v1::Gallery after = Snapshot();
  EXPECT_EQ(after.version(), before.version());
  EXPECT_EQ(after.size(), before.size());
  // The server still answers a good request.
  EXPECT_TRUE(Search(server_->stub(), GoodSearch()).ok());
}

INSTANTIATE_TEST_SUITE_P(Table, BadInputTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace candor::testing
