// FAISS runs its loops under OpenMP, and OpenMP's thread count is a
// per-thread setting (the nthreads-var ICV): omp_set_num_threads() in main()
// reaches main's thread only. The gRPC, batcher and compaction threads that
// call FAISS would each fork a team as wide as the machine, whose spinning
// waiters then compete with BLAS's own threads for the same cores. Every
// FAISS call goes through CallFaiss (faiss_status.h), which applies the
// process-wide setting below on the calling thread first.
#ifndef CANDOR_SERVER_INDEX_FAISS_THREADS_H_
#define CANDOR_SERVER_INDEX_FAISS_THREADS_H_

namespace candor::index {

// The OpenMP team size for FAISS calls made from now on, on any thread
// (>= 1; default 1: BLAS gets the cores, see server/main.cc).
void SetFaissOpenMpThreads(int threads);

// Sets this thread's OpenMP thread count to the process-wide value. Cheap:
// a thread-local comparison once the thread is set up.
void ApplyFaissOpenMpThreads();

}  // namespace candor::index

#endif  // CANDOR_SERVER_INDEX_FAISS_THREADS_H_
