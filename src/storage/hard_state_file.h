#pragma once
// The hard state file (docs/storage-format.md "Hard state"): 36 bytes,
//   [magic u32 = kHardStateMagic][version u32 = 1][term u64][vote u64][commit u64]
//   [checksum u32 = Checksum32 of the 32 bytes before it]
// written whole with FileSystem::WriteFileAtomic.

#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/log.h"

namespace cmq::storage {

inline constexpr char kHardStateFileName[] = "hardstate";
inline constexpr uint32_t kHardStateMagic = 0x53484d43;  // "CMHS" read as little-endian bytes
inline constexpr uint32_t kHardStateVersion = 1;
inline constexpr size_t kHardStateFileBytes = 36;

std::string EncodeHardState(const HardState& hs);
// kCorruption when the bytes are not a hard state file of this version.
Result<HardState> DecodeHardState(std::string_view data);

}  // namespace cmq::storage
