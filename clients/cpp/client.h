// candor::Client: the one C++ client of the candor.v1 API. The CLI, the
// examples and the load generator are built on it.
//
// Every method is a blocking call with the client's per-call deadline and
// returns the server's status unchanged (same code, same message) as an
// absl::Status. Matrices go in as spans of row-major floats with their
// shape; the client checks the shape before anything is sent.
//
// A Client is safe to use from several threads at once: it holds only the
// channel and the stub, both thread-safe.
#ifndef CANDOR_CLIENTS_CPP_CLIENT_H_
#define CANDOR_CLIENTS_CPP_CLIENT_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "candor/v1/candor.grpc.pb.h"
#include "candor/v1/candor.pb.h"
#include "clients/cpp/connection.h"
#include "clients/cpp/grpc_status.h"

namespace candor {

// What a search asks for, besides the probes.
struct SearchOptions {
  // Unset: the gallery's policy threshold.
  std::optional<float> threshold;
  uint32_t top_k = 10;
  // Empty, or one per probe row (both may be given; the shorter must be
  // empty).
  std::vector<std::string> groups;
  std::vector<std::string> refs;
  // Why the search is made (goes to the server's audit log).
  std::string purpose;
  bool omit_report = false;
  // IVF galleries: inverted lists visited per probe (0 = gallery default).
  uint32_t nprobe = 0;
};

// One batch of a SearchStream: rows x dim probes with their options.
struct ProbeBatch {
  absl::Span<const float> probes;
  int64_t rows = 0;
  SearchOptions options;
};

// An operator-supplied calibration set, each matrix rows x dim row-major.
struct LabeledSetInput {
  absl::Span<const float> nonmated;
  int64_t nonmated_rows = 0;
  std::vector<std::string> nonmated_groups;
  // Mated probes may be absent (mated_rows = 0): FNIR is then not measured.
  absl::Span<const float> mated;
  int64_t mated_rows = 0;
  std::vector<std::string> mated_groups;
  // The enrolled subject each mated probe belongs to.
  std::vector<std::string> mated_subject_ids;
};

class Client {
 public:
  // Deadline used when none is given: generous, since an enrollment is
  // acknowledged only once it is durable on the server's disk.
  static constexpr absl::Duration kDefaultCallTimeout = absl::Seconds(60);

  // Connects (lazily) as `options` says: plaintext, TLS, mutual TLS, with
  // or without a bearer token. Fails, before any connection is tried, on
  // options that cannot work (see MakeCredentials). A non-positive timeout
  // means no deadline.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(
      const ConnectionOptions& options,
      absl::Duration call_timeout = kDefaultCallTimeout);
  // Connects (lazily, without TLS) to `address`, e.g. "127.0.0.1:50051".
  // Responses of any size are accepted.
  explicit Client(const std::string& address,
                  absl::Duration call_timeout = kDefaultCallTimeout);
  // Uses a channel the caller configured (TLS, interceptors, tests).
  explicit Client(std::shared_ptr<grpc::Channel> channel,
                  absl::Duration call_timeout = kDefaultCallTimeout);

  // Galleries.
  absl::StatusOr<v1::Gallery> CreateGallery(const std::string& name,
                                            uint32_t dimension,
                                            const v1::IndexSpec& index = {},
                                            const v1::Policy& policy = {});
  // Any CreateGalleryRequest (precision, and fields to come).
  absl::StatusOr<v1::Gallery> CreateGallery(
      const v1::CreateGalleryRequest& request);
  absl::StatusOr<v1::Gallery> GetGallery(const std::string& name);
  absl::StatusOr<std::vector<v1::Gallery>> ListGalleries();
  absl::Status DeleteGallery(const std::string& name);
  absl::StatusOr<v1::CompactGalleryResponse> CompactGallery(
      const std::string& name);

  // Enrolls rows x dim vectors, one subject id per row and either no groups
  // or one per row. Returns the server-assigned entry ids in row order. A
  // non-empty request_id makes the call idempotent on the server.
  absl::StatusOr<std::vector<uint64_t>> Enroll(
      const std::string& gallery, absl::Span<const float> vectors, int64_t rows,
      int64_t dim, absl::Span<const std::string> subject_ids,
      absl::Span<const std::string> groups = {},
      const std::string& request_id = "");

  // Remove entries by id (all must exist) or every entry of a subject.
  // Return the removed entry ids.
  absl::StatusOr<std::vector<uint64_t>> RemoveEntries(
      const std::string& gallery, absl::Span<const uint64_t> entry_ids);
  absl::StatusOr<std::vector<uint64_t>> RemoveSubject(
      const std::string& gallery, const std::string& subject_id);

  // Searches rows x dim probes.
  absl::StatusOr<v1::SearchResponse> Search(const std::string& gallery,
                                            absl::Span<const float> probes,
                                            int64_t rows, int64_t dim,
                                            const SearchOptions& options);
  // Sends the batches over one SearchStream and returns the responses in
  // batch order. Stops at the first error, which it returns. The deadline
  // covers the whole stream.
  absl::StatusOr<std::vector<v1::SearchResponse>> SearchStream(
      const std::string& gallery, int64_t dim,
      absl::Span<const ProbeBatch> batches);

  // Calibration from a labeled set, or from a self-audit of the gallery
  // (sample_size entries, fixed seed). top_k 0 = the server's default.
  absl::StatusOr<v1::CalibrationReport> CalibrateLabeled(
      const std::string& gallery, int64_t dim, const LabeledSetInput& set,
      uint32_t top_k = 0);
  absl::StatusOr<v1::CalibrationReport> CalibrateSelfAudit(
      const std::string& gallery, uint32_t sample_size, uint64_t seed,
      uint32_t top_k = 0);
  // The stored calibration on a threshold grid (empty = server default);
  // target_fpir 0 = the policy's max_fpir or the server default.
  absl::StatusOr<v1::CalibrationReport> GetCalibration(
      const std::string& gallery, absl::Span<const float> thresholds = {},
      double target_fpir = 0.0);

  // Sets the gallery's policy override, or clears it when `clear`.
  absl::StatusOr<v1::Gallery> SetPolicy(const std::string& gallery,
                                        const v1::Policy& policy,
                                        bool clear = false);
  // (Re)trains an IVF index; nlist 0 keeps the gallery's.
  absl::StatusOr<v1::Gallery> TrainIndex(const std::string& gallery,
                                         uint32_t nlist = 0);
  absl::StatusOr<v1::Stats> GetStats();

  // The request Search would send; exposed for callers that drive the
  // stub or a stream themselves (the load generator).
  static absl::StatusOr<v1::SearchRequest> BuildSearchRequest(
      const std::string& gallery, absl::Span<const float> probes, int64_t rows,
      int64_t dim, const SearchOptions& options);

  v1::Candor::Stub& stub() { return *stub_; }

 private:
  // Sets the per-call deadline on a fresh context.
  void PrepareContext(grpc::ClientContext* context) const;
  // One unary call under the per-call deadline: the response or the error.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(
      grpc::Status (v1::Candor::Stub::*rpc)(grpc::ClientContext*,
                                            const Request&, Response*),
      const Request& request) {
    grpc::ClientContext context;
    PrepareContext(&context);
    Response response;
    absl::Status status =
        ToAbslStatus((stub_.get()->*rpc)(&context, request, &response));
    if (!status.ok()) return status;
    return response;
  }
  absl::StatusOr<std::vector<uint64_t>> Remove(
      const v1::RemoveRequest& request);

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Candor::Stub> stub_;
  absl::Duration call_timeout_;
};

}  // namespace candor

#endif  // CANDOR_CLIENTS_CPP_CLIENT_H_
