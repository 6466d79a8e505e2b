#include "mq/placement.h"

#include <xxhash.h>

#include <string>

namespace cmq::mq {

uint32_t GroupOfName(std::string_view name, uint32_t group_count) {
  if (group_count <= 1) return 1;
  // The folding and the hash are spelled out here rather than borrowed (NameKey, common's
  // Hash64) so that no change elsewhere can move a queue. ASCII folding agrees with
  // NameKey: valid names are ASCII.
  std::string key(name);
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  uint64_t hash = XXH3_64bits(key.data(), key.size());
  return static_cast<uint32_t>(hash % group_count) + 1;
}

bool IsPlacedOn(std::string_view name, uint32_t group_id, uint32_t group_count) {
  return group_count <= 1 || GroupOfName(name, group_count) == group_id;
}

}  // namespace cmq::mq
