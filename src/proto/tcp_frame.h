#pragma once
// Framing of the CMQ TCP protocol (spec/cmq-tcp-protocol.md §2.1): two zero bytes, then
// the frame's total length (header included) as a little-endian int32, then one
// serialized CMQProto. Shared by the server (api/tcp_server) and the client.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cmq::tcp {

inline constexpr size_t kFrameHeaderSize = 6;
// The largest frame either side accepts: a batch of 16 bodies of the 1 MiB maximum, plus
// room for the envelope. A peer that announces more is dropped (the length is all a
// reader has to go by).
inline constexpr uint32_t kMaxFrameSize = 16 * 1024 * 1024 + 64 * 1024;

// Appends the header for a body of body_size bytes to out.
void AppendFrameHeader(std::string& out, size_t body_size);

// The body length announced by a header (the first kFrameHeaderSize bytes of header), or
// nullopt when the header is invalid: non-zero leading bytes, a total below the header's
// own size, or above kMaxFrameSize.
std::optional<uint32_t> BodySizeOf(std::string_view header);

}  // namespace cmq::tcp
