// Plain value types shared by the gallery, index, batching and telemetry
// layers. No gRPC or Protobuf types here.
#ifndef CANDOR_SERVER_COMMON_TYPES_H_
#define CANDOR_SERVER_COMMON_TYPES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace candor {

// Server-assigned, unique within a gallery, never reused.
using EntryId = uint64_t;

// What one probe asks of a search: candidates scoring >= threshold, at most
// top_k of them. Each probe carries its own so that the batcher can merge
// requests with different parameters into one index call.
struct ProbeQuery {
  float threshold = 0.0f;
  int top_k = 10;
  // IVF backends: inverted lists visited (0 = the index's default).
  int nprobe = 0;
};

// One index hit: an entry and its cosine similarity to the probe.
struct ScoredId {
  EntryId id = 0;
  float score = 0.0f;
  friend bool operator==(const ScoredId& a, const ScoredId& b) {
    return a.id == b.id && a.score == b.score;
  }
};

// Ordering of candidates: best score first, ties by ascending entry id.
inline bool BetterCandidate(const ScoredId& a, const ScoredId& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.id < b.id;
}

// A candidate with its entry's metadata, as the gallery returns it.
struct Candidate {
  EntryId entry_id = 0;
  std::string subject_id;
  std::string group;
  float score = 0.0f;
};

// The answer to one search, the one type that carries it from the gallery
// through the batcher to the handler.
struct SearchOutcome {
  // One list per probe, in the probes' order, each as Index::Search orders
  // it and cut to its query's threshold and top_k.
  std::vector<std::vector<Candidate>> candidates;
  // The gallery version searched.
  uint64_t version = 0;
  // Stamped by the batcher (zero straight from the gallery): from Submit to
  // the start of the index call, and that call's duration, which the
  // requests of one batch share.
  absl::Duration queue_time;
  absl::Duration search_time;
  // Probes in that index call, this request's included.
  int batch_probes = 0;
};

// Bytes a structure holds, by where they live.
struct MemoryBytes {
  uint64_t host_bytes = 0;
  uint64_t device_bytes = 0;
  // Vectors read in place from memory-mapped snapshot files: page cache
  // the kernel may drop, not part of host_bytes.
  uint64_t mapped_bytes = 0;
};

}  // namespace candor

#endif  // CANDOR_SERVER_COMMON_TYPES_H_
