#include "server/router/gallery_aggregate.h"

#include <algorithm>
#include <map>
#include <string>

namespace candor::router {
namespace {

double PerEntry(uint64_t bytes, uint64_t entries) {
  return entries == 0
             ? 0.0
             : static_cast<double>(bytes) / static_cast<double>(entries);
}

}  // namespace

v1::Gallery AggregateGallery(const std::vector<const v1::Gallery*>& parts) {
  const v1::Gallery& first = *parts.front();
  v1::Gallery out;
  out.set_name(first.name());
  out.set_dimension(first.dimension());
  *out.mutable_index() = first.index();
  out.set_backend(first.backend());
  out.set_precision(first.precision());
  out.set_created_at_us(first.created_at_us());
  out.set_trained(true);
  std::map<std::string, uint64_t> groups;
  uint64_t host_bytes = 0, device_bytes = 0, mapped_bytes = 0;
  for (const v1::Gallery* part : parts) {
    out.set_size(out.size() + part->size());
    out.set_subjects(out.subjects() + part->subjects());
    out.set_version(out.version() + part->version());
    out.set_created_at_us(std::min(out.created_at_us(), part->created_at_us()));
    out.set_trained(out.trained() && part->trained());
    host_bytes += part->memory().host_bytes();
    device_bytes += part->memory().device_bytes();
    mapped_bytes += part->memory().mapped_bytes();
    for (const v1::GroupCount& g : part->groups())
      groups[g.group()] += g.entries();
  }
  for (const auto& [group, entries] : groups) {
    v1::GroupCount* g = out.add_groups();
    g->set_group(group);
    g->set_entries(entries);
  }
  v1::MemoryUsage* memory = out.mutable_memory();
  memory->set_host_bytes(host_bytes);
  memory->set_device_bytes(device_bytes);
  memory->set_mapped_bytes(mapped_bytes);
  memory->set_host_bytes_per_entry(PerEntry(host_bytes, out.size()));
  memory->set_device_bytes_per_entry(PerEntry(device_bytes, out.size()));
  return out;
}

}  // namespace candor::router
