#include "server/index/faiss_threads.h"

#include <omp.h>

#include <algorithm>
#include <atomic>

namespace candor::index {
namespace {

std::atomic<int> g_openmp_threads{1};

}  // namespace

void SetFaissOpenMpThreads(int threads) {
  g_openmp_threads.store(std::max(1, threads), std::memory_order_relaxed);
}

void ApplyFaissOpenMpThreads() {
  // 0: this thread has not applied any value yet.
  thread_local int applied = 0;
  const int wanted = g_openmp_threads.load(std::memory_order_relaxed);
  if (applied == wanted) return;
  omp_set_num_threads(wanted);
  applied = wanted;
}

}  // namespace candor::index
