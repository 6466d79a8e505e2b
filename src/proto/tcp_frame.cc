#include "proto/tcp_frame.h"

namespace cmq::tcp {

void AppendFrameHeader(std::string& out, size_t body_size) {
  uint32_t total = static_cast<uint32_t>(body_size + kFrameHeaderSize);
  out.push_back('\0');
  out.push_back('\0');
  for (int shift = 0; shift < 32; shift += 8) {
    out.push_back(static_cast<char>((total >> shift) & 0xff));
  }
}

std::optional<uint32_t> BodySizeOf(std::string_view header) {
  if (header.size() < kFrameHeaderSize) return std::nullopt;
  if (header[0] != '\0' || header[1] != '\0') return std::nullopt;
  uint32_t total = 0;
  for (int i = 0; i < 4; ++i) {
    total |= static_cast<uint32_t>(static_cast<unsigned char>(header[2 + i])) << (8 * i);
  }
  // A signed int32 on the wire: anything with the top bit set is negative, so corrupt.
  if (total < kFrameHeaderSize || total > kMaxFrameSize) return std::nullopt;
  return total - static_cast<uint32_t>(kFrameHeaderSize);
}

}  // namespace cmq::tcp
