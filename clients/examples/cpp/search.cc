// The smallest complete use of candor::Client: create a gallery, enroll
// two subjects, search a probe near one of them, print the candidates and
// what the threshold costs, delete the gallery.
//
//   candor_example_search [SERVER_ADDRESS]   (default 127.0.0.1:50051)
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/cpp/client.h"

int main(int argc, char** argv) {
  const std::string address = argc > 1 ? argv[1] : "127.0.0.1:50051";
  candor::Client client(address);
  const std::string gallery = absl::StrCat("example-", ::getpid());
  constexpr int64_t kDim = 4;

  absl::StatusOr<candor::v1::Gallery> created =
      client.CreateGallery(gallery, kDim);
  if (!created.ok()) {
    std::cerr << "create: " << created.status() << "\n";
    return 1;
  }
  // Two entries, row-major; the server L2-normalizes them.
  const std::vector<float> entries = {1, 0, 0, 0,   // alice
                                      0, 1, 0, 0};  // bob
  const std::vector<std::string> subjects = {"alice", "bob"};
  absl::StatusOr<std::vector<uint64_t>> ids =
      client.Enroll(gallery, entries, 2, kDim, subjects);
  if (!ids.ok()) {
    std::cerr << "enroll: " << ids.status() << "\n";
    return 1;
  }

  const std::vector<float> probe = {0.9f, 0.1f, 0, 0};
  candor::SearchOptions options;
  options.threshold = 0.5f;
  options.top_k = 5;
  absl::StatusOr<candor::v1::SearchResponse> response =
      client.Search(gallery, probe, 1, kDim, options);
  if (!response.ok()) {
    std::cerr << "search: " << response.status() << "\n";
    return 1;
  }
  for (const candor::v1::Candidate& c : response->results(0).candidates()) {
    std::cout << c.subject_id() << " (entry " << c.entry_id() << ") score "
              << c.score() << "\n";
  }
  if (response->has_report()) {
    std::cout << "threshold report:\n" << response->report().DebugString();
  }
  absl::Status deleted = client.DeleteGallery(gallery);
  if (!deleted.ok()) {
    std::cerr << "delete: " << deleted << "\n";
    return 1;
  }
  return 0;
}
