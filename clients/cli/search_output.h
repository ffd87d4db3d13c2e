// The JSON the CLI prints for search results: one object per probe,
//   {"probe": i, "ref": "...", "group": "...", "candidates": [
//     {"entry_id": .., "subject_id": "..", "group": "..", "score": ..}, ...]}
// with "ref" and "group" only when the caller supplied them.
#ifndef CANDOR_CLIENTS_CLI_SEARCH_OUTPUT_H_
#define CANDOR_CLIENTS_CLI_SEARCH_OUTPUT_H_

#include <cstdint>

#include "candor/v1/candor.pb.h"
#include "nlohmann/json.hpp"

namespace candor::cli {

// `probe_offset` is added to the result's probe_index: the row of the
// batch's first probe in the whole probe file.
nlohmann::ordered_json ProbeResultJson(const v1::ProbeResult& result,
                                       int64_t probe_offset, bool with_ref,
                                       bool with_group);

}  // namespace candor::cli

#endif  // CANDOR_CLIENTS_CLI_SEARCH_OUTPUT_H_
