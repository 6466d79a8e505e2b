#pragma once
// Checksums of stored and replicated records: the low 32 bits of XXH3-64 (fast, strong
// enough to catch torn and flipped writes; not cryptographic).

#include <cstdint>
#include <string_view>

namespace cmq {

uint32_t Checksum32(std::string_view data);
uint32_t Checksum32(std::string_view a, std::string_view b);  // of a followed by b
uint64_t Hash64(std::string_view data);

}  // namespace cmq
