// FAISS reports caller errors and broken invariants by throwing
// faiss::FaissException (and std::bad_alloc when memory runs out). The
// wrappers catch them here, at the module boundary, and return a Status.
#ifndef CANDOR_SERVER_INDEX_FAISS_STATUS_H_
#define CANDOR_SERVER_INDEX_FAISS_STATUS_H_

#include <exception>
#include <new>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "faiss/impl/FaissException.h"
#include "server/index/faiss_threads.h"

namespace candor::index {

// Runs fn() and maps what FAISS throws: bad_alloc -> ResourceExhausted,
// FaissException and anything else -> Internal (a caller error would have
// been rejected before reaching FAISS). The calling thread's OpenMP team
// size is set first (faiss_threads.h).
template <typename Fn>
absl::Status CallFaiss(const char* what, Fn&& fn) {
  ApplyFaissOpenMpThreads();
  try {
    fn();
    return absl::OkStatus();
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat(what, ": out of memory in FAISS"));
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat(what, ": FAISS: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(what, ": ", e.what()));
  }
}

}  // namespace candor::index

#endif  // CANDOR_SERVER_INDEX_FAISS_STATUS_H_
