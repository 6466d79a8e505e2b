#include "transport/write_batch.h"

#include <cstring>

namespace cmq::transport {

OutFrame MakeOutFrame(FrameKind kind, uint32_t group, std::string payload) {
  OutFrame frame{EncodeFramePrefix(kind, group, payload), std::move(payload)};
  return frame;
}

const std::vector<boost::asio::const_buffer>& WriteBatch::Build() {
  buffers_.clear();
  if (!unwritten_end_.empty()) buffers_.emplace_back(unwritten_end_.data(), unwritten_end_.size());
  // Size the staging string first: the buffers point into it, so it must not grow while
  // they are being laid out.
  size_t staged = 0;
  for (const OutFrame& f : frames_) {
    staged += f.prefix.size() + (f.payload.size() < kCopyLimit ? f.payload.size() : 0);
  }
  staging_.resize(staged);

  char* base = staging_.data();
  size_t run_start = 0;  // staged bytes not yet covered by a buffer start here
  size_t pos = 0;
  for (const OutFrame& f : frames_) {
    std::memcpy(base + pos, f.prefix.data(), f.prefix.size());
    pos += f.prefix.size();
    if (f.payload.size() < kCopyLimit) {
      std::memcpy(base + pos, f.payload.data(), f.payload.size());
      pos += f.payload.size();
    } else {
      buffers_.emplace_back(base + run_start, pos - run_start);
      buffers_.emplace_back(f.payload.data(), f.payload.size());
      run_start = pos;
    }
  }
  if (pos > run_start) buffers_.emplace_back(base + run_start, pos - run_start);
  return buffers_;
}

void WriteBatch::Clear() {
  frames_.clear();
  unwritten_end_.clear();
  unwritten_frames_ = 0;
  buffers_.clear();
  wire_bytes_ = 0;
}

}  // namespace cmq::transport
