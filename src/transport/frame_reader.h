#pragma once
// Turns the byte stream of one connection into frames, with no I/O: the connection reads
// into WritableSpan(), reports how much arrived with Commit(), then Pops frames until it
// needs more bytes. Small frames are parsed straight out of one reusable buffer, so a read
// syscall can carry many of them and the only allocation per frame is its payload string.
// A frame too large for the buffer has its payload read directly into that string (no
// copy through the buffer). After an error the stream is unusable: close the connection.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "transport/frame_codec.h"
#include "transport/transport.h"

namespace cmq::transport {

class FrameReader {
 public:
  static constexpr size_t kDefaultBufferBytes = 64 * 1024;

  explicit FrameReader(uint64_t max_frame_bytes, size_t buffer_bytes = kDefaultBufferBytes);

  // Where the next read should put its bytes; never empty.
  std::span<char> WritableSpan();
  // `n` bytes were written at the start of the last WritableSpan().
  void Commit(size_t n);

  enum class Result { kFrame, kNeedMore, kError };
  // The next complete frame (its `from` is left for the caller), kNeedMore, or kError with
  // the reason in error().
  Result Pop(Frame& out);

  FrameError error() const { return error_; }

 private:
  size_t buffered() const { return end_ - begin_; }
  Result Fail(FrameError error);
  Result FinishLarge(Frame& out);

  uint64_t max_frame_bytes_;
  std::vector<char> buf_;
  size_t begin_ = 0;  // first unconsumed byte in buf_
  size_t end_ = 0;    // one past the last received byte in buf_

  // A frame larger than buf_: its headers, and the payload being filled in place.
  bool large_ = false;
  FrameHeader large_header_;
  char large_head_[kBodyHeaderBytes] = {};
  std::string large_payload_;
  size_t large_filled_ = 0;

  FrameError error_ = FrameError::kNone;
};

}  // namespace cmq::transport
