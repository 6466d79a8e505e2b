#pragma once
// The frames waiting for one peer, shared between the threads that Send and the io thread
// that writes. A mutex guards a deque. A frame that lands while the connection's writer is
// idle is written straight to the socket by the sending thread (WriteDirect, non-blocking),
// which saves waking the io thread: on two cores each wake-up costs tens of µs of latency
// and CPU, and a Raft round trip has two of them. Only what the socket does not take at
// once is left to the io thread (one post). While the writer is busy, a frame costs its
// sender a lock and a push, nothing more. The bytes of the batch being written still count
// against the bound until the write completes, so the bound is on all memory held for the
// peer.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "transport/transport.h"
#include "transport/write_batch.h"

namespace cmq::transport {

class PeerQueue {
 public:
  // A write gathers at most this much (but always at least one frame).
  static constexpr uint64_t kMaxBatchBytes = 1 << 20;
  static constexpr size_t kMaxBatchFrames = 256;

  explicit PeerQueue(uint64_t max_queued_bytes) : max_queued_bytes_(max_queued_bytes) {}

  // Frames one direct write gathers at most.
  static constexpr size_t kMaxDirectFrames = 64;

  enum class Push { kQueued, kQueuedWakeWriter, kRefused };
  // Any thread. kQueuedWakeWriter: the connection's writer was idle and is now the caller's
  // (only one caller is told): it calls WriteDirect, or posts a wake-up to the io thread.
  Push Enqueue(OutFrame&& frame);
  // Any thread, only by the caller that was told kQueuedWakeWriter. Writes the queued frames
  // to the connection's socket without blocking. True: all written, and the writer is idle
  // again. False: the caller must post a wake-up to the io thread, which writes the rest
  // (no connection, the socket's buffer is full, a write error, or frames keep coming).
  bool WriteDirect();
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
  // A connection finished its handshake; the caller then starts writing (TakeBatch). `fd`
  // is its socket, for WriteDirect; -1: no direct writes.
  void Connected(int fd);
  // Before the socket `fd` is closed: WriteDirect stops using it, and the end of a frame it
  // left unwritten there is dropped (counted) rather than sent on another connection.
  void Detach(int fd);
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
  int direct_fd_ = -1;  // the connection's socket while WriteDirect may use it
  // What a direct write left unwritten of the frames it began: the io thread writes it
  // before anything else (TakeBatch).
  std::string unwritten_end_;
  size_t unwritten_frames_ = 0;
  uint64_t unwritten_bytes_ = 0;
  uint64_t sent_ = 0;
  uint64_t dropped_ = 0;
  uint64_t connects_ = 0;

  void DropUnwrittenEnd();  // REQUIRES: mu_ held
};

}  // namespace cmq::transport
