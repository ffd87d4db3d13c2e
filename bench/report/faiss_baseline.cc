// faiss-baseline: the in-process reference for candor's end-to-end Search
// throughput. Loads a gallery and probes from .npy files (the same files
// the server enrolls and candor-bench sends), builds a faiss::IndexFlatIP
// over the gallery and calls IndexFlatIP::search on batches of probes in a
// closed loop for a fixed time, with the server's threading: OpenBLAS gets
// --threads threads, OpenMP one (server/main.cc does the same).
//
//   faiss-baseline --gallery_npy=g.npy --probes_npy=p.npy --batch=256
//                  --top_k=10 --duration=10s
//
// Prints one JSON object: calls, probes, elapsed seconds, probes per second.
// Rows are L2-normalized on load, as the server stores and searches them,
// so the same inner products are computed on both sides.
#include <cblas.h>
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "clients/cli/npy.h"
#include "faiss/IndexFlat.h"

ABSL_FLAG(std::string, gallery_npy, "", "gallery rows (N x D float32 .npy)");
ABSL_FLAG(std::string, probes_npy, "",
          "probe rows (M x D .npy); batches cycle through them");
ABSL_FLAG(int64_t, batch, 256, "probes per search call");
ABSL_FLAG(int, top_k, 10, "neighbours per probe");
ABSL_FLAG(int, threads, 2, "OpenBLAS threads (the server's --threads)");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10),
          "keep calling search for this long");
ABSL_FLAG(int, warmup_calls, 1, "calls before the timed loop");

namespace {

void NormalizeRows(std::vector<float>& values, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = values.data() + r * cols;
    double sum = 0;
    for (int64_t c = 0; c < cols; ++c) sum += double(row[c]) * row[c];
    if (sum <= 0) continue;
    const float inv = static_cast<float>(1.0 / std::sqrt(sum));
    for (int64_t c = 0; c < cols; ++c) row[c] *= inv;
  }
}

int Run() {
  auto gallery = candor::ReadNpy(absl::GetFlag(FLAGS_gallery_npy));
  if (!gallery.ok()) {
    std::cerr << "faiss-baseline: " << gallery.status() << "\n";
    return 1;
  }
  auto probes = candor::ReadNpy(absl::GetFlag(FLAGS_probes_npy));
  if (!probes.ok()) {
    std::cerr << "faiss-baseline: " << probes.status() << "\n";
    return 1;
  }
  const int64_t batch = absl::GetFlag(FLAGS_batch);
  const int k = absl::GetFlag(FLAGS_top_k);
  if (probes->cols != gallery->cols || probes->rows < batch || batch < 1 ||
      k < 1) {
    std::cerr << "faiss-baseline: need probes of the gallery's dimension, at "
                 "least --batch of them, and --top_k >= 1\n";
    return 1;
  }
  const int64_t dim = gallery->cols;
  NormalizeRows(gallery->values, gallery->rows, dim);
  NormalizeRows(probes->values, probes->rows, dim);

  openblas_set_num_threads(absl::GetFlag(FLAGS_threads));
  omp_set_num_threads(1);

  faiss::IndexFlatIP index(dim);
  index.add(gallery->rows, gallery->values.data());

  std::vector<float> distances(batch * k);
  std::vector<faiss::Index::idx_t> labels(batch * k);
  const int64_t batches = probes->rows / batch;
  int64_t next = 0;
  auto search_once = [&] {
    const float* x = probes->values.data() + (next % batches) * batch * dim;
    ++next;
    index.search(batch, x, k, distances.data(), labels.data());
  };
  for (int i = 0; i < absl::GetFlag(FLAGS_warmup_calls); ++i) search_once();

  using Clock = std::chrono::steady_clock;
  const auto limit = absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_duration));
  int64_t calls = 0;
  double checksum = 0;
  const Clock::time_point start = Clock::now();
  Clock::time_point now = start;
  // At least one call, then stop once the duration is spent.
  do {
    search_once();
    ++calls;
    checksum += distances[0];
    now = Clock::now();
  } while (now - start < limit);
  const double elapsed_s = std::chrono::duration<double>(now - start).count();
  std::cout << absl::StrFormat(
      "{\"gallery_rows\": %d, \"dim\": %d, \"batch\": %d, \"top_k\": %d, "
      "\"threads\": %d, \"calls\": %d, \"probes\": %d, \"elapsed_s\": %.3f, "
      "\"probes_per_s\": %.2f, \"checksum\": %.6f}\n",
      gallery->rows, dim, batch, k, absl::GetFlag(FLAGS_threads), calls,
      calls * batch, elapsed_s, calls * batch / elapsed_s, checksum);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "In-process faiss::IndexFlatIP::search throughput on .npy data.");
  absl::ParseCommandLine(argc, argv);
  return Run();
}
