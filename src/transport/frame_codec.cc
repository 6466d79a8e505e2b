#include "transport/frame_codec.h"

#include <fmt/format.h>

#include <cstring>

#include "common/checksum.h"
#include "common/encoding.h"

namespace cmq::transport {

namespace {

void EncodeBodyHeader(char* p, FrameKind kind, uint32_t group) {
  p[0] = static_cast<char>(kind);
  EncodeFixed32(p + 1, group);
}

}  // namespace

FramePrefix EncodeFramePrefix(FrameKind kind, uint32_t group, std::string_view payload) {
  FramePrefix prefix;
  char* head = prefix.data() + kFrameHeaderBytes;
  EncodeBodyHeader(head, kind, group);
  EncodeFixed32(prefix.data(), static_cast<uint32_t>(FrameBodyBytes(payload.size())));
  EncodeFixed32(prefix.data() + 4, Checksum32(std::string_view(head, kBodyHeaderBytes), payload));
  return prefix;
}

std::string EncodeFrame(FrameKind kind, uint32_t group, std::string_view payload) {
  FramePrefix prefix = EncodeFramePrefix(kind, group, payload);
  std::string out;
  out.reserve(prefix.size() + payload.size());
  out.append(prefix.data(), prefix.size());
  out.append(payload);
  return out;
}

std::string_view FrameErrorName(FrameError error) {
  switch (error) {
    case FrameError::kNone:
      return "none";
    case FrameError::kTooShort:
      return "body shorter than its header";
    case FrameError::kTooLong:
      return "body longer than max_frame_bytes";
    case FrameError::kBadChecksum:
      return "checksum mismatch";
    case FrameError::kBadKind:
      return "unknown frame kind";
  }
  return "unknown error";
}

FrameHeader DecodeFrameHeader(const char* p) {
  return FrameHeader{DecodeFixed32(p), DecodeFixed32(p + 4)};
}

FrameError CheckFrameLength(const FrameHeader& header, uint64_t max_frame_bytes) {
  if (header.body_bytes < kBodyHeaderBytes) return FrameError::kTooShort;
  if (header.body_bytes > max_frame_bytes) return FrameError::kTooLong;
  return FrameError::kNone;
}

bool IsValidFrameKind(uint8_t kind) {
  return kind >= static_cast<uint8_t>(FrameKind::kRaft) &&
         kind <= static_cast<uint8_t>(FrameKind::kForwardCancel);
}

FrameError DecodeFrameBody(const FrameHeader& header, std::string_view head,
                           std::string_view payload, FrameKind& kind, uint32_t& group) {
  if (head.size() != kBodyHeaderBytes ||
      head.size() + payload.size() != static_cast<size_t>(header.body_bytes)) {
    return FrameError::kTooShort;
  }
  if (Checksum32(head, payload) != header.checksum) return FrameError::kBadChecksum;
  // The kind is checked after the checksum: a bad kind in a well-checksummed frame is a
  // peer speaking a protocol we do not know, not line noise.
  uint8_t raw_kind = static_cast<uint8_t>(head[0]);
  if (!IsValidFrameKind(raw_kind)) return FrameError::kBadKind;
  kind = static_cast<FrameKind>(raw_kind);
  group = DecodeFixed32(head.data() + 1);
  return FrameError::kNone;
}

HandshakeBytes EncodeHandshake(const Handshake& handshake) {
  HandshakeBytes bytes;
  char* p = bytes.data();
  std::memcpy(p, kHandshakeMagic.data(), kHandshakeMagic.size());
  p[4] = static_cast<char>(handshake.version);
  p[5] = static_cast<char>(handshake.version >> 8);
  EncodeFixed64(p + 6, handshake.cluster_id);
  EncodeFixed64(p + 14, handshake.from);
  EncodeFixed64(p + 22, handshake.to);
  return bytes;
}

bool DecodeHandshake(const HandshakeBytes& bytes, Handshake& out) {
  const char* p = bytes.data();
  if (std::string_view(p, kHandshakeMagic.size()) != kHandshakeMagic) return false;
  out.version = static_cast<uint16_t>(static_cast<uint8_t>(p[4]) |
                                      (static_cast<uint16_t>(static_cast<uint8_t>(p[5])) << 8));
  out.cluster_id = DecodeFixed64(p + 6);
  out.from = DecodeFixed64(p + 14);
  out.to = DecodeFixed64(p + 22);
  return true;
}

std::string HandshakeMismatch(const Handshake& remote, uint64_t cluster_id, uint64_t self_id) {
  if (remote.version != kWireVersion) {
    return fmt::format("wire version {} (we speak {})", remote.version, kWireVersion);
  }
  if (remote.cluster_id != cluster_id) {
    return fmt::format("cluster id {} (ours is {})", remote.cluster_id, cluster_id);
  }
  if (remote.to != self_id) {
    return fmt::format("addressed to node {} (we are node {})", remote.to, self_id);
  }
  return {};
}

}  // namespace cmq::transport
