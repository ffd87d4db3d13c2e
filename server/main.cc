// candor-server: the matching server. SIGINT/SIGTERM shut it down cleanly:
// in-flight calls drain, then the store closes (every acknowledged write is
// already fsync'd in the write-ahead log).
#include <csignal>
#include <pthread.h>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "cblas.h"
#include "server/api/flags.h"
#include "server/api/server.h"
#include "server/common/log.h"

#include <omp.h>

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "candor-server: 1:N embedding matching over gRPC, every answer with "
      "what its threshold costs.\nUsage: candor-server [--listen=ADDR] "
      "[--data-dir=DIR] [flags]   (--helpfull lists every flag)");
  absl::ParseCommandLine(argc, argv);

  // Block the shutdown signals in every thread (gRPC's and ours inherit the
  // mask); the main thread takes them with sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto options = candor::api::OptionsFromFlags();
  if (!options.ok()) {
    candor::LogError(std::string(options.status().message()));
    return 2;
  }
  // FAISS parallelizes small batches with OpenMP and large ones through
  // BLAS; on these machines both at once oversubscribe the cores, so BLAS
  // gets the threads and OpenMP one.
  openblas_set_num_threads(options->threads);
  omp_set_num_threads(1);

  auto server = candor::api::CandorServer::Start(*std::move(options));
  if (!server.ok()) {
    candor::LogError(absl::StrCat("cannot start: ", server.status().ToString()));
    return 1;
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  candor::LogInfo(absl::StrCat("received signal ", signal_number));
  (*server)->Shutdown();
  return 0;
}
