#pragma once
// The transport's wire format (docs/transport.md), with no I/O: the handshake that opens a
// connection and the header of every frame. Sockets live in connection.cc; the incremental
// decoding of a byte stream into frames in frame_reader.h.
//
//   handshake = ["CMQT"][version u16][cluster id u64][from node u64][to node u64]
//   frame     = [body length u32][low 32 bits of XXH3-64 of body u32][body]
//   body      = [kind u8][group u32][payload]
// all little-endian.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "transport/transport.h"

namespace cmq::transport {

inline constexpr size_t kFrameHeaderBytes = 8;  // body length + checksum
inline constexpr size_t kBodyHeaderBytes = 5;   // kind + group
// What precedes the payload on the wire; outgoing frames keep it beside the payload so the
// payload is never copied into a second string.
inline constexpr size_t kFramePrefixBytes = kFrameHeaderBytes + kBodyHeaderBytes;
inline constexpr size_t kHandshakeBytes = 4 + 2 + 8 + 8 + 8;
inline constexpr std::string_view kHandshakeMagic = "CMQT";

using FramePrefix = std::array<char, kFramePrefixBytes>;
using HandshakeBytes = std::array<char, kHandshakeBytes>;

// The body length a frame with this payload needs (may exceed u32: callers check).
inline uint64_t FrameBodyBytes(size_t payload_bytes) {
  return kBodyHeaderBytes + payload_bytes;
}

// The frame header and body header of a frame carrying `payload` (checksum included).
FramePrefix EncodeFramePrefix(FrameKind kind, uint32_t group, std::string_view payload);

// One whole frame in one string: for tests and tools; the transport itself sends the
// prefix and the payload as two buffers.
std::string EncodeFrame(FrameKind kind, uint32_t group, std::string_view payload);

struct FrameHeader {
  uint32_t body_bytes = 0;
  uint32_t checksum = 0;
};

enum class FrameError {
  kNone,
  kTooShort,     // body shorter than kind + group
  kTooLong,      // body longer than max_frame_bytes
  kBadChecksum,  // body does not match its checksum
  kBadKind,      // an unknown FrameKind
};
std::string_view FrameErrorName(FrameError error);

// Reads the 8-byte frame header at `p`.
FrameHeader DecodeFrameHeader(const char* p);

// Whether a header's body length is acceptable; checked before the body is read so a
// corrupt or hostile length never makes us wait for (or allocate) a huge body.
FrameError CheckFrameLength(const FrameHeader& header, uint64_t max_frame_bytes);

// Verifies a received body, given as its first kBodyHeaderBytes (`head`) and the payload
// (split so that a large payload can be read straight into its own string), and decodes
// kind and group.
FrameError DecodeFrameBody(const FrameHeader& header, std::string_view head,
                           std::string_view payload, FrameKind& kind, uint32_t& group);

bool IsValidFrameKind(uint8_t kind);

struct Handshake {
  uint16_t version = kWireVersion;
  uint64_t cluster_id = 0;
  uint64_t from = 0;
  uint64_t to = 0;
};

HandshakeBytes EncodeHandshake(const Handshake& handshake);

// false when the magic is wrong (not a transport peer at all).
bool DecodeHandshake(const HandshakeBytes& bytes, Handshake& out);

// Why a received handshake is refused by node `self_id` of `cluster_id` (version, cluster,
// addressee), or an empty string. Whether `from` is a peer we accept is the caller's check.
std::string HandshakeMismatch(const Handshake& remote, uint64_t cluster_id, uint64_t self_id);

}  // namespace cmq::transport
