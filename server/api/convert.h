// Mapping between the API's messages and the core's plain structs.
#ifndef CANDOR_SERVER_API_CONVERT_H_
#define CANDOR_SERVER_API_CONVERT_H_

#include "absl/status/statusor.h"
#include "candor/v1/candor.pb.h"
#include "server/gallery/gallery.h"
#include "server/index/index_factory.h"

namespace candor::api {

// InvalidArgument for an unknown index type or storage.
absl::StatusOr<index::IndexConfig> ToIndexConfig(const v1::IndexSpec& spec,
                                                 uint32_t dimension);
v1::IndexSpec ToIndexSpec(const index::IndexConfig& config);

// The per-gallery policy override travels through the gallery layer as an
// opaque blob: the serialized v1::Policy.
std::string PolicyToBlob(const v1::Policy& policy);
v1::Policy PolicyFromBlob(const std::string& blob);

// Describes a gallery; `effective_policy` is the merged policy in force.
void ToGalleryProto(const gallery::GalleryInfo& info,
                    const v1::Policy& effective_policy, v1::Gallery* out);

void ToMemoryProto(const MemoryBytes& bytes, uint64_t entries,
                   v1::MemoryUsage* out);

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_CONVERT_H_
