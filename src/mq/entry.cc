#include "mq/entry.h"

#include "common/encoding.h"

namespace cmq::mq {

void EncodeEntryHeader(std::string& out, int64_t now_ms, uint32_t count) {
  out.push_back(static_cast<char>(kEntryVersion));
  PutFixed64(out, static_cast<uint64_t>(now_ms));
  PutVarint64(out, count);
}

Result<DecodedEntry> DecodeEntry(std::string_view payload) {
  Reader r(payload);
  std::string_view version;
  uint64_t now_ms;
  uint64_t count;
  if (!r.Bytes(1, version) || !r.Fixed64(now_ms) || !r.Varint64(count)) {
    return Status(ErrorCode::kCorruption, "truncated entry header");
  }
  if (static_cast<uint8_t>(version[0]) != kEntryVersion) {
    return Status(ErrorCode::kCorruption, "unknown entry version");
  }
  // Every command takes at least one byte.
  if (count > r.remaining()) return Status(ErrorCode::kCorruption, "entry command count");
  DecodedEntry entry;
  entry.now_ms = static_cast<int64_t>(now_ms);
  entry.commands.reserve(count);
  std::string_view rest = r.rest();
  for (uint64_t i = 0; i < count; ++i) {
    CMQ_RETURN_IF_ERROR(DecodeCommandInto(rest, entry.commands.emplace_back()));
  }
  if (!rest.empty()) return Status(ErrorCode::kCorruption, "trailing bytes after entry");
  return entry;
}

}  // namespace cmq::mq
