#include "client/tcp_frame_reader.h"

#include <algorithm>
#include <cstring>

#include "common/assert.h"
#include "proto/tcp_frame.h"

namespace cmq::client {

namespace {
constexpr size_t kShrinkAbove = 1 << 20;
}

std::span<char> TcpFrameReader::Prepare(size_t min_bytes) {
  // A partly read frame needs room for all of it, so that Next() can hand out its body
  // as one view.
  size_t need = std::max(min_bytes, want_ > buffered() ? want_ - buffered() : 0);
  // After a huge frame (up to kMaxFrameSize) give the memory back once it is consumed.
  if (buffered() == 0 && buf_.size() > kShrinkAbove && need <= kShrinkAbove) {
    buf_.resize(need);
    buf_.shrink_to_fit();
    begin_ = end_ = 0;
  }
  if (buf_.size() - end_ < need) {
    // Move the tail to the front first: steady state reuses one buffer, never growing.
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, buffered());
      end_ -= begin_;
      begin_ = 0;
    }
    if (buf_.size() - end_ < need) buf_.resize(end_ + need);
  }
  return {buf_.data() + end_, buf_.size() - end_};
}

void TcpFrameReader::Commit(size_t n) {
  CMQ_ASSERT(end_ + n <= buf_.size(), "TcpFrameReader: commit past the prepared space");
  end_ += n;
}

TcpFrameReader::Status TcpFrameReader::Next(std::string_view* body) {
  if (buffered() < tcp::kFrameHeaderSize) return Status::kNeedMore;
  std::string_view header(buf_.data() + begin_, tcp::kFrameHeaderSize);
  auto size = tcp::BodySizeOf(header);
  if (!size) return Status::kBad;
  want_ = tcp::kFrameHeaderSize + *size;
  if (buffered() < want_) return Status::kNeedMore;
  *body = std::string_view(buf_.data() + begin_ + tcp::kFrameHeaderSize, *size);
  begin_ += want_;
  want_ = 0;
  if (begin_ == end_) begin_ = end_ = 0;  // empty: the next read starts at the front
  return Status::kFrame;
}

}  // namespace cmq::client
