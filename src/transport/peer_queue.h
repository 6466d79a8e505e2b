#pragma once
// The frames waiting for one peer, shared between the threads that Send and the io thread
// that writes. A mutex guards a deque; the io thread is woken (one post) only when a frame
// lands while the connection's writer is idle, so a busy peer costs senders a lock and a
// push, nothing more. The bytes of the batch being written still count against the bound
// until the write completes, so the bound is on all memory held for the peer.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>

#include "transport/transport.h"
#include "transport/write_batch.h"

namespace cmq::transport {

class PeerQueue {
 public:
  // A write gathers at most this much (but always at least one frame).
  static constexpr uint64_t kMaxBatchBytes = 1 << 20;
  static constexpr size_t kMaxBatchFrames = 256;

  explicit PeerQueue(uint64_t max_queued_bytes) : max_queued_bytes_(max_queued_bytes) {}

  enum class Push { kQueued, kQueuedWakeWriter, kRefused };
  // Any thread. kQueuedWakeWriter: the connection's writer was idle; the caller must post a
  // wake-up to the io thread (the writer is marked busy, so only one caller is told).
  Push Enqueue(OutFrame&& frame);
  // Any thread: a frame refused before reaching the queue (e.g. too large, stopped).
  void CountRefused();

  // Any thread (the peer was removed): drops the queued frames (counted) and refuses, without
  // counting, every Enqueue until Restore. The batch in flight, if any, stays counted until
  // its connection is closed.
  void Remove();
  // Any thread (the peer was added again): Enqueue accepts frames again.
  void Restore();
  // Any thread; cheap (one atomic load): whether Remove was called (and not Restore since).
  bool removed() const { return removed_.load(std::memory_order_acquire); }

  // The rest is for the io thread only.

  // Moves the next frames into `batch` (bounded as above). With nothing queued the writer
  // is marked idle and false is returned.
  bool TakeBatch(WriteBatch& batch);
  // A batch taken with TakeBatch reached the socket.
  void WriteDone(size_t frames, uint64_t bytes);
  // A batch taken with TakeBatch was lost with its connection.
  void DropInFlight(size_t frames, uint64_t bytes);
  // A connection finished its handshake; the caller then starts writing (TakeBatch).
  void Connected();
  // The connection broke: the queued frames are dropped (counted) and later frames wait
  // for the next connection.
  void Disconnected();
  void CountReceived() { received_.fetch_add(1, std::memory_order_relaxed); }

  PeerStats Stats() const;
  bool connected() const;

 private:
  const uint64_t max_queued_bytes_;
  std::atomic<uint64_t> received_{0};  // bumped per frame by the io thread: no lock
  // Written under mu_ (so Enqueue sees it consistently), read without it by removed().
  std::atomic<bool> removed_{false};

  mutable std::mutex mu_;
  std::deque<OutFrame> queue_;
  uint64_t queued_bytes_ = 0;  // queue_ plus the batch in flight
  bool connected_ = false;
  // True only while a connection is up, nothing is being written and queue_ is empty; the
  // Enqueue that clears it wakes the writer.
  bool writer_idle_ = false;
  uint64_t sent_ = 0;
  uint64_t dropped_ = 0;
  uint64_t connects_ = 0;
};

}  // namespace cmq::transport
