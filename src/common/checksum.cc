#include "common/checksum.h"

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

namespace cmq {

uint32_t Checksum32(std::string_view data) {
  return static_cast<uint32_t>(XXH3_64bits(data.data(), data.size()));
}

uint32_t Checksum32(std::string_view a, std::string_view b) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, a.data(), a.size());
  XXH3_64bits_update(&state, b.data(), b.size());
  return static_cast<uint32_t>(XXH3_64bits_digest(&state));
}

uint64_t Hash64(std::string_view data) {
  return XXH3_64bits(data.data(), data.size());
}

}  // namespace cmq
