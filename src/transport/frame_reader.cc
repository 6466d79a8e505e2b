#include "transport/frame_reader.h"

#include <cstring>
#include <string_view>

#include "common/assert.h"

namespace cmq::transport {

FrameReader::FrameReader(uint64_t max_frame_bytes, size_t buffer_bytes)
    : max_frame_bytes_(max_frame_bytes), buf_(buffer_bytes) {
  CMQ_ASSERT(buffer_bytes > kFramePrefixBytes, "frame reader buffer too small");
}

std::span<char> FrameReader::WritableSpan() {
  if (large_) {
    return {large_payload_.data() + large_filled_, large_payload_.size() - large_filled_};
  }
  if (begin_ == end_) {
    begin_ = end_ = 0;
  } else if (end_ == buf_.size()) {
    // Only a partial frame that fits the buffer is left (Pop consumed the rest or switched
    // to large mode): move it to the front to make room for its tail.
    std::memmove(buf_.data(), buf_.data() + begin_, buffered());
    end_ = buffered();
    begin_ = 0;
  }
  return {buf_.data() + end_, buf_.size() - end_};
}

void FrameReader::Commit(size_t n) {
  if (large_) {
    CMQ_ASSERT(n <= large_payload_.size() - large_filled_, "commit past the payload");
    large_filled_ += n;
  } else {
    CMQ_ASSERT(n <= buf_.size() - end_, "commit past the buffer");
    end_ += n;
  }
}

FrameReader::Result FrameReader::Fail(FrameError error) {
  error_ = error;
  return Result::kError;
}

FrameReader::Result FrameReader::FinishLarge(Frame& out) {
  if (large_filled_ < large_payload_.size()) return Result::kNeedMore;
  large_ = false;
  FrameError error = DecodeFrameBody(large_header_, std::string_view(large_head_, kBodyHeaderBytes),
                                     large_payload_, out.kind, out.group);
  if (error != FrameError::kNone) return Fail(error);
  out.payload = std::move(large_payload_);
  large_payload_ = std::string();
  return Result::kFrame;
}

FrameReader::Result FrameReader::Pop(Frame& out) {
  if (error_ != FrameError::kNone) return Result::kError;
  if (large_) return FinishLarge(out);
  if (buffered() < kFrameHeaderBytes) return Result::kNeedMore;

  const char* p = buf_.data() + begin_;
  FrameHeader header = DecodeFrameHeader(p);
  if (FrameError error = CheckFrameLength(header, max_frame_bytes_); error != FrameError::kNone) {
    return Fail(error);
  }
  size_t total = kFrameHeaderBytes + header.body_bytes;
  if (buffered() >= total) {
    std::string_view head(p + kFrameHeaderBytes, kBodyHeaderBytes);
    std::string_view payload(p + kFramePrefixBytes, header.body_bytes - kBodyHeaderBytes);
    FrameError error = DecodeFrameBody(header, head, payload, out.kind, out.group);
    if (error != FrameError::kNone) return Fail(error);
    out.payload.assign(payload.data(), payload.size());
    begin_ += total;
    return Result::kFrame;
  }
  if (total <= buf_.size() || buffered() < kFramePrefixBytes) return Result::kNeedMore;

  // Too large for the buffer: give the payload its own string and read the rest into it.
  large_ = true;
  large_header_ = header;
  std::memcpy(large_head_, p + kFrameHeaderBytes, kBodyHeaderBytes);
  large_payload_.resize(header.body_bytes - kBodyHeaderBytes);
  large_filled_ = buffered() - kFramePrefixBytes;  // < payload size, as total > buf_.size()
  std::memcpy(large_payload_.data(), p + kFramePrefixBytes, large_filled_);
  begin_ = end_ = 0;
  return Result::kNeedMore;
}

}  // namespace cmq::transport
