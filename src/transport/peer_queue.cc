#include "transport/peer_queue.h"

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
  if (queue_.empty()) {
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

void PeerQueue::Connected() {
  std::lock_guard lock(mu_);
  connected_ = true;
  writer_idle_ = false;
  ++connects_;
}

void PeerQueue::Disconnected() {
  std::deque<OutFrame> dropped;  // freed outside the lock
  {
    std::lock_guard lock(mu_);
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
