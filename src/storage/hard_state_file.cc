#include "storage/hard_state_file.h"

#include "common/checksum.h"
#include "common/encoding.h"

namespace cmq::storage {

std::string EncodeHardState(const HardState& hs) {
  std::string out;
  PutFixed32(out, kHardStateMagic);
  PutFixed32(out, kHardStateVersion);
  PutFixed64(out, hs.term);
  PutFixed64(out, hs.vote);
  PutFixed64(out, hs.commit);
  PutFixed32(out, Checksum32(out));
  CMQ_ASSERT(out.size() == kHardStateFileBytes, "hard state encoding size");
  return out;
}

Result<HardState> DecodeHardState(std::string_view data) {
  if (data.size() != kHardStateFileBytes) {
    return Status(ErrorCode::kCorruption,
                  "hard state file has " + std::to_string(data.size()) + " bytes");
  }
  uint32_t checksum = DecodeFixed32(data.data() + kHardStateFileBytes - 4);
  if (Checksum32(data.substr(0, kHardStateFileBytes - 4)) != checksum) {
    return Status(ErrorCode::kCorruption, "hard state file checksum mismatch");
  }
  Reader reader(data);
  uint32_t magic = 0, version = 0;
  HardState hs;
  bool ok = reader.Fixed32(magic) && reader.Fixed32(version) && reader.Fixed64(hs.term) &&
            reader.Fixed64(hs.vote) && reader.Fixed64(hs.commit);
  if (!ok || magic != kHardStateMagic || version != kHardStateVersion) {
    return Status(ErrorCode::kCorruption, "hard state file has a bad magic or version");
  }
  return hs;
}

}  // namespace cmq::storage
