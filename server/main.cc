// candor-server: the matching server. SIGINT/SIGTERM shut it down cleanly:
// in-flight calls drain, then the store closes (every acknowledged write is
// already fsync'd in the write-ahead log).
//
// --role=router runs the same binary as a router over shard servers
// (server/router/): one image to build, scan and deploy, and one set of
// flags (limits, policy, drain) that means the same in both roles.
#include <csignal>
#include <pthread.h>

#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "candor_version.h"
#include "cblas.h"
#include "server/api/accept_guard.h"
#include "server/api/flags.h"
#include "server/api/server.h"
#include "server/common/log.h"
#include "server/index/cpu_blas.h"
#include "server/index/cpu_flat_index.h"
#include "server/index/faiss_threads.h"
#include "server/router/router_server.h"
#include "server/storage/env.h"
#include "server/storage/files.h"

ABSL_DECLARE_FLAG(int, reserved_fds);

ABSL_FLAG(std::string, role, "server",
          "server (holds galleries) or router (fans out to --shards or "
          "--shards_dns, holds no vectors)");

ABSL_FLAG(std::string, port_file, "",
          "once listening, write the bound gRPC port (a decimal number and a "
          "newline) to this file, atomically: for --listen=HOST:0, so that "
          "scripts and tests need not read it from the log");

namespace {

// Writes --port_file, if set. Called after the listener is bound, so a
// reader that sees the file can connect; written through a rename, so it
// never sees a partial number.
bool WritePortFile(int port) {
  const std::string path = absl::GetFlag(FLAGS_port_file);
  if (path.empty()) return true;
  const absl::Status written = candor::storage::WriteFileAtomically(
      candor::storage::Env::Default(), path, absl::StrCat(port, "\n"));
  if (!written.ok()) {
    candor::LogError(absl::StrCat("--port_file: ", written.ToString()));
    return false;
  }
  return true;
}

// Serves until SIGINT/SIGTERM (already blocked in `signals`), whichever
// role `server` plays.
int ServeUntilSignal(candor::api::EdgeServer& server, sigset_t* signals) {
  if (!WritePortFile(server.port())) {
    server.Shutdown();
    return 1;
  }
  int signal_number = 0;
  sigwait(signals, &signal_number);
  candor::LogInfo(absl::StrCat("received signal ", signal_number));
  server.Shutdown();
  return 0;
}

// Runs the router until SIGINT/SIGTERM.
int RunRouter(sigset_t* signals) {
  auto options = candor::router::RouterOptionsFromFlags();
  if (!options.ok()) {
    candor::LogError(std::string(options.status().message()));
    return 2;
  }
  auto router = candor::router::RouterServer::Start(*std::move(options));
  if (!router.ok()) {
    candor::LogError(absl::StrCat("cannot start: ", router.status().ToString()));
    return 1;
  }
  return ServeUntilSignal(**router, signals);
}

}  // namespace

int main(int argc, char** argv) {
  // --help lists candor's own flags (those defined under server/);
  // --helpfull adds every library's. --version names the commit built.
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "server/");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  usage.normalize_filename = [](absl::string_view file) {
    const size_t at = file.rfind("server/");
    return std::string(at == absl::string_view::npos ? file : file.substr(at));
  };
  usage.version_string = [] { return absl::StrCat(candor::VersionLine(), "\n"); };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "1:N embedding matching over gRPC, every answer with "
      "what its threshold costs.\nUsage: candor-server [--listen=ADDR] "
      "[--data_dir=DIR] [flags]\n       candor-server --role=router "
      "--shards=HOST:PORT,... | --shards_dns=NAME:PORT [flags]   "
      "(--helpfull lists every flag)");
  absl::ParseCommandLine(argc, argv);

  // Block the shutdown signals in every thread (gRPC's and ours inherit the
  // mask); the main thread takes them with sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A write past RLIMIT_FSIZE fails with EFBIG instead of killing the
  // process: the audit log then refuses calls (fail closed) and recovers
  // when the limit is raised, like on a full disk.
  signal(SIGXFSZ, SIG_IGN);

  // Before any listener or file opens: the fd limit raised to its hard
  // limit, with --reserved_fds kept free of connections for data files,
  // and accept() hardened against connection floods (accept_guard.h).
  const candor::api::FdLimits fd_limits =
      candor::api::InstallAcceptGuard(absl::GetFlag(FLAGS_reserved_fds));
  candor::LogInfo(candor::api::DescribeFdLimits(fd_limits));

  const std::string role = absl::GetFlag(FLAGS_role);
  if (role == "router") return RunRouter(&signals);
  if (role != "server") {
    candor::LogError(
        absl::StrCat("--role: '", role, "': expected server or router"));
    return 2;
  }

  auto options = candor::api::OptionsFromFlags();
  if (!options.ok()) {
    candor::LogError(std::string(options.status().message()));
    return 2;
  }
  // FAISS parallelizes small batches with OpenMP and large ones through
  // BLAS; on these machines both at once oversubscribe the cores, so BLAS
  // gets the threads and OpenMP one, on every thread that calls FAISS
  // (server/index/faiss_threads.h).
  openblas_set_num_threads(options->gemm_threads);
  candor::index::SetFaissOpenMpThreads(1);
  // candor's CPU flat index (server/index/cpu_flat_index.h): its GEMM
  // loads here, before the server's threads start (the load hides
  // OPENBLAS_CORETYPE for a moment), and its workers per search are
  // --gemm_threads.
  candor::index::SetCpuFlatThreads(options->gemm_threads);
  candor::LogInfo(candor::index::DescribeServingBlas());

  auto server = candor::api::CandorServer::Start(*std::move(options));
  if (!server.ok()) {
    candor::LogError(absl::StrCat("cannot start: ", server.status().ToString()));
    return 1;
  }
  return ServeUntilSignal(**server, &signals);
}
