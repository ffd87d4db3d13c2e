#include "clients/cli/search_output.h"

namespace candor::cli {

nlohmann::ordered_json ProbeResultJson(const v1::ProbeResult& result,
                                       int64_t probe_offset, bool with_ref,
                                       bool with_group) {
  // ordered_json keeps the keys in the documented order for people reading
  // the output; parsers do not care.
  nlohmann::ordered_json out;
  out["probe"] = probe_offset + static_cast<int64_t>(result.probe_index());
  if (with_ref) out["ref"] = result.ref();
  if (with_group) out["group"] = result.group();
  nlohmann::ordered_json candidates = nlohmann::ordered_json::array();
  for (const v1::Candidate& c : result.candidates()) {
    nlohmann::ordered_json candidate;
    candidate["entry_id"] = c.entry_id();
    candidate["subject_id"] = c.subject_id();
    candidate["group"] = c.group();
    candidate["score"] = c.score();
    candidates.push_back(std::move(candidate));
  }
  out["candidates"] = std::move(candidates);
  return out;
}

}  // namespace candor::cli
