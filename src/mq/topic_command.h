#pragma once
// Internal to mq/: the encoding of the topic and subscription commands (types 9-17), kept
// apart from the queue commands of command.cc. Format: docs/command-format.md.

#include <string>

#include "common/encoding.h"
#include "mq/command.h"

namespace cmq::mq {

bool IsTopicCommand(CommandType type);
// REQUIRES: IsTopicCommand(cmd.type). Appends everything after the type byte.
void EncodeTopicBody(const Command& cmd, std::string& out);
// REQUIRES: IsTopicCommand(cmd.type). False on malformed input (never reads out of bounds).
bool DecodeTopicBody(Reader& r, Command& cmd);

}  // namespace cmq::mq
