#pragma once
// Large Raft messages (snapshots) cross the transport as chunks (cluster/peer_network.h):
//   chunk payload = [transfer id u64][offset u64][total size u64][bytes]
// ChunkAssembler rebuilds them on the receiving side: one transfer per sending peer, in
// order (a connection is FIFO). Anything out of order — a gap, a chunk of another
// transfer without offset 0, more bytes than announced — abandons that peer's transfer;
// the sender's Raft sends the snapshot again. Not thread-safe (the transport's io thread
// owns it).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cmq::cluster {

inline constexpr size_t kChunkHeaderBytes = 24;

std::string EncodeChunk(uint64_t transfer, uint64_t offset, uint64_t total, std::string_view bytes);

class ChunkAssembler {
 public:
  explicit ChunkAssembler(uint64_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  // Feeds one chunk from peer `from`; returns the whole message when it completes one.
  std::optional<std::string> Add(uint64_t from, std::string_view chunk);
  // Drops the peer's partial transfer (its connection broke).
  void Forget(uint64_t from) { incoming_.erase(from); }
  size_t partial_transfers() const { return incoming_.size(); }

 private:
  struct Incoming {
    uint64_t transfer = 0;
    uint64_t total = 0;
    std::string data;
  };
  uint64_t max_message_bytes_;
  std::map<uint64_t, Incoming> incoming_;  // by sending peer
};

}  // namespace cmq::cluster
