#pragma once
// Internal to mq/: the fixed-size record the state keeps per retained message, and the keys
// of the per-queue heaps (docs/queue-model.md "Data structures").

#include <cstdint>

#include "mq/limits.h"

namespace cmq::mq {

inline constexpr uint64_t kMaxMessageSeq = (uint64_t{1} << kMessageSeqBits) - 1;
inline constexpr uint64_t kReceiptCountMask = (uint64_t{1} << kReceiptCountBits) - 1;

enum class MessageState : uint8_t {
  kVisible,   // in the visible heap
  kDelayed,   // hidden until next_visible (delaySeconds); in the timer heap
  kInFlight,  // received, hidden until next_visible; in the timer heap
  kDeleted,   // deleted but retained for rewind; in the retained heap
  kGone,      // a tombstone: deleted or expired, waiting to be popped or compacted away
  // A transaction's half message: hidden until its producer commits it (then kVisible) or
  // rolls it back (kGone); in the check heap, next_visible_offset_ms being its next
  // check-back. Its producer and check count are in the queue's half table.
  kHalf,
};
inline constexpr size_t kMessageStateCount = 6;

// 48 bytes. Times after enqueue are kept as millisecond offsets from it: a message never
// outlives kMsgRetentionSecondsMax, and a deadline is at most kVisibilityTimeoutMax past a
// receive, so both fit in 32 bits (static_assert below).
struct MessageRecord {
  uint64_t seq = 0;  // the low kMessageSeqBits of the message id
  uint64_t log_index = 0;
  int64_t enqueue_ms = 0;
  uint32_t body_offset = 0;
  uint32_t body_length = 0;
  uint32_t next_visible_offset_ms = 0;   // for kDelayed / kInFlight
  uint32_t first_dequeue_offset_ms = 0;  // meaningful once dequeue_count > 0
  uint32_t dequeue_count = 0;
  MessageState state = MessageState::kVisible;

  int64_t next_visible_ms() const { return enqueue_ms + next_visible_offset_ms; }
  int64_t first_dequeue_ms() const { return enqueue_ms + first_dequeue_offset_ms; }
  bool hidden() const {
    return state == MessageState::kDelayed || state == MessageState::kInFlight;
  }
  // Counts dequeues modulo 2^kReceiptCountBits, as receipt handles and heap keys do.
  uint64_t generation() const { return dequeue_count & kReceiptCountMask; }
};
static_assert(sizeof(MessageRecord) == 48);
static_assert((kMsgRetentionSecondsMax + kVisibilityTimeoutMax) * 1000 < (int64_t{1} << 32));
static_assert(kDelaySecondsMax <= kMsgRetentionSecondsMax);

// A heap key names one stay of a message in one state: (seq << kReceiptCountBits) | generation.
// Ordered by seq first, so the visible heap serves in id (enqueue) order. A receipt handle has the
// same layout.
inline uint64_t HeapKey(uint64_t seq, uint64_t generation) {
  return (seq << kReceiptCountBits) | (generation & kReceiptCountMask);
}
inline uint64_t KeySeq(uint64_t key) {
  return key >> kReceiptCountBits;
}
inline uint64_t KeyGeneration(uint64_t key) {
  return key & kReceiptCountMask;
}

struct TimerEntry {
  int64_t due_ms = 0;
  uint64_t key = 0;
  // Reversed, so that std::push_heap and friends build a min-heap.
  bool operator<(const TimerEntry& o) const {
    return due_ms != o.due_ms ? due_ms > o.due_ms : key > o.key;
  }
};
static_assert(sizeof(TimerEntry) == 16);

}  // namespace cmq::mq
