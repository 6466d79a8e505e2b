// Queue lookups and the const reads: counters at a time, HasVisibleMessage, NextDueMs.
#include <algorithm>
#include <functional>
#include <limits>

#include "mq/queue.h"

namespace cmq::mq {
namespace {

// Visits the entries of a heap (C++20 [alg.heap.operations] layout: children of i are 2i+1
// and 2i+2) for which in_region holds, where in_region holds for a node's parent whenever
// it holds for the node; stops early, returning true, when visit returns true. Costs
// O(entries in the region).
template <typename T, typename InRegion, typename Visit>
bool VisitHeapRegion(const std::vector<T>& heap, InRegion in_region, Visit visit) {
  std::vector<size_t> stack;
  if (!heap.empty() && in_region(heap[0])) stack.push_back(0);
  while (!stack.empty()) {
    size_t i = stack.back();
    stack.pop_back();
    if (visit(heap[i])) return true;
    for (size_t child = 2 * i + 1; child <= 2 * i + 2 && child < heap.size(); ++child) {
      if (in_region(heap[child])) stack.push_back(child);
    }
  }
  return false;
}

}  // namespace

const MessageRecord* Queue::Find(uint64_t seq) const {
  auto it = std::lower_bound(records_.begin(), records_.end(), seq,
                             [](const MessageRecord& r, uint64_t s) { return r.seq < s; });
  if (it == records_.end() || it->seq != seq || it->state == MessageState::kGone) return nullptr;
  return &*it;
}

MessageRecord* Queue::Find(uint64_t seq) {
  return const_cast<MessageRecord*>(std::as_const(*this).Find(seq));
}

const MessageRecord* Queue::VisibleTarget(uint64_t key) const {
  const MessageRecord* r = Find(KeySeq(key));
  if (r == nullptr || r->state != MessageState::kVisible) return nullptr;
  return r->generation() == KeyGeneration(key) ? r : nullptr;
}

const MessageRecord* Queue::TimerTarget(const TimerEntry& e) const {
  const MessageRecord* r = Find(KeySeq(e.key));
  if (r == nullptr || !r->hidden() || r->generation() != KeyGeneration(e.key)) return nullptr;
  return r->next_visible_ms() == e.due_ms ? r : nullptr;
}

const MessageRecord* Queue::CheckTarget(const TimerEntry& e) const {
  const MessageRecord* r = Find(KeySeq(e.key));
  if (r == nullptr || r->state != MessageState::kHalf) return nullptr;
  return r->next_visible_ms() == e.due_ms ? r : nullptr;
}

const MessageRecord* Queue::RetainedTarget(uint64_t seq) const {
  const MessageRecord* r = Find(seq);
  return r != nullptr && r->state == MessageState::kDeleted ? r : nullptr;
}

MessageRecord* Queue::VisibleTarget(uint64_t key) {
  return const_cast<MessageRecord*>(std::as_const(*this).VisibleTarget(key));
}
MessageRecord* Queue::TimerTarget(const TimerEntry& e) {
  return const_cast<MessageRecord*>(std::as_const(*this).TimerTarget(e));
}
MessageRecord* Queue::CheckTarget(const TimerEntry& e) {
  return const_cast<MessageRecord*>(std::as_const(*this).CheckTarget(e));
}
MessageRecord* Queue::RetainedTarget(uint64_t seq) {
  return const_cast<MessageRecord*>(std::as_const(*this).RetainedTarget(seq));
}

uint64_t Queue::FirstSeqAfter(int64_t threshold_ms) const {
  auto it = std::partition_point(records_.begin(), records_.end(), [&](const MessageRecord& r) {
    return r.enqueue_ms <= threshold_ms;
  });
  return it == records_.end() ? std::numeric_limits<uint64_t>::max() : it->seq;
}

// Messages with a smaller seq are past retention (dropped at enqueue + retention).
uint64_t Queue::RetentionCutoffSeq(int64_t now_ms) const {
  return FirstSeqAfter(now_ms - retention_ms());
}

// Deleted messages with a smaller seq are out of the rewind window (enqueue < now - rewind).
uint64_t Queue::RewindCutoffSeq(int64_t now_ms) const {
  return FirstSeqAfter(now_ms - rewind_ms() - 1);
}

void Queue::FillInfo(int64_t now_ms, QueueInfo& info) const {
  info.queue_id = id_;
  info.queue_name = name_;
  info.attributes = attributes_;
  info.create_time_s = create_time_s_;
  info.last_modify_time_s = last_modify_time_s_;

  // What Advance(now_ms) would drop or promote, counted per state without doing it.
  uint64_t retention_cut = RetentionCutoffSeq(now_ms);
  std::array<uint64_t, kMessageStateCount> expired{};
  size_t first_live = 0;
  for (; first_live < records_.size() && records_[first_live].seq < retention_cut; ++first_live) {
    ++expired[static_cast<size_t>(records_[first_live].state)];
  }
  uint64_t rewind_cut = RewindCutoffSeq(now_ms);
  uint64_t out_of_window = 0;
  VisitHeapRegion(
      retained_, [&](uint64_t seq) { return seq < rewind_cut; },
      [&](uint64_t seq) {
        if (seq >= retention_cut && RetainedTarget(seq) != nullptr) ++out_of_window;
        return false;
      });
  uint64_t due_delayed = 0;
  uint64_t due_in_flight = 0;
  VisitHeapRegion(
      timers_, [&](const TimerEntry& e) { return e.due_ms <= now_ms; },
      [&](const TimerEntry& e) {
        const MessageRecord* r = TimerTarget(e);
        if (r == nullptr || r->seq < retention_cut) return false;
        ++(r->state == MessageState::kDelayed ? due_delayed : due_in_flight);
        return false;
      });
  auto live = [&](MessageState s) { return Count(s) - expired[static_cast<size_t>(s)]; };
  // A leader's reserved messages (Queue::Reserve) were handed to a receive that is not
  // applied yet: in flight as far as its client can tell, so counted so here (reads are
  // served by the leader: a client reading right after its receive sees it in flight).
  uint64_t reserved = 0;
  for (const auto& [seq, key] : reserved_) reserved += seq >= retention_cut ? 1 : 0;
  info.active_msg_num = live(MessageState::kVisible) - reserved + due_delayed + due_in_flight;
  info.inactive_msg_num = live(MessageState::kInFlight) - due_in_flight + reserved;
  info.delay_msg_num = live(MessageState::kDelayed) - due_delayed;
  info.rewind_msg_num = live(MessageState::kDeleted) - out_of_window;
  info.transaction_msg_num = live(MessageState::kHalf);
  info.min_msg_time_s = 0;
  for (size_t i = first_live; i < records_.size(); ++i) {
    MessageState s = records_[i].state;
    // Half messages are not sent yet, as far as consumers can tell.
    if (s == MessageState::kGone || s == MessageState::kDeleted || s == MessageState::kHalf) {
      continue;
    }
    info.min_msg_time_s = records_[i].enqueue_ms / 1000;
    break;
  }
}

bool Queue::HasVisibleMessage(int64_t now_ms) const {
  uint64_t retention_cut = RetentionCutoffSeq(now_ms);
  // Reserved messages (a leader's, Queue::Reserve) are visible but taken: not in visible_.
  const uint64_t available = Count(MessageState::kVisible) - reserved_.size();
  if (available > 0) {
    // The heap's top is its smallest seq: if that one is within retention, all are.
    if (!visible_.empty() && KeySeq(visible_.front()) >= retention_cut &&
        VisibleTarget(visible_.front()) != nullptr) {
      return true;
    }
    uint64_t expired = 0;  // visible but past retention, not yet dropped
    VisitHeapRegion(
        visible_, [&](uint64_t key) { return KeySeq(key) < retention_cut; },
        [&](uint64_t key) {
          if (VisibleTarget(key) != nullptr) ++expired;
          return false;
        });
    if (available > expired) return true;
  }
  return VisitHeapRegion(
      timers_, [&](const TimerEntry& e) { return e.due_ms <= now_ms; },
      [&](const TimerEntry& e) {
        const MessageRecord* r = TimerTarget(e);
        return r != nullptr && r->seq >= retention_cut;
      });
}

std::optional<int64_t> Queue::NextDueMs() const {
  // Advance leaves a live entry on top.
  if (timers_.empty()) return std::nullopt;
  return timers_.front().due_ms;
}

}  // namespace cmq::mq
