#include "mq/queue.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <utility>

#include "common/assert.h"
#include "mq/limits.h"

namespace cmq::mq {
namespace {

// Indexes are rebuilt when stale entries outnumber live ones and this floor.
constexpr uint64_t kCompactFloor = 1024;

template <typename T, typename Compare, typename Keep>
void FilterHeap(std::vector<T>& heap, Compare compare, Keep keep) {
  std::erase_if(heap, [&](const T& e) { return !keep(e); });
  std::make_heap(heap.begin(), heap.end(), compare);
  heap.shrink_to_fit();
}

}  // namespace

Queue::Queue(std::string id, std::string name, const QueueAttributes& attributes, int64_t now_ms,
             uint64_t id_base)
    : id_(std::move(id)),
      name_(std::move(name)),
      attributes_(attributes),
      create_time_s_(now_ms / 1000),
      last_modify_time_s_(now_ms / 1000),
      id_base_(id_base) {}

void Queue::SetState(MessageRecord& r, MessageState s) {
  CMQ_ASSERT(Count(r.state) > 0, "state count underflow");
  --counts_[static_cast<size_t>(r.state)];
  ++counts_[static_cast<size_t>(s)];
  r.state = s;
}

void Queue::SetAttributes(const QueueAttributes& attributes, int64_t now_ms) {
  attributes_ = attributes;
  last_modify_time_s_ = now_ms / 1000;
  if (attributes_.rewind_seconds == 0) {  // rewind off: retained messages go at once
    for (uint64_t seq : retained_) {
      if (MessageRecord* r = RetainedTarget(seq)) SetState(*r, MessageState::kGone);
    }
    retained_.clear();
    retained_.shrink_to_fit();
  }
  Advance(now_ms);
}

void Queue::Advance(int64_t now_ms) {
  DropExpired(now_ms);
  DropRewindExpired(now_ms);
  PromoteDue(now_ms);
  RunChecks(now_ms);
  CleanHeapTops();
  Compact();
  uint64_t total = 0;
  for (uint64_t c : counts_) total += c;
  CMQ_ASSERT(total == records_.size(), "state counts disagree with records");
  CMQ_ASSERT(reserved_.size() <= Count(MessageState::kVisible), "a reserved message not visible");
}

void Queue::DropExpired(int64_t now_ms) {
  // Enqueue times do not decrease along records_, so what retention drops is a prefix.
  int64_t threshold_ms = now_ms - retention_ms();
  while (!records_.empty()) {
    MessageRecord& front = records_.front();
    if (front.state != MessageState::kGone && front.enqueue_ms > threshold_ms) break;
    if (front.state == MessageState::kHalf) halves_.erase(front.seq);
    if (!reserved_.empty()) reserved_.erase(front.seq);
    --counts_[static_cast<size_t>(front.state)];
    records_.pop_front();
  }
}

void Queue::DropRewindExpired(int64_t now_ms) {
  int64_t threshold_ms = now_ms - rewind_ms();  // retained while enqueue_ms >= threshold
  while (!retained_.empty()) {
    MessageRecord* r = RetainedTarget(retained_.front());
    if (r != nullptr && r->enqueue_ms >= threshold_ms) break;
    if (r != nullptr) SetState(*r, MessageState::kGone);
    std::pop_heap(retained_.begin(), retained_.end(), std::greater<>());
    retained_.pop_back();
  }
}

void Queue::PromoteDue(int64_t now_ms) {
  while (!timers_.empty() && timers_.front().due_ms <= now_ms) {
    TimerEntry e = timers_.front();
    std::pop_heap(timers_.begin(), timers_.end());
    timers_.pop_back();
    if (MessageRecord* r = TimerTarget(e)) {
      SetState(*r, MessageState::kVisible);
      PushVisible(*r);
    }
  }
}

// The gap before check-back checks + 1, after `checks` of them (limits.h): doubling from the
// first interval up to a minute, never shorter than the first.
static int64_t CheckGapMs(int64_t check_ms, uint32_t checks) {
  return std::max(check_ms, std::min(check_ms << std::min(checks, 20u), kTransactionCheckGapCapMs));
}

void Queue::RunChecks(int64_t now_ms) {
  while (!checks_.empty() && checks_.front().due_ms <= now_ms) {
    TimerEntry e = checks_.front();
    std::pop_heap(checks_.begin(), checks_.end());
    checks_.pop_back();
    MessageRecord* r = CheckTarget(e);
    if (r == nullptr) continue;
    auto it = halves_.find(r->seq);
    CMQ_ASSERT(it != halves_.end(), "a half message without its half-table entry");
    HalfInfo& half = it->second;
    if (half.checks >= kTransactionMaxChecks) {
      // Nobody answered: roll back (never delivered, so not retained for rewind).
      EndHalf(*r, MessageState::kGone);
      continue;
    }
    ++half.checks;
    due_checks_.push_back(
        DueCheck{r->seq, half.producer, half.sent_as.empty() ? name_ : half.sent_as});
    // Within retention (DropExpired ran first), so the offset fits: see limits.h.
    int64_t next_offset = now_ms + CheckGapMs(half.check_ms, half.checks) - r->enqueue_ms;
    CMQ_ASSERT(next_offset > 0 && next_offset < (int64_t{1} << 32),
               "check-back offset out of range");
    r->next_visible_offset_ms = static_cast<uint32_t>(next_offset);
    PushCheck(*r);
  }
}

void Queue::EndHalf(MessageRecord& r, MessageState s) {
  CMQ_ASSERT(r.state == MessageState::kHalf, "not a half message");
  halves_.erase(r.seq);
  SetState(r, s);
}

void Queue::CleanHeapTops() {
  while (!visible_.empty() && VisibleTarget(visible_.front()) == nullptr) {
    std::pop_heap(visible_.begin(), visible_.end(), std::greater<>());
    visible_.pop_back();
  }
  while (!timers_.empty() && TimerTarget(timers_.front()) == nullptr) {
    std::pop_heap(timers_.begin(), timers_.end());
    timers_.pop_back();
  }
  while (!retained_.empty() && RetainedTarget(retained_.front()) == nullptr) {
    std::pop_heap(retained_.begin(), retained_.end(), std::greater<>());
    retained_.pop_back();
  }
  while (!checks_.empty() && CheckTarget(checks_.front()) == nullptr) {
    std::pop_heap(checks_.begin(), checks_.end());
    checks_.pop_back();
  }
}

void Queue::Compact() {
  while (!records_.empty() && records_.front().state == MessageState::kGone) {
    --counts_[static_cast<size_t>(MessageState::kGone)];
    records_.pop_front();
  }
  uint64_t gone = Count(MessageState::kGone);
  if (gone > kCompactFloor && gone * 2 > records_.size()) {
    std::erase_if(records_, [](const MessageRecord& r) { return r.state == MessageState::kGone; });
    counts_[static_cast<size_t>(MessageState::kGone)] = 0;
    records_.shrink_to_fit();
  }
  if (visible_.size() > 2 * Count(MessageState::kVisible) + kCompactFloor) {
    FilterHeap(visible_, std::greater<>(), [&](uint64_t k) { return VisibleTarget(k); });
  }
  uint64_t hidden = Count(MessageState::kDelayed) + Count(MessageState::kInFlight);
  if (timers_.size() > 2 * hidden + kCompactFloor) {
    FilterHeap(timers_, std::less<>(), [&](const TimerEntry& e) { return TimerTarget(e); });
  }
  if (retained_.size() > 2 * Count(MessageState::kDeleted) + kCompactFloor) {
    FilterHeap(retained_, std::greater<>(), [&](uint64_t s) { return RetainedTarget(s); });
  }
  if (checks_.size() > 2 * Count(MessageState::kHalf) + kCompactFloor) {
    FilterHeap(checks_, std::less<>(), [&](const TimerEntry& e) { return CheckTarget(e); });
  }
}

void Queue::PushVisible(MessageRecord& r) {
  visible_.push_back(HeapKey(r.seq, r.generation()));
  std::push_heap(visible_.begin(), visible_.end(), std::greater<>());
}

void Queue::PushTimer(MessageRecord& r) {
  timers_.push_back(TimerEntry{r.next_visible_ms(), HeapKey(r.seq, r.generation())});
  std::push_heap(timers_.begin(), timers_.end());
}

void Queue::PushCheck(MessageRecord& r) {
  checks_.push_back(TimerEntry{r.next_visible_ms(), HeapKey(r.seq, 0)});
  std::push_heap(checks_.begin(), checks_.end());
}

Status Queue::CheckSend(uint64_t count, int64_t delay_seconds) const {
  if (Undeleted() + count > static_cast<uint64_t>(attributes_.max_msg_heap_num)) {
    return Status(ErrorCode::kHeapFull, "queue holds maxMsgHeapNum messages");
  }
  uint64_t hidden = Count(MessageState::kDelayed) + Count(MessageState::kInFlight);
  if (delay_seconds > 0 && hidden + count > kMaxInflightAndDelayedPerQueue) {
    return Status(ErrorCode::kTooManyUnacked, "too many in-flight and delayed messages");
  }
  return Status::Ok();
}

MessageRecord& Queue::Append(uint64_t seq, const BodyLocation& body, int64_t now_ms,
                             MessageState state, uint32_t next_visible_offset_ms) {
  CMQ_ASSERT(records_.empty() || records_.back().seq < seq, "seqs must increase");
  CMQ_ASSERT(records_.empty() || records_.back().enqueue_ms <= now_ms, "time went back");
  MessageRecord& r = records_.emplace_back();
  r.seq = seq;
  r.log_index = body.log_index;
  r.enqueue_ms = now_ms;
  r.body_offset = body.offset;
  r.body_length = body.length;
  r.next_visible_offset_ms = next_visible_offset_ms;
  r.state = state;
  ++counts_[static_cast<size_t>(state)];
  return r;
}

void Queue::Enqueue(uint64_t seq, const BodyLocation& body, int64_t now_ms, int64_t delay_seconds) {
  CMQ_ASSERT(delay_seconds >= 0 && delay_seconds <= kDelaySecondsMax, "delay unchecked");
  const bool delayed = delay_seconds > 0;
  MessageRecord& r =
      Append(seq, body, now_ms, delayed ? MessageState::kDelayed : MessageState::kVisible,
             static_cast<uint32_t>(delay_seconds * 1000));
  if (delayed) {
    PushTimer(r);
  } else {
    PushVisible(r);
  }
}

void Queue::EnqueueHalf(uint64_t seq, const BodyLocation& body, int64_t now_ms, int64_t check_ms,
                        const std::string& producer, const std::string& sent_as) {
  CMQ_ASSERT(check_ms >= kTransactionCheckMsMin && check_ms <= kTransactionCheckMsMax,
             "check interval unchecked");
  CMQ_ASSERT(producer.size() <= kMaxProducerIdLength, "producer id unchecked");
  MessageRecord& r =
      Append(seq, body, now_ms, MessageState::kHalf, static_cast<uint32_t>(check_ms));
  halves_.emplace(seq, HalfInfo{producer, check_ms, 0, sent_as == name_ ? "" : sent_as});
  PushCheck(r);
}

bool Queue::Confirm(uint64_t seq, bool commit) {
  MessageRecord* r = Find(seq);
  if (r == nullptr || r->state != MessageState::kHalf) return false;
  if (commit) {
    EndHalf(*r, MessageState::kVisible);
    PushVisible(*r);
  } else {
    EndHalf(*r, MessageState::kGone);
  }
  return true;
}

bool Queue::MoveBodies(const std::vector<Move>& moves) {
  // First check that the moves cover the records held, then change them: all or nothing.
  size_t next = 0;
  for (const MessageRecord& r : records_) {
    if (r.state == MessageState::kGone) continue;
    while (next < moves.size() && moves[next].seq < r.seq) ++next;  // gone since
    if (next == moves.size()) return false;  // sent since the move was proposed
    const Move& m = moves[next];
    if (m.seq != r.seq || m.from_log_index != r.log_index || m.to.length != r.body_length) {
      return false;
    }
    ++next;
  }
  next = 0;
  for (MessageRecord& r : records_) {
    if (r.state == MessageState::kGone) continue;
    while (moves[next].seq < r.seq) ++next;
    CMQ_ASSERT(moves[next].to.log_index > r.log_index, "a body moved backwards");
    r.log_index = moves[next].to.log_index;
    r.body_offset = moves[next].to.offset;
    ++next;
  }
  return true;
}

std::vector<std::pair<uint64_t, BodyLocation>> Queue::HeldBodies() const {
  std::vector<std::pair<uint64_t, BodyLocation>> out;
  out.reserve(records_.size() - Count(MessageState::kGone));
  for (const MessageRecord& r : records_) {
    if (r.state == MessageState::kGone) continue;
    out.emplace_back(r.seq, BodyLocation{r.log_index, r.body_offset, r.body_length});
  }
  return out;
}

std::vector<Queue::DueCheck> Queue::TakeDueChecks() {
  return std::exchange(due_checks_, {});
}

void Queue::StartInFlight(MessageRecord& r, int64_t visibility_ms, int64_t now_ms) {
  if (r.dequeue_count < std::numeric_limits<uint32_t>::max()) ++r.dequeue_count;
  if (r.dequeue_count == 1)
    r.first_dequeue_offset_ms = static_cast<uint32_t>(now_ms - r.enqueue_ms);
  int64_t next_visible_offset = now_ms + visibility_ms - r.enqueue_ms;
  CMQ_ASSERT(next_visible_offset > 0 && next_visible_offset < (int64_t{1} << 32),
             "deadline offset out of range");
  r.next_visible_offset_ms = static_cast<uint32_t>(next_visible_offset);
}

ReceivedMessage Queue::Describe(const MessageRecord& r) const {
  return ReceivedMessage{
      .msg_id = id_base_ | r.seq,
      .receipt_handle = HeapKey(r.seq, r.generation()),
      .body = BodyLocation{r.log_index, r.body_offset, r.body_length},
      .enqueue_time_ms = r.enqueue_ms,
      .next_visible_time_ms = r.next_visible_ms(),
      .first_dequeue_time_ms = r.first_dequeue_ms(),
      .dequeue_count = r.dequeue_count,
  };
}

Status Queue::Receive(uint32_t max_count, int64_t visibility_ms, int64_t now_ms,
                      std::vector<ReceivedMessage>& out) {
  // A leader that reserves chooses every receive itself (kReceiveChosen); one of these in
  // its log while it holds reservations would choose differently from its followers.
  CMQ_ASSERT(reserved_.empty(), "a receive applied beside reservations");
  if (Count(MessageState::kVisible) == 0) return Status(ErrorCode::kNoMessage, "no message");
  uint64_t hidden = Count(MessageState::kDelayed) + Count(MessageState::kInFlight);
  if (hidden >= kMaxInflightAndDelayedPerQueue) {
    return Status(ErrorCode::kTooManyUnacked, "too many in-flight and delayed messages");
  }
  uint64_t room = std::min<uint64_t>(max_count, kMaxInflightAndDelayedPerQueue - hidden);
  while (out.size() < room && !visible_.empty()) {
    uint64_t key = visible_.front();
    std::pop_heap(visible_.begin(), visible_.end(), std::greater<>());
    visible_.pop_back();
    MessageRecord* r = VisibleTarget(key);
    if (r == nullptr) continue;
    StartInFlight(*r, visibility_ms, now_ms);
    SetState(*r, MessageState::kInFlight);
    PushTimer(*r);
    out.push_back(Describe(*r));
  }
  CMQ_ASSERT(!out.empty(), "a visible message counted but not found");
  CleanHeapTops();
  return Status::Ok();
}

Status Queue::Reserve(uint32_t max_count, int64_t visibility_ms, int64_t now_ms,
                      std::vector<ReceivedMessage>& out, std::vector<uint64_t>& keys) {
  if (Count(MessageState::kVisible) <= reserved_.size()) {
    return Status(ErrorCode::kNoMessage, "no message");
  }
  uint64_t hidden =
      Count(MessageState::kDelayed) + Count(MessageState::kInFlight) + reserved_.size();
  if (hidden >= kMaxInflightAndDelayedPerQueue) {
    return Status(ErrorCode::kTooManyUnacked, "too many in-flight and delayed messages");
  }
  uint64_t room = std::min<uint64_t>(max_count, kMaxInflightAndDelayedPerQueue - hidden);
  const uint64_t retention_cut = RetentionCutoffSeq(now_ms);
  while (out.size() < room && !visible_.empty()) {
    uint64_t key = visible_.front();
    MessageRecord* r = VisibleTarget(key);
    // The heap serves in seq order, and messages past retention have the smallest seqs:
    // once one is on top, the rest must wait for the Advance that drops it.
    if (r != nullptr && r->seq < retention_cut) break;
    std::pop_heap(visible_.begin(), visible_.end(), std::greater<>());
    visible_.pop_back();
    if (r == nullptr) continue;
    reserved_.emplace(r->seq, key);
    keys.push_back(key);
    MessageRecord foreseen = *r;
    StartInFlight(foreseen, visibility_ms, now_ms);
    out.push_back(Describe(foreseen));
  }
  if (out.empty()) return Status(ErrorCode::kNoMessage, "no message");
  return Status::Ok();
}

void Queue::Release(const std::vector<uint64_t>& keys) {
  for (uint64_t key : keys) {
    auto it = reserved_.find(KeySeq(key));
    if (it == reserved_.end() || it->second != key) continue;
    reserved_.erase(it);
    if (MessageRecord* r = VisibleTarget(key)) PushVisible(*r);
  }
}

void Queue::ReleaseAll() {
  for (const auto& [seq, key] : reserved_) {
    if (MessageRecord* r = VisibleTarget(key)) PushVisible(*r);
  }
  reserved_.clear();
}

Status Queue::ReceiveChosen(const std::vector<uint64_t>& keys, int64_t received_at_ms,
                            int64_t visibility_ms, std::vector<ReceivedMessage>& out) {
  for (uint64_t key : keys) {
    if (!reserved_.empty()) {
      auto it = reserved_.find(KeySeq(key));
      if (it != reserved_.end() && it->second == key) reserved_.erase(it);
    }
    MessageRecord* r = VisibleTarget(key);
    if (r == nullptr) continue;  // received, deleted or expired since it was chosen
    if (Count(MessageState::kDelayed) + Count(MessageState::kInFlight) >=
        kMaxInflightAndDelayedPerQueue) {
      continue;  // the rest only lose their reservations
    }
    // A message is never received before it was sent (clocks of two leaders may differ).
    StartInFlight(*r, visibility_ms, std::max(received_at_ms, r->enqueue_ms));
    SetState(*r, MessageState::kInFlight);
    PushTimer(*r);
    out.push_back(Describe(*r));
  }
  CleanHeapTops();
  if (out.empty()) return Status(ErrorCode::kNoMessage, "no message");
  return Status::Ok();
}

Status Queue::DeleteMessage(uint64_t receipt_handle, int64_t now_ms) {
  MessageRecord* r = Find(KeySeq(receipt_handle));
  if (r == nullptr || r->state != MessageState::kInFlight ||
      r->generation() != KeyGeneration(receipt_handle) || now_ms >= r->next_visible_ms()) {
    return Status(ErrorCode::kReceiptHandleInvalid, "receipt handle is invalid");
  }
  if (rewind_ms() > 0 && r->enqueue_ms >= now_ms - rewind_ms()) {
    SetState(*r, MessageState::kDeleted);
    retained_.push_back(r->seq);
    std::push_heap(retained_.begin(), retained_.end(), std::greater<>());
  } else {
    SetState(*r, MessageState::kGone);
  }
  return Status::Ok();
}

Status Queue::Rewind(int64_t start_s, int64_t now_ms) {
  if (attributes_.rewind_seconds == 0) {
    return Status(ErrorCode::kRewindDisabled, "your queue cannot be rewinded");
  }
  // Clamp before multiplying, so that any int64 start is safe.
  int64_t start_ms = std::clamp<int64_t>(start_s, 0, int64_t{1} << 40) * 1000;
  start_ms = std::max(start_ms, now_ms - rewind_ms());
  for (uint64_t seq : retained_) {
    MessageRecord* r = RetainedTarget(seq);
    if (r == nullptr || r->enqueue_ms < start_ms) continue;
    SetState(*r, MessageState::kVisible);
    PushVisible(*r);
  }
  FilterHeap(retained_, std::greater<>(), [&](uint64_t s) { return RetainedTarget(s); });
  CleanHeapTops();
  return Status::Ok();
}

}  // namespace cmq::mq
