#pragma once
// Binary encoding of Messages for the transport. Format (all integers varints unless
// noted), version 1:
//
//   u8 version(=1) | u8 type | from | to | term | log_term | index | commit
//   | u8 flags(bit0 reject, bit1 has snapshot) | reject_hint | bytes context
//   | count | count x entry | [snapshot]
//   entry    = term | index | u8 type | bytes data
//   snapshot = index | term | n_voters | ids... | n_learners | ids... | bytes data
//   bytes    = varint length | raw
//
// Decode never trusts the input: every read is bounds-checked, enums and counts are
// validated against constants.h, trailing bytes are an error. It returns an error for
// garbage and never crashes or allocates more than the input's size suggests.

#include <string>
#include <string_view>

#include "common/encoding.h"
#include "common/result.h"
#include "raft/message.h"

namespace cmq::raft {

inline constexpr uint8_t kCodecVersion = 1;

void EncodeMessage(const Message& m, std::string& out);
std::string EncodeMessage(const Message& m);
Result<Message> DecodeMessage(std::string_view in);

// Shared by the message codec and snapshot metadata users.
void EncodeConfState(const ConfState& cs, std::string& out);
bool DecodeConfState(Reader& r, ConfState& cs);

}  // namespace cmq::raft
