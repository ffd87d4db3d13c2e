// Plain value types shared by the gallery, index, batching and telemetry
// layers. No gRPC or Protobuf types here.
#ifndef CANDOR_SERVER_COMMON_TYPES_H_
#define CANDOR_SERVER_COMMON_TYPES_H_

#include <cstdint>
#include <string>
#include <vector>

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

// Bytes a structure holds, by where they live.
struct MemoryBytes {
  uint64_t host_bytes = 0;
  uint64_t device_bytes = 0;
};

}  // namespace candor

#endif  // CANDOR_SERVER_COMMON_TYPES_H_
