#include "transport/peer_queue.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>

#include "common/assert.h"

namespace cmq::transport {

PeerQueue::Push PeerQueue::Enqueue(OutFrame&& frame) {
  uint64_t bytes = frame.wire_bytes();
  std::lock_guard lock(mu_);
  if (removed_.load(std::memory_order_relaxed)) return Push::kRefused;  // not counted
  if (bytes > max_queued_bytes_ || queued_bytes_ > max_queued_bytes_ - bytes) {
    ++dropped_;
    return Push::kRefused;
  }
  queue_.push_back(std::move(frame));
  queued_bytes_ += bytes;
  if (!writer_idle_) return Push::kQueued;
  writer_idle_ = false;
  return Push::kQueuedWakeWriter;
}

bool PeerQueue::WriteDirect() {
  std::deque<OutFrame> written;  // freed after the lock is released (declared before it)
  std::lock_guard lock(mu_);
  CMQ_ASSERT(!writer_idle_, "WriteDirect without owning the writer");
  if (direct_fd_ < 0 || !unwritten_end_.empty()) return false;
  // A few rounds at most: a sender that keeps the queue full hands over to the io thread.
  for (int round = 0; round < 4; ++round) {
    if (queue_.empty()) {
      writer_idle_ = true;
      return true;
    }
    std::array<iovec, 2 * kMaxDirectFrames> iov;
    size_t n_iov = 0;
    size_t frames = 0;
    uint64_t bytes = 0;
    for (auto it = queue_.begin(); it != queue_.end() && frames < kMaxDirectFrames; ++it) {
      iov[n_iov++] = {const_cast<char*>(it->prefix.data()), it->prefix.size()};
      if (!it->payload.empty()) {
        iov[n_iov++] = {const_cast<char*>(it->payload.data()), it->payload.size()};
      }
      bytes += it->wire_bytes();
      ++frames;
    }
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = n_iov;
    ssize_t n;
    do {
      n = ::sendmsg(direct_fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    // An error (EAGAIN, a broken connection) writes nothing: the io thread's own write then
    // waits for room, or meets the error and closes the connection.
    const uint64_t wrote = n > 0 ? static_cast<uint64_t>(n) : 0;
    if (wrote < bytes) {
      // The rest of these frames must be the next bytes on this connection.
      uint64_t skip = wrote;
      for (size_t i = 0; i < n_iov; ++i) {
        const uint64_t len = iov[i].iov_len;
        if (skip >= len) {
          skip -= len;
          continue;
        }
        unwritten_end_.append(static_cast<const char*>(iov[i].iov_base) + skip, len - skip);
        skip = 0;
      }
      unwritten_frames_ = frames;
      unwritten_bytes_ = bytes;
    } else {
      sent_ += frames;
      queued_bytes_ -= bytes;
    }
    for (size_t i = 0; i < frames; ++i) {
      written.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    if (wrote < bytes) return false;
  }
  return false;
}

void PeerQueue::CountRefused() {
  std::lock_guard lock(mu_);
  ++dropped_;
}

void PeerQueue::Remove() {
  std::deque<OutFrame> dropped;  // freed outside the lock
  {
    std::lock_guard lock(mu_);
    removed_.store(true, std::memory_order_release);
    dropped_ += queue_.size();
    for (const OutFrame& f : queue_) queued_bytes_ -= f.wire_bytes();
    dropped.swap(queue_);
  }
}

void PeerQueue::Restore() {
  std::lock_guard lock(mu_);
  removed_.store(false, std::memory_order_release);
}

bool PeerQueue::TakeBatch(WriteBatch& batch) {
  std::lock_guard lock(mu_);
  if (!unwritten_end_.empty()) {
    batch.AddUnwrittenEnd(std::move(unwritten_end_), unwritten_frames_, unwritten_bytes_);
    unwritten_end_.clear();
    unwritten_frames_ = 0;
    unwritten_bytes_ = 0;
  }
  if (queue_.empty() && batch.frame_count() == 0) {
    writer_idle_ = connected_;
    return false;
  }
  while (!queue_.empty() && batch.frame_count() < kMaxBatchFrames &&
         (batch.frame_count() == 0 ||
          batch.wire_bytes() + queue_.front().wire_bytes() <= kMaxBatchBytes)) {
    batch.Add(std::move(queue_.front()));
    queue_.pop_front();
  }
  return true;
}

void PeerQueue::WriteDone(size_t frames, uint64_t bytes) {
  std::lock_guard lock(mu_);
  sent_ += frames;
  queued_bytes_ -= bytes;
}

void PeerQueue::DropInFlight(size_t frames, uint64_t bytes) {
  std::lock_guard lock(mu_);
  dropped_ += frames;
  queued_bytes_ -= bytes;
}

void PeerQueue::Connected(int fd) {
  std::lock_guard lock(mu_);
  CMQ_ASSERT(unwritten_end_.empty(), "a direct write's end outlived its connection");
  direct_fd_ = fd;
  connected_ = true;
  writer_idle_ = false;
  ++connects_;
}

void PeerQueue::Detach(int fd) {
  std::lock_guard lock(mu_);
  if (direct_fd_ != fd) return;
  direct_fd_ = -1;
  DropUnwrittenEnd();
}

void PeerQueue::DropUnwrittenEnd() {
  dropped_ += unwritten_frames_;
  queued_bytes_ -= unwritten_bytes_;
  unwritten_end_.clear();
  unwritten_frames_ = 0;
  unwritten_bytes_ = 0;
}

void PeerQueue::Disconnected() {
  std::deque<OutFrame> dropped;  // freed outside the lock
  {
    std::lock_guard lock(mu_);
    direct_fd_ = -1;
    DropUnwrittenEnd();
    connected_ = false;
    writer_idle_ = false;
    dropped_ += queue_.size();
    for (const OutFrame& f : queue_) queued_bytes_ -= f.wire_bytes();
    dropped.swap(queue_);
  }
}

bool PeerQueue::connected() const {
  std::lock_guard lock(mu_);
  return connected_;
}

PeerStats PeerQueue::Stats() const {
  std::lock_guard lock(mu_);
  PeerStats s;
  s.connected = connected_;
  s.frames_sent = sent_;
  s.frames_received = received_.load(std::memory_order_relaxed);
  s.frames_dropped = dropped_;
  s.queued_bytes = queued_bytes_;
  s.connects = connects_;
  return s;
}

}  // namespace cmq::transport
