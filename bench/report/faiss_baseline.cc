// faiss-baseline: the in-process reference for candor's end-to-end Search
// throughput. Loads a gallery and probes from .npy files (the same files
// the server enrolls and candor-bench sends), builds a faiss::IndexFlatIP
// over the gallery and calls IndexFlatIP::search on batches of probes in a
// closed loop, with the server's threading: OpenBLAS gets --threads
// threads, OpenMP one (server/main.cc does the same; --omp_threads changes
// it, to compare with FAISS's default of one per core).
//
//   faiss-baseline --gallery_npy=g.npy --probes_npy=p.npy --batch=256
//                  --top_k=10 --duration=10s
//
// Prints one JSON object: calls, probes, elapsed seconds, probes per second.
// Rows are L2-normalized on load by the server's own CPU reference, as the
// server stores and searches them, so both sides compute the same inner
// products (a row that cannot be normalized is refused, as the server would).
//
// Paired mode (--server and --gallery): the figure that matters is a ratio,
// and on a shared machine throughput drifts by more than the 5% it must
// resolve. So this one process alternates short windows: in-process search,
// then gRPC Search of the same batches against the server (whose gallery
// holds the same rows) with each --callers count in turn, --rounds times.
// Each round's ratios divide its gRPC figures by its own in-process one,
// measured seconds earlier. Between windows the process idles --pause, so
// that neither side's BLAS threads still spin when the other side starts.
//
//   faiss-baseline --gallery_npy=g.npy --probes_npy=p.npy --server=HOST:PORT
//                  --gallery=flat --callers=1,2 --rounds=20 --window=1.5s
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/load/probe_source.h"
#include "clients/cli/npy.h"
#include "clients/cpp/client.h"
#include "faiss/IndexFlat.h"
#include "kernels/normalize.h"

ABSL_FLAG(std::string, gallery_npy, "", "gallery rows (N x D float32 .npy)");
ABSL_FLAG(std::string, probes_npy, "",
          "probe rows (M x D .npy); batches cycle through them");
ABSL_FLAG(int64_t, batch, 256, "probes per search call");
ABSL_FLAG(int, top_k, 10, "neighbours per probe");
ABSL_FLAG(int, threads, 2, "OpenBLAS threads (the server's --threads)");
ABSL_FLAG(int, omp_threads, 1,
          "OpenMP threads: 1 as the server sets; 0 leaves OpenMP's default "
          "(one per core), as a program that just calls FAISS has it");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10),
          "keep calling search for this long");
ABSL_FLAG(int, warmup_calls, 1, "calls before the timed loop");
ABSL_FLAG(std::string, server, "",
          "paired mode: also search this candor server (host:port)");
ABSL_FLAG(std::string, gallery, "",
          "paired mode: the server's gallery holding --gallery_npy's rows");
ABSL_FLAG(std::vector<std::string>, callers,
          std::vector<std::string>({"1", "2"}),
          "paired mode: concurrent gRPC callers, one window per count");
ABSL_FLAG(int, rounds, 20, "paired mode: rounds of windows");
ABSL_FLAG(absl::Duration, window, absl::Milliseconds(1500),
          "paired mode: length of each window (the calls under way at its "
          "end finish and count)");
ABSL_FLAG(absl::Duration, pause, absl::Milliseconds(250),
          "paired mode: idle time between windows");

namespace {

using Clock = std::chrono::steady_clock;

// Calls made in a window and the seconds from its start to the end of the
// last call.
struct Window {
  int64_t calls = 0;
  double seconds = 0;
};

// Calls `call` in a closed loop: at least once, then until `limit` is spent.
template <typename Call>
Window ClosedLoop(std::chrono::nanoseconds limit, Call call) {
  Window window;
  const Clock::time_point start = Clock::now();
  Clock::time_point now = start;
  do {
    call();
    ++window.calls;
    now = Clock::now();
  } while (now - start < limit);
  window.seconds = std::chrono::duration<double>(now - start).count();
  return window;
}

// `callers` threads each send the requests in turn, one call at a time,
// until `limit` is spent. Failed calls are counted in `errors` (the first
// one's status kept in `first_error`) and not in the window's calls.
Window GrpcWindow(candor::v1::Candor::Stub& stub,
                  const std::vector<candor::v1::SearchRequest>& requests,
                  int callers, std::chrono::nanoseconds limit,
                  std::atomic<int64_t>& errors, absl::Mutex& error_mu,
                  std::string& first_error) {
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> calls{0};
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&] {
      candor::v1::SearchResponse response;
      do {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::minutes(5));
        const auto& request = requests[next++ % requests.size()];
        const grpc::Status status = stub.Search(&context, request, &response);
        if (status.ok()) {
          ++calls;
          continue;
        }
        if (errors++ == 0) {
          absl::MutexLock lock(&error_mu);
          first_error = absl::StrFormat("code %d: %s", status.error_code(),
                                        status.error_message());
        }
      } while (Clock::now() - start < limit);
    });
  }
  for (std::thread& t : threads) t.join();
  return {calls.load(),
          std::chrono::duration<double>(Clock::now() - start).count()};
}

double Median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  const size_t mid = xs.size() / 2;
  return xs.size() % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

// Paired mode: see the file comment. Prints one JSON object with every
// window's probes/s and, per callers count, the median of the rounds'
// ratios and the pooled ratio (all gRPC probes over all gRPC seconds,
// against the same for the in-process windows).
int RunPaired(int64_t gallery_rows, int64_t probe_rows, int64_t dim,
              int64_t batch, int k, const std::function<void()>& search_once) {
  std::vector<int> callers;
  for (const std::string& c : absl::GetFlag(FLAGS_callers)) {
    int n = 0;
    if (!absl::SimpleAtoi(c, &n) || n < 1) {
      std::cerr << "faiss-baseline: --callers takes positive counts, got " << c
                << "\n";
      return 1;
    }
    callers.push_back(n);
  }
  const int rounds = absl::GetFlag(FLAGS_rounds);
  if (callers.empty() || rounds < 1) {
    std::cerr
        << "faiss-baseline: paired mode needs --callers and --rounds >= 1\n";
    return 1;
  }
  candor::SearchOptions options;
  options.threshold = -1.0f;
  options.top_k = static_cast<uint32_t>(k);
  options.purpose = "faiss-baseline paired";
  candor::load::ProbeSpec spec;
  spec.gallery = absl::GetFlag(FLAGS_gallery);
  spec.dim = dim;
  spec.batch = batch;
  spec.distinct_requests = probe_rows / batch;
  spec.npy_path = absl::GetFlag(FLAGS_probes_npy);
  absl::StatusOr<std::vector<candor::v1::SearchRequest>> requests =
      candor::load::BuildRequests(spec, options);
  if (!requests.ok()) {
    std::cerr << "faiss-baseline: " << requests.status() << "\n";
    return 1;
  }
  candor::Client client(absl::GetFlag(FLAGS_server), absl::ZeroDuration());

  const auto limit = absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_window));
  const absl::Duration pause = absl::GetFlag(FLAGS_pause);
  std::atomic<int64_t> errors{0};
  absl::Mutex error_mu;
  std::string first_error;
  // Untimed: one call per side and callers count, so connection set-up and
  // first-call costs stay out of the windows.
  search_once();
  for (int c : callers) {
    GrpcWindow(client.stub(), *requests, c, std::chrono::nanoseconds(0), errors,
               error_mu, first_error);
  }

  std::vector<double> faiss_pps;
  std::map<int, std::vector<double>> grpc_pps, ratios;
  Window faiss_total;
  std::map<int, Window> grpc_total;
  for (int r = 0; r < rounds; ++r) {
    absl::SleepFor(pause);
    const Window f = ClosedLoop(limit, search_once);
    faiss_total.calls += f.calls;
    faiss_total.seconds += f.seconds;
    faiss_pps.push_back(f.calls * batch / f.seconds);
    std::string line =
        absl::StrFormat("round %d: faiss %.0f", r + 1, faiss_pps.back());
    for (int c : callers) {
      absl::SleepFor(pause);
      const Window g = GrpcWindow(client.stub(), *requests, c, limit, errors,
                                  error_mu, first_error);
      grpc_total[c].calls += g.calls;
      grpc_total[c].seconds += g.seconds;
      grpc_pps[c].push_back(g.calls * batch / g.seconds);
      ratios[c].push_back(grpc_pps[c].back() / faiss_pps.back());
      absl::StrAppendFormat(&line, "  %d caller(s) %.0f (%.3f)", c,
                            grpc_pps[c].back(), ratios[c].back());
    }
    std::cerr << line << "\n";
  }
  if (errors > 0) {
    absl::MutexLock lock(&error_mu);
    std::cerr << "faiss-baseline: " << errors.load()
              << " gRPC calls failed; the first: " << first_error << "\n";
    return 1;
  }

  // A JSON array; ratios keep the digits of the medians printed beside.
  auto numbers = [](const std::vector<double>& xs) {
    return "[" +
           absl::StrJoin(xs, ", ",
                         [](std::string* out, double x) {
                           absl::StrAppendFormat(out, "%.4f", x);
                         }) +
           "]";
  };
  const double faiss_pooled = faiss_total.calls * batch / faiss_total.seconds;
  std::vector<std::string> per_callers;
  for (int c : callers) {
    const Window& g = grpc_total[c];
    per_callers.push_back(absl::StrFormat(
        "\"%d\": {\"probes_per_s\": %s, \"ratios\": %s, "
        "\"median_ratio\": %.4f, \"pooled_ratio\": %.4f}",
        c, numbers(grpc_pps[c]), numbers(ratios[c]), Median(ratios[c]),
        g.calls * batch / g.seconds / faiss_pooled));
  }
  std::cout << absl::StrFormat(
      "{\"mode\": \"paired\", \"gallery_rows\": %d, \"dim\": %d, "
      "\"batch\": %d, \"top_k\": %d, \"threads\": %d, \"rounds\": %d, "
      "\"window_s\": %.3f, \"pause_s\": %.3f, \"faiss_probes_per_s\": %s, "
      "\"grpc\": {%s}}\n",
      gallery_rows, dim, batch, k, absl::GetFlag(FLAGS_threads), rounds,
      absl::ToDoubleSeconds(absl::GetFlag(FLAGS_window)),
      absl::ToDoubleSeconds(pause), numbers(faiss_pps),
      absl::StrJoin(per_callers, ", "));
  return 0;
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
  const bool paired = !absl::GetFlag(FLAGS_server).empty();
  if (paired == absl::GetFlag(FLAGS_gallery).empty()) {
    std::cerr << "faiss-baseline: --server and --gallery go together\n";
    return 1;
  }
  const int64_t dim = gallery->cols;
  const int64_t probe_rows = probes->rows;
  // The server's own normalization (the kernels' CPU reference), so both
  // sides search the same unit rows.
  for (auto [matrix, what] :
       {std::pair{&*gallery, "gallery"}, std::pair{&*probes, "probes"}}) {
    const absl::Status s = candor::kernels::L2NormalizeRowsInPlace(
        matrix->values.data(), matrix->rows, dim, what);
    if (!s.ok()) {
      std::cerr << "faiss-baseline: " << s << "\n";
      return 1;
    }
  }

  openblas_set_num_threads(absl::GetFlag(FLAGS_threads));
  if (absl::GetFlag(FLAGS_omp_threads) > 0) {
    omp_set_num_threads(absl::GetFlag(FLAGS_omp_threads));
  }

  faiss::IndexFlatIP index(dim);
  index.add(gallery->rows, gallery->values.data());

  std::vector<float> distances(batch * k);
  std::vector<faiss::Index::idx_t> labels(batch * k);
  const int64_t batches = probes->rows / batch;
  int64_t next = 0;
  double checksum = 0;
  auto search_once = [&] {
    const float* x = probes->values.data() + (next % batches) * batch * dim;
    ++next;
    index.search(batch, x, k, distances.data(), labels.data());
    checksum += distances[0];
  };
  if (paired) {
    return RunPaired(gallery->rows, probe_rows, dim, batch, k, search_once);
  }
  for (int i = 0; i < absl::GetFlag(FLAGS_warmup_calls); ++i) search_once();

  const Window w = ClosedLoop(
      absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_duration)), search_once);
  std::cout << absl::StrFormat(
      "{\"gallery_rows\": %d, \"dim\": %d, \"batch\": %d, \"top_k\": %d, "
      "\"threads\": %d, \"omp_threads\": %d, \"calls\": %d, \"probes\": %d, "
      "\"elapsed_s\": %.3f, \"probes_per_s\": %.2f, \"checksum\": %.6f}\n",
      gallery->rows, dim, batch, k, absl::GetFlag(FLAGS_threads),
      omp_get_max_threads(), w.calls, w.calls * batch, w.seconds,
      w.calls * batch / w.seconds, checksum);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "In-process faiss::IndexFlatIP::search throughput on .npy data, alone "
      "or paired with a candor server's Search.");
  absl::ParseCommandLine(argc, argv);
  return Run();
}
