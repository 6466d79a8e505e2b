#pragma once
// The payload of one log entry: a batch of commands that share one timestamp (the leader's
// clock when it formed the batch). Format: docs/command-format.md.
//   [version u8 = 1][now_ms fixed64][command count varint][command]...

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "mq/command.h"

namespace cmq::mq {

inline constexpr uint8_t kEntryVersion = 1;

// Appends the header of a batch of count commands; the caller then appends each command's
// EncodeCommand output.
void EncodeEntryHeader(std::string& out, int64_t now_ms, uint32_t count);

struct DecodedEntry {
  int64_t now_ms = 0;
  std::vector<Command> commands;  // views point into the payload passed to DecodeEntry
};

Result<DecodedEntry> DecodeEntry(std::string_view payload);

}  // namespace cmq::mq
