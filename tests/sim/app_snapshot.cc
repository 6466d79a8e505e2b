#include "sim/app_snapshot.h"

#include "common/encoding.h"

namespace cmq::sim {
namespace {
constexpr uint8_t kVersion = 1;
}

std::string EncodeAppSnapshot(const AppSnapshot& s) {
  std::string out;
  out.push_back(static_cast<char>(kVersion));
  PutVarint64(out, s.applied_index);
  PutFixed64(out, s.applied_hash);
  PutLengthPrefixed(out, s.mq_state);
  PutVarint64(out, s.body_entries.size());
  for (const auto& [index, data] : s.body_entries) {
    PutVarint64(out, index);
    PutLengthPrefixed(out, data);
  }
  return out;
}

Result<AppSnapshot> DecodeAppSnapshot(std::string_view in) {
  Status bad(ErrorCode::kCorruption, "sim snapshot: malformed");
  if (in.empty() || static_cast<uint8_t>(in[0]) != kVersion) return bad;
  Reader r(in.substr(1));
  AppSnapshot s;
  std::string_view mq;
  uint64_t count = 0;
  if (!r.Varint64(s.applied_index) || !r.Fixed64(s.applied_hash) || !r.LengthPrefixed(mq) ||
      !r.Varint64(count)) {
    return bad;
  }
  s.mq_state.assign(mq);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t index = 0;
    std::string_view data;
    if (!r.Varint64(index) || !r.LengthPrefixed(data)) return bad;
    s.body_entries.emplace(index, std::string(data));
  }
  if (!r.empty()) return bad;
  return s;
}

}  // namespace cmq::sim
