#pragma once
// Splits the byte stream of a CMQ TCP connection into frames (proto/tcp_frame.h): bytes
// are read into Prepare()'s space, Commit()ed, and Next() hands out each complete frame's
// body. A read may end anywhere (inside a header, inside a body) or hold several frames;
// the reader keeps the partial tail and grows its buffer to the announced frame size, so
// every body is handed out in one piece, without copying it again.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cmq::client {

class TcpFrameReader {
 public:
  enum class Status {
    kFrame,     // *body is the next frame's body (valid until the next Prepare)
    kNeedMore,  // no complete frame buffered
    kBad,       // the header is invalid (BodySizeOf refused it): the stream is unusable
  };

  // Writable space of at least min_bytes (more when a partly read frame needs it).
  std::span<char> Prepare(size_t min_bytes = 64 * 1024);
  // n bytes of the space Prepare returned now hold data.
  void Commit(size_t n);
  Status Next(std::string_view* body);

  size_t buffered() const { return end_ - begin_; }

 private:
  std::string buf_;
  size_t begin_ = 0;  // the first byte not yet handed out
  size_t end_ = 0;    // one past the last committed byte
  size_t want_ = 0;   // bytes of the frame at begin_, once its header is buffered
};

}  // namespace cmq::client
