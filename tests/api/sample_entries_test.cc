// SampleEntries: a seeded sample of a gallery's entries with their vectors
// (what a router's self-audit draws from its shards). Against a real
// server: what it returns and how it validates; and who may call it, both
// at the gate (every kind of caller) and end to end (a refused caller gets
// PERMISSION_DENIED, no entries, and an audit record).

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/security/call_gate.h"
#include "tests/api/test_server.h"

namespace candor::testing {
namespace {

constexpr int kDim = 8;
constexpr char kGallery[] = "g";

grpc::Status Sample(v1::Candor::Stub& stub, const std::string& gallery,
                    uint32_t sample_size, uint64_t seed,
                    v1::SampleEntriesResponse* resp) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::SampleEntriesRequest req;
  req.set_gallery(gallery);
  req.set_sample_size(sample_size);
  req.set_seed(seed);
  return stub.SampleEntries(&ctx, req, resp);
}

class SampleEntriesTest : public ::testing::Test {
 protected:
  // 30 entries: subject s<i> holds i % 3 + 1 of them, groups a and b.
  void SetUp() override {
    grpc::ClientContext ctx;
    v1::CreateGalleryRequest create;
    create.set_name(kGallery);
    create.set_dimension(kDim);
    v1::Gallery g;
    ASSERT_TRUE(server_.stub().CreateGallery(&ctx, create, &g).ok());
    rows_ = RandomRows(30, kDim, 11);
    v1::EnrollRequest enroll;
    enroll.set_gallery(kGallery);
    *enroll.mutable_vectors() = PackRows(rows_, 30, kDim);
    for (int subject = 0, row = 0; row < 30; ++subject) {
      for (int k = 0; k < subject % 3 + 1 && row < 30; ++k, ++row) {
        enroll.add_subject_ids(absl::StrCat("s", subject));
        enroll.add_groups(subject % 2 == 0 ? "a" : "b");
      }
    }
    for (const auto& s : enroll.subject_ids()) ++per_subject_[s];
    grpc::ClientContext ctx2;
    v1::EnrollResponse enrolled;
    grpc::Status s = server_.stub().Enroll(&ctx2, enroll, &enrolled);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (int i = 0; i < enrolled.entry_ids_size(); ++i) {
      row_of_[enrolled.entry_ids(i)] = i;
      subject_of_[enrolled.entry_ids(i)] = enroll.subject_ids(i);
      group_of_[enrolled.entry_ids(i)] = enroll.groups(i);
    }
  }

  // The enrolled row of `id`, L2-normalized as the server stores it.
  std::vector<float> Normalized(uint64_t id) const {
    const int row = row_of_.at(id);
    std::vector<float> v(rows_.begin() + row * kDim,
                         rows_.begin() + (row + 1) * kDim);
    double norm = 0;
    for (float x : v) norm += double{x} * x;
    for (float& x : v) x = static_cast<float>(x / std::sqrt(norm));
    return v;
  }

  std::vector<uint64_t> Ids(const v1::SampleEntriesResponse& r) const {
    std::vector<uint64_t> ids;
    for (const auto& e : r.entries()) ids.push_back(e.entry_id());
    return ids;
  }

  TestServer server_;
  std::vector<float> rows_;
  std::map<uint64_t, int> row_of_;
  std::map<uint64_t, std::string> subject_of_, group_of_;
  std::map<std::string, int> per_subject_;
};

TEST_F(SampleEntriesTest, DrawsDistinctEntriesWithTheirVectorsAndSubjects) {
  v1::SampleEntriesResponse resp;
  grpc::Status s = Sample(server_.stub(), kGallery, 12, 5, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(resp.entries_size(), 12);
  EXPECT_EQ(resp.gallery_size(), 30u);
  EXPECT_GE(resp.gallery_version(), 1u);
  ASSERT_EQ(resp.vectors().rows(), 12u);
  ASSERT_EQ(resp.vectors().cols(), static_cast<uint32_t>(kDim));
  ASSERT_EQ(resp.vectors().data().size(), 12u * kDim * sizeof(float));
  std::set<uint64_t> seen;
  for (int i = 0; i < resp.entries_size(); ++i) {
    const v1::SampledEntry& e = resp.entries(i);
    ASSERT_TRUE(row_of_.count(e.entry_id())) << e.entry_id();
    EXPECT_TRUE(seen.insert(e.entry_id()).second) << "drawn twice";
    EXPECT_EQ(e.subject_id(), subject_of_[e.entry_id()]);
    EXPECT_EQ(e.group(), group_of_[e.entry_id()]);
    EXPECT_EQ(e.subject_entries(),
              static_cast<uint32_t>(per_subject_[e.subject_id()]));
    std::vector<float> got(kDim);
    std::memcpy(got.data(), resp.vectors().data().data() + i * kDim * 4,
                kDim * 4);
    const std::vector<float> want = Normalized(e.entry_id());
    for (int d = 0; d < kDim; ++d) EXPECT_NEAR(got[d], want[d], 1e-6) << d;
  }
}

TEST_F(SampleEntriesTest, OneSeedDrawsTheSameAnotherDrawsOtherwise) {
  v1::SampleEntriesResponse a, b, c;
  ASSERT_TRUE(Sample(server_.stub(), kGallery, 10, 42, &a).ok());
  ASSERT_TRUE(Sample(server_.stub(), kGallery, 10, 42, &b).ok());
  ASSERT_TRUE(Sample(server_.stub(), kGallery, 10, 43, &c).ok());
  EXPECT_EQ(Ids(a), Ids(b));
  EXPECT_EQ(a.vectors().data(), b.vectors().data());
  EXPECT_NE(Ids(a), Ids(c));
}

TEST_F(SampleEntriesTest, MoreThanTheGalleryHoldsReturnsEveryEntryOnce) {
  v1::SampleEntriesResponse resp;
  ASSERT_TRUE(Sample(server_.stub(), kGallery, 1000, 1, &resp).ok());
  const std::vector<uint64_t> ids = Ids(resp);
  EXPECT_EQ(std::set<uint64_t>(ids.begin(), ids.end()).size(), 30u);
  EXPECT_EQ(ids.size(), 30u);
}

TEST_F(SampleEntriesTest, BadInputIsRefusedAndNamed) {
  v1::SampleEntriesResponse resp;
  grpc::Status s = Sample(server_.stub(), kGallery, 0, 1, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("sample_size"), std::string::npos)
      << s.error_message();
  s = Sample(server_.stub(), "nope", 5, 1, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  s = Sample(server_.stub(), "", 5, 1, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(resp.entries_size(), 0);
}

TEST(SampleEntriesLimitTest, ASampleOverTheMessageLimitIsRefusedBeforeWork) {
  api::ServerOptions options = TestServer::DefaultOptions();
  options.limits.max_message_bytes = 64 << 10;
  TestServer server(options);
  constexpr int kWide = 1024;  // 4 KiB a vector: about 16 fit
  grpc::ClientContext ctx;
  v1::CreateGalleryRequest create;
  create.set_name(kGallery);
  create.set_dimension(kWide);
  v1::Gallery g;
  ASSERT_TRUE(server.stub().CreateGallery(&ctx, create, &g).ok());
  for (int batch = 0; batch < 2; ++batch) {
    v1::EnrollRequest enroll;
    enroll.set_gallery(kGallery);
    *enroll.mutable_vectors() =
        PackRows(RandomRows(12, kWide, 3 + batch), 12, kWide);
    for (int i = 0; i < 12; ++i) {
      enroll.add_subject_ids(absl::StrCat("s", batch, "-", i));
    }
    grpc::ClientContext enroll_ctx;
    v1::EnrollResponse enrolled;
    grpc::Status s = server.stub().Enroll(&enroll_ctx, enroll, &enrolled);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  v1::SampleEntriesResponse resp;
  grpc::Status s = Sample(server.stub(), kGallery, 24, 1, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("--max_message_bytes"), std::string::npos)
      << s.error_message();
  EXPECT_EQ(resp.entries_size(), 0);
  // What fits is served.
  s = Sample(server.stub(), kGallery, 10, 1, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.entries_size(), 10);
}

// A policy file in a fresh directory (removed by the caller).
std::string WritePolicy(const std::string& dir, const std::string& json) {
  const std::string path = dir + "/policy.json";
  std::ofstream(path, std::ios::trunc) << json;
  return path;
}

// Callers without an identity (plaintext on loopback) may create, enroll and
// search, but the policy does not grant SampleEntries: it is refused with
// PERMISSION_DENIED, returns nothing, and is audited as refused.
TEST(SampleEntriesAuthzTest, ACallerThePolicyDoesNotGrantItIsRefused) {
  const std::string dir = MakeTempDir("candor-sample-authz");
  api::ServerOptions options = TestServer::DefaultOptions();
  options.security.authz_policy = WritePolicy(dir, R"({
    "name": "no-sampling", "allow_rules": [
      {"name": "anyone", "request": {"paths": [
        "/candor.v1.Candor/CreateGallery", "/candor.v1.Candor/Enroll",
        "/candor.v1.Candor/Search", "/candor.v1.Candor/GetGallery"]}}]})");
  {
    TestServer server(options);
    grpc::ClientContext ctx;
    v1::CreateGalleryRequest create;
    create.set_name(kGallery);
    create.set_dimension(kDim);
    v1::Gallery g;
    grpc::Status s = server.stub().CreateGallery(&ctx, create, &g);
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::EnrollRequest enroll;
    enroll.set_gallery(kGallery);
    *enroll.mutable_vectors() = PackRows(RandomRows(4, kDim, 2), 4, kDim);
    for (const char* id : {"a", "b", "c", "d"}) enroll.add_subject_ids(id);
    grpc::ClientContext ctx2;
    v1::EnrollResponse enrolled;
    s = server.stub().Enroll(&ctx2, enroll, &enrolled);
    ASSERT_TRUE(s.ok()) << s.error_message();

    v1::SampleEntriesResponse resp;
    s = Sample(server.stub(), kGallery, 4, 1, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << s.error_message();
    EXPECT_NE(s.error_message().find("SampleEntries"), std::string::npos)
        << s.error_message();
    EXPECT_EQ(resp.entries_size(), 0);
    EXPECT_TRUE(resp.vectors().data().empty());
    // Refused at the gate, before the gallery is looked at: an unknown
    // gallery is refused the same way (no probing for names).
    s = Sample(server.stub(), "nope", 4, 1, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);

    const auto records = ReadAuditRecords(server.data_dir(), "SampleEntries");
    ASSERT_EQ(records.size(), 2u);
    for (const auto& r : records) {
      EXPECT_EQ(r["status_code"], "PERMISSION_DENIED") << r.dump();
      EXPECT_TRUE(r.value("matched_entry_ids", nlohmann::json::array()).empty())
          << "a refused sample names no entry: " << r.dump();
    }
  }
  RemoveTree(dir);
}

TEST(SampleEntriesAuthzTest, APolicyThatGrantsItLetsTheCallerSample) {
  const std::string dir = MakeTempDir("candor-sample-authz");
  api::ServerOptions options = TestServer::DefaultOptions();
  options.security.authz_policy = WritePolicy(dir, R"({
    "name": "all", "allow_rules": [
      {"name": "anyone", "request": {"paths": ["/candor.v1.Candor/*"]}}]})");
  {
    TestServer server(options);
    grpc::ClientContext ctx;
    v1::CreateGalleryRequest create;
    create.set_name(kGallery);
    create.set_dimension(kDim);
    v1::Gallery g;
    ASSERT_TRUE(server.stub().CreateGallery(&ctx, create, &g).ok());
    v1::EnrollRequest enroll;
    enroll.set_gallery(kGallery);
    *enroll.mutable_vectors() = PackRows(RandomRows(3, kDim, 2), 3, kDim);
    for (const char* id : {"a", "b", "c"}) enroll.add_subject_ids(id);
    grpc::ClientContext ctx2;
    v1::EnrollResponse enrolled;
    ASSERT_TRUE(server.stub().Enroll(&ctx2, enroll, &enrolled).ok());
    v1::SampleEntriesResponse resp;
    grpc::Status s = Sample(server.stub(), kGallery, 2, 1, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.entries_size(), 2);
    const auto records = ReadAuditRecords(server.data_dir(), "SampleEntries");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0]["status_code"], "OK");
    // The entries handed out are named (never their vectors).
    ASSERT_EQ(records[0]["matched_entry_ids"].size(), 1u);
    std::vector<uint64_t> named = records[0]["matched_entry_ids"][0];
    std::vector<uint64_t> drawn;
    for (const auto& e : resp.entries()) drawn.push_back(e.entry_id());
    EXPECT_EQ(named, drawn);
  }
  RemoveTree(dir);
}

// Every kind of caller at the gate.
class SampleEntriesGateTest : public ::testing::Test {
 protected:
  static constexpr char kRouter[] = "spiffe://t/sa/router";
  static constexpr char kRelay[] = "spiffe://t/sa/relay";
  static constexpr char kAdmin[] = "spiffe://t/sa/admin";
  static constexpr char kSearcher[] = "spiffe://t/sa/searcher";
  static constexpr char kAuditor[] = "spiffe://t/sa/auditor";

  void SetUp() override { dir_ = MakeTempDir("candor-sample-gate"); }
  void TearDown() override { RemoveTree(dir_); }

  // TLS with client certificates (identities required); the roles when
  // `with_policy`. The relay is a trusted forwarder the policy grants only
  // Calibrate.
  std::unique_ptr<security::CallGate> Gate(bool with_policy,
                                           bool identities = true) {
    security::SecurityOptions options;
    options.tls_cert = "unused-here.pem";
    options.tls_key = "unused-here-key.pem";
    if (identities) options.tls_client_ca = "unused-ca.pem";
    if (with_policy) {
      options.authz_policy = WritePolicy(dir_, R"({
        "name": "roles", "allow_rules": [
          {"name": "searcher", "source": {"principals": ["spiffe://t/sa/searcher"]},
           "request": {"paths": ["/candor.v1.Candor/Search"]}},
          {"name": "auditor", "source": {"principals": ["spiffe://t/sa/auditor"]},
           "request": {"paths": ["/candor.v1.Candor/Calibrate"]}},
          {"name": "relay", "source": {"principals": ["spiffe://t/sa/relay"]},
           "request": {"paths": ["/candor.v1.Candor/Calibrate"]}},
          {"name": "admin", "source": {"principals": ["spiffe://t/sa/admin"]},
           "request": {"paths": ["/candor.v1.Candor/*"]}},
          {"name": "router", "source": {"principals": ["spiffe://t/sa/router"]},
           "request": {"paths": ["/candor.v1.Candor/*"]}}]})");
    }
    options.trusted_forwarders = {kRouter, kRelay};
    auto gate = security::CallGate::Create(options);
    EXPECT_TRUE(gate.ok()) << gate.status();
    return gate.ok() ? *std::move(gate) : nullptr;
  }

  static security::CallGate::Request Direct(const std::string& identity) {
    security::CallGate::Request r;
    r.certificate_identity = identity;
    r.peer = "ipv4:127.0.0.1:5000";
    r.secure_transport = true;
    r.method = "SampleEntries";
    return r;
  }
  static security::CallGate::Request Forwarded(const std::string& forwarder,
                                               const std::string& identity,
                                               const std::string& method) {
    security::CallGate::Request r = Direct(forwarder);
    r.forwarded_identity = identity;
    r.forwarded_peer = "ipv4:10.1.2.3:4000";
    r.forwarded_method = method;
    return r;
  }
  static grpc::StatusCode Code(const absl::Status& s) {
    return static_cast<grpc::StatusCode>(s.code());
  }

  std::string dir_;
};

TEST_F(SampleEntriesGateTest, ThePolicyGrantsItToTheRouterAndTheAdminOnly) {
  auto gate = Gate(/*with_policy=*/true);
  ASSERT_NE(gate, nullptr);
  security::Caller caller;
  EXPECT_TRUE(gate->Decide(Direct(kRouter), &caller).ok());
  EXPECT_TRUE(gate->Decide(Direct(kAdmin), &caller).ok());
  for (const char* who : {kSearcher, kAuditor, kRelay}) {
    absl::Status s = gate->Decide(Direct(who), &caller);
    EXPECT_TRUE(absl::IsPermissionDenied(s)) << who << ": " << s;
    EXPECT_EQ(caller.identity, who);
  }
  // No identity at all.
  absl::Status s = gate->Decide(Direct(""), &caller);
  EXPECT_TRUE(absl::IsUnauthenticated(s)) << s;
}

TEST_F(SampleEntriesGateTest, AForwardedSampleIsForACalibrateTheCallerMayCall) {
  auto gate = Gate(/*with_policy=*/true);
  ASSERT_NE(gate, nullptr);
  security::Caller caller;
  absl::Status s =
      gate->Decide(Forwarded(kRouter, kAuditor, "Calibrate"), &caller);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(caller.identity, kAuditor);
  EXPECT_EQ(caller.forwarded_by, kRouter);
  // The searcher may not calibrate, so the router may not sample for it.
  s = gate->Decide(Forwarded(kRouter, kSearcher, "Calibrate"), &caller);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  // A sample for anything but a calibration, or for no named method.
  for (const char* method : {"Search", "SampleEntries", ""}) {
    s = gate->Decide(Forwarded(kRouter, kAdmin, method), &caller);
    EXPECT_TRUE(absl::IsPermissionDenied(s)) << "'" << method << "': " << s;
  }
  // A trusted forwarder the policy does not grant SampleEntries.
  s = gate->Decide(Forwarded(kRelay, kAuditor, "Calibrate"), &caller);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_NE(std::string(s.message()).find(kRelay), std::string::npos) << s;
  // Not a trusted forwarder at all.
  s = gate->Decide(Forwarded(kAdmin, kAuditor, "Calibrate"), &caller);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
}

TEST_F(SampleEntriesGateTest, WithoutAPolicyOnlyATrustedForwarderMaySample) {
  auto gate = Gate(/*with_policy=*/false);
  ASSERT_NE(gate, nullptr);
  security::Caller caller;
  EXPECT_TRUE(gate->Decide(Direct(kRouter), &caller).ok());
  EXPECT_TRUE(gate->Decide(Forwarded(kRouter, kSearcher, "Calibrate"), &caller)
                  .ok());
  for (const char* who : {kAdmin, kSearcher}) {
    absl::Status s = gate->Decide(Direct(who), &caller);
    EXPECT_TRUE(absl::IsPermissionDenied(s)) << who << ": " << s;
    EXPECT_NE(std::string(s.message()).find("--trusted_forwarders"),
              std::string::npos)
        << s;
  }
  // Every other method stays open to every authenticated caller.
  security::CallGate::Request search = Direct(kSearcher);
  search.method = "Search";
  EXPECT_TRUE(gate->Decide(search, &caller).ok());
}

TEST_F(SampleEntriesGateTest, AServerThatIdentifiesNoCallerServesLoopbackOnly) {
  auto gate = Gate(/*with_policy=*/false, /*identities=*/false);
  ASSERT_NE(gate, nullptr);
  security::Caller caller;
  for (const char* peer : {"ipv4:127.0.0.1:5000", "ipv6:[::1]:5000"}) {
    security::CallGate::Request r = Direct("");
    r.peer = peer;
    EXPECT_TRUE(gate->Decide(r, &caller).ok()) << peer;
  }
  for (const char* peer : {"ipv4:10.0.0.5:5000", "ipv6:[fe80::1]:5000",
                           "ipv4:128.0.0.1:5000"}) {
    security::CallGate::Request r = Direct("");
    r.peer = peer;
    absl::Status s = gate->Decide(r, &caller);
    EXPECT_TRUE(absl::IsPermissionDenied(s)) << peer << ": " << s;
    r.method = "Search";
    EXPECT_TRUE(gate->Decide(r, &caller).ok()) << peer;
  }
}

}  // namespace
}  // namespace candor::testing
