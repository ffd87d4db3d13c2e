#include "server/api/convert.h"

#include "absl/strings/str_cat.h"

namespace candor::api {

absl::StatusOr<index::IndexConfig> ToIndexConfig(const v1::IndexSpec& spec,
                                                 uint32_t dimension) {
  index::IndexConfig config;
  config.dimension = static_cast<int>(dimension);
  switch (spec.type()) {
    case v1::IndexSpec::TYPE_UNSPECIFIED:
    case v1::IndexSpec::FLAT:
      config.type = index::IndexType::kFlat;
      break;
    case v1::IndexSpec::IVF_FLAT:
      config.type = index::IndexType::kIvfFlat;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("index.type: unknown value ", spec.type()));
  }
  switch (spec.storage()) {
    case v1::IndexSpec::STORAGE_UNSPECIFIED:
      config.storage = index::Storage::kDefault;
      break;
    case v1::IndexSpec::FP32:
      config.storage = index::Storage::kFp32;
      break;
    case v1::IndexSpec::FP16:
      config.storage = index::Storage::kFp16;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("index.storage: unknown value ", spec.storage()));
  }
  // Bounds keep FAISS's k-means and list arrays sane.
  if (spec.nlist() > (1u << 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat("index.nlist: ", spec.nlist(), " is over 1048576"));
  }
  config.nlist = static_cast<int>(spec.nlist());
  if (spec.default_nprobe() > 0) {
    config.default_nprobe = static_cast<int>(spec.default_nprobe());
  }
  return config;
}

v1::IndexSpec ToIndexSpec(const index::IndexConfig& config) {
  v1::IndexSpec spec;
  spec.set_type(config.type == index::IndexType::kIvfFlat
                    ? v1::IndexSpec::IVF_FLAT
                    : v1::IndexSpec::FLAT);
  spec.set_nlist(static_cast<uint32_t>(config.nlist));
  spec.set_default_nprobe(static_cast<uint32_t>(config.default_nprobe));
  switch (config.storage) {
    case index::Storage::kDefault:
      spec.set_storage(v1::IndexSpec::STORAGE_UNSPECIFIED);
      break;
    case index::Storage::kFp32:
      spec.set_storage(v1::IndexSpec::FP32);
      break;
    case index::Storage::kFp16:
      spec.set_storage(v1::IndexSpec::FP16);
      break;
  }
  return spec;
}

std::string PolicyToBlob(const v1::Policy& policy) {
  return policy.SerializeAsString();
}

v1::Policy PolicyFromBlob(const std::string& blob) {
  v1::Policy policy;
  // The blob was written by PolicyToBlob; an unreadable one means no
  // override rather than a gallery that cannot open.
  if (!blob.empty() && !policy.ParseFromString(blob)) policy.Clear();
  return policy;
}

void ToMemoryProto(const MemoryBytes& bytes, uint64_t entries,
                   v1::MemoryUsage* out) {
  out->set_host_bytes(bytes.host_bytes);
  out->set_device_bytes(bytes.device_bytes);
  out->set_mapped_bytes(bytes.mapped_bytes);
  if (entries > 0) {
    out->set_host_bytes_per_entry(double(bytes.host_bytes) / double(entries));
    out->set_device_bytes_per_entry(double(bytes.device_bytes) /
                                    double(entries));
  }
}

void ToGalleryProto(const gallery::GalleryInfo& info,
                    const v1::Policy& effective_policy, v1::Gallery* out) {
  out->set_name(info.config.name);
  out->set_dimension(static_cast<uint32_t>(info.config.index.dimension));
  out->set_size(info.size);
  out->set_subjects(info.subjects);
  for (const auto& [group, count] : info.groups) {
    v1::GroupCount* g = out->add_groups();
    g->set_group(group);
    g->set_entries(count);
  }
  ToMemoryProto(info.memory, info.size, out->mutable_memory());
  *out->mutable_index() = ToIndexSpec(info.config.index);
  out->set_backend(info.backend);
  out->set_version(info.version);
  out->set_created_at_us(info.config.created_at_us);
  *out->mutable_policy() = effective_policy;
  out->set_trained(info.trained);
}

}  // namespace candor::api
