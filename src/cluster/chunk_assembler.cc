#include "cluster/chunk_assembler.h"

#include <spdlog/spdlog.h>

#include "common/encoding.h"

namespace cmq::cluster {

std::string EncodeChunk(uint64_t transfer, uint64_t offset, uint64_t total,
                        std::string_view bytes) {
  std::string chunk;
  chunk.reserve(kChunkHeaderBytes + bytes.size());
  PutFixed64(chunk, transfer);
  PutFixed64(chunk, offset);
  PutFixed64(chunk, total);
  chunk.append(bytes);
  return chunk;
}

std::optional<std::string> ChunkAssembler::Add(uint64_t from, std::string_view chunk) {
  if (chunk.size() < kChunkHeaderBytes) {
    incoming_.erase(from);
    return std::nullopt;
  }
  const uint64_t transfer = DecodeFixed64(chunk.data());
  const uint64_t offset = DecodeFixed64(chunk.data() + 8);
  const uint64_t total = DecodeFixed64(chunk.data() + 16);
  const std::string_view bytes = chunk.substr(kChunkHeaderBytes);
  if (offset == 0) {
    // A new transfer (replacing any partial one: the sender gave up on it).
    if (total > max_message_bytes_ || bytes.empty() || bytes.size() > total) {
      spdlog::warn("dropping a chunked message of {} bytes from node {}", total, from);
      incoming_.erase(from);
      return std::nullopt;
    }
    Incoming& in = incoming_[from];
    in = Incoming{transfer, total, std::string()};
    in.data.reserve(total);
  }
  auto it = incoming_.find(from);
  if (it == incoming_.end()) return std::nullopt;  // the rest of an abandoned transfer
  Incoming& in = it->second;
  if (offset != 0) {
    if (in.transfer != transfer || in.total != total || in.data.size() != offset ||
        bytes.size() > total - offset) {
      incoming_.erase(it);  // a gap or a mix-up: the rest of this transfer is useless
      return std::nullopt;
    }
  }
  in.data.append(bytes);
  if (in.data.size() < in.total) return std::nullopt;
  std::string message = std::move(in.data);
  incoming_.erase(it);
  return message;
}

}  // namespace cmq::cluster
