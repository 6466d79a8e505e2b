#pragma once
// Outgoing frames and the gathering of many of them into one write. A frame waits in its
// peer's queue as a 13-byte prefix plus the caller's payload string (moved in, never
// copied). A WriteBatch turns a run of them into one buffer sequence for one async_write:
// prefixes and small payloads are copied into one reusable staging string (so a write of
// hundreds of small Raft messages is a handful of iovecs, not two per frame), large
// payloads are referenced where they are.

#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "transport/frame_codec.h"

namespace cmq::transport {

struct OutFrame {
  FramePrefix prefix;
  std::string payload;

  uint64_t wire_bytes() const { return prefix.size() + payload.size(); }
};

OutFrame MakeOutFrame(FrameKind kind, uint32_t group, std::string payload);

class WriteBatch {
 public:
  // Payloads at least this large are written from their own string rather than copied.
  static constexpr size_t kCopyLimit = 4096;

  // Appends a frame to the next write (PeerQueue::TakeBatch does).
  void Add(OutFrame&& frame) {
    wire_bytes_ += frame.wire_bytes();
    frames_.push_back(std::move(frame));
  }
  // The unwritten end of `frames` frames of `bytes` wire bytes that a direct write began
  // (PeerQueue::WriteDirect): written before everything else, and counted as those frames.
  // REQUIRES: nothing added yet.
  void AddUnwrittenEnd(std::string rest, size_t frames, uint64_t bytes) {
    unwritten_end_ = std::move(rest);
    unwritten_frames_ = frames;
    wire_bytes_ += bytes;
  }
  const std::vector<OutFrame>& frames() const { return frames_; }
  size_t frame_count() const { return frames_.size() + unwritten_frames_; }
  uint64_t wire_bytes() const { return wire_bytes_; }

  // Lays out frames() for writing; the buffers stay valid until Clear() or the next Build().
  const std::vector<boost::asio::const_buffer>& Build();
  // Forgets the frames but keeps the capacity of the staging string and the vectors.
  void Clear();

 private:
  std::vector<OutFrame> frames_;
  std::string unwritten_end_;
  size_t unwritten_frames_ = 0;
  std::string staging_;
  std::vector<boost::asio::const_buffer> buffers_;
  uint64_t wire_bytes_ = 0;
};

}  // namespace cmq::transport
