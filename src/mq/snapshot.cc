// Snapshots of the state machine: Snapshot, Restore, OldestReferencedLogIndex and the
// per-queue parts. The format, byte by byte: docs/snapshot-format.md.
#include <algorithm>
#include <functional>
#include <limits>
#include <string>

#include "common/checksum.h"
#include "common/encoding.h"
#include "mq/attributes.h"
#include "mq/limits.h"
#include "mq/message_record.h"
#include "mq/queue.h"
#include "mq/state_machine_impl.h"
#include "mq/topic_snapshot.h"

namespace cmq::mq {
namespace {

constexpr std::string_view kMagic = "CMQS";
// Version 3 added half messages (kHalfBit records); version 2 added the topic section after
// the queues. Versions 1 (no topics) and 2 (no half messages) are still read.
constexpr uint8_t kSnapshotVersion = 3;
constexpr uint8_t kSnapshotVersionWithoutHalves = 2;
constexpr uint8_t kSnapshotVersionWithoutTopics = 1;
// magic(4) version(1) body length(8) checksum(4).
constexpr size_t kVersionAt = 4;
constexpr size_t kLengthAt = 5;
constexpr size_t kChecksumAt = 13;
constexpr size_t kHeaderBytes = 17;

// Record tag: the state in bits 0-1, kDequeuedBit when dequeue count and first dequeue time
// follow; kHalfBit (alone) for a half message, whose check-back state follows; the other
// bits are zero.
constexpr uint8_t kStateMask = 0x3;
constexpr uint8_t kDequeuedBit = 0x4;
constexpr uint8_t kHalfBit = 0x8;
// A record is at least its tag and five one-byte varints.
constexpr uint64_t kMinRecordBytes = 6;
// What Snapshot reserves per record and per queue; typical records take 7-12 bytes.
constexpr uint64_t kReserveRecordBytes = 16;
constexpr uint64_t kReserveQueueBytes = 160;
// Queue ids are "queue-" plus up to 13 base-36 digits.
constexpr size_t kMaxQueueIdLength = 64;

Status Corrupt(std::string what) {
  return Status(ErrorCode::kCorruption, "snapshot: " + std::move(what));
}

// The checksum covers the header up to the checksum field, then the body.
uint32_t SnapshotChecksum(std::string_view snapshot) {
  return Checksum32(snapshot.substr(0, kChecksumAt), snapshot.substr(kHeaderBytes));
}

// value += delta if the sum stays at or below bound (all unsigned: no overflow).
bool AddWithin(uint64_t& value, uint64_t delta, uint64_t bound) {
  if (value > bound || delta > bound - value) return false;
  value += delta;
  return true;
}

}  // namespace

std::optional<uint64_t> Queue::OldestLogIndex() const {
  // Log indexes do not decrease along records_ (sends are applied in log order), and
  // tombstones at the front are popped after every command: this loop is short.
  for (const MessageRecord& r : records_) {
    if (r.state != MessageState::kGone) return r.log_index;
  }
  return std::nullopt;
}

void Queue::AppendSnapshot(std::string& out) const {
  PutLengthPrefixed(out, id_);
  PutLengthPrefixed(out, name_);
  for (int64_t v : {attributes_.max_msg_heap_num, attributes_.polling_wait_seconds,
                    attributes_.visibility_timeout, attributes_.max_msg_size,
                    attributes_.msg_retention_seconds, attributes_.rewind_seconds}) {
    PutVarint64(out, static_cast<uint64_t>(v));
  }
  PutVarint64(out, static_cast<uint64_t>(create_time_s_));
  PutVarint64(out, static_cast<uint64_t>(last_modify_time_s_));
  PutVarint64(out, retained_count());
  uint64_t prev_seq = 0;
  uint64_t prev_log_index = 0;
  uint64_t prev_enqueue_ms = 0;
  for (const MessageRecord& r : records_) {
    if (r.state == MessageState::kGone) continue;
    bool dequeued = r.dequeue_count > 0;
    const bool half = r.state == MessageState::kHalf;
    out.push_back(static_cast<char>(
        half ? kHalfBit : static_cast<uint8_t>(r.state) | (dequeued ? kDequeuedBit : 0)));
    PutVarint64(out, r.seq - prev_seq);
    PutVarint64(out, r.log_index - prev_log_index);
    PutVarint64(out, static_cast<uint64_t>(r.enqueue_ms) - prev_enqueue_ms);
    PutVarint64(out, r.body_offset);
    PutVarint64(out, r.body_length);
    if (r.hidden() || half) PutVarint64(out, r.next_visible_offset_ms);
    if (half) {
      const HalfInfo& info = halves_.at(r.seq);
      PutVarint64(out, info.checks);
      PutVarint64(out, static_cast<uint64_t>(info.check_ms));
      PutLengthPrefixed(out, info.producer);
      PutLengthPrefixed(out, info.sent_as);
    }
    if (dequeued) {
      PutVarint64(out, r.dequeue_count);
      PutVarint64(out, r.first_dequeue_offset_ms);
    }
    prev_seq = r.seq;
    prev_log_index = r.log_index;
    prev_enqueue_ms = static_cast<uint64_t>(r.enqueue_ms);
  }
}

Result<std::unique_ptr<Queue>> Queue::ReadSnapshot(Reader& in, const RestoreBounds& bounds) {
  std::string_view id;
  std::string_view name;
  if (!in.LengthPrefixed(id) || id.empty() || id.size() > kMaxQueueIdLength) {
    return Corrupt("bad queue id");
  }
  if (!in.LengthPrefixed(name) || !ValidateQueueName(name).ok()) {
    return Corrupt("bad queue name");
  }
  QueueAttributeUpdate update;
  for (std::optional<int64_t>* field :
       {&update.max_msg_heap_num, &update.polling_wait_seconds, &update.visibility_timeout,
        &update.max_msg_size, &update.msg_retention_seconds, &update.rewind_seconds}) {
    uint64_t v;
    if (!in.Varint64(v) || v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Corrupt("bad attributes of queue " + std::string(name));
    }
    *field = static_cast<int64_t>(v);
  }
  Result<QueueAttributes> attributes = ApplyAttributeUpdate(DefaultQueueAttributes(), update);
  if (!attributes.ok()) {
    return Corrupt("queue " + std::string(name) + ": " + attributes.status().message());
  }
  uint64_t create_s;
  uint64_t modify_s;
  uint64_t count;
  uint64_t last_now_s = static_cast<uint64_t>(bounds.last_now_ms / 1000);
  if (!in.Varint64(create_s) || !in.Varint64(modify_s) || create_s > modify_s ||
      modify_s > last_now_s) {
    return Corrupt("bad times of queue " + std::string(name));
  }
  if (!in.Varint64(count) || count > in.remaining() / kMinRecordBytes) {
    return Corrupt("bad record count of queue " + std::string(name));
  }
  auto q =
      std::make_unique<Queue>(std::string(id), std::string(name), *attributes, 0, bounds.id_base);
  q->create_time_s_ = static_cast<int64_t>(create_s);
  q->last_modify_time_s_ = static_cast<int64_t>(modify_s);

  uint64_t seq = 0;
  uint64_t log_index = 0;
  uint64_t enqueue_ms = 0;
  auto last_now = static_cast<uint64_t>(bounds.last_now_ms);
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view tag_byte;
    uint64_t seq_delta;
    uint64_t log_delta;
    uint64_t enqueue_delta;
    MessageRecord r;
    if (!in.Bytes(1, tag_byte) || !in.Varint64(seq_delta) || !in.Varint64(log_delta) ||
        !in.Varint64(enqueue_delta) || !in.Varint(r.body_offset) || !in.Varint(r.body_length)) {
      return Corrupt("truncated record in queue " + std::string(name));
    }
    auto tag = static_cast<uint8_t>(tag_byte[0]);
    const bool half = tag == kHalfBit && bounds.half_records;
    if (!half && (tag & ~(kStateMask | kDequeuedBit)) != 0) return Corrupt("bad record tag");
    r.state = half ? MessageState::kHalf : static_cast<MessageState>(tag & kStateMask);
    bool dequeued = (tag & kDequeuedBit) != 0;
    // Seqs increase and stay minted; log indexes and enqueue times do not decrease and
    // stay applied.
    if (seq_delta == 0 || !AddWithin(seq, seq_delta, bounds.last_seq) ||
        !AddWithin(log_index, log_delta, bounds.last_index) ||
        !AddWithin(enqueue_ms, enqueue_delta, last_now)) {
      return Corrupt("record out of order or out of bounds in queue " + std::string(name));
    }
    r.seq = seq;
    r.log_index = log_index;
    r.enqueue_ms = static_cast<int64_t>(enqueue_ms);
    if ((r.hidden() || half) && !in.Varint(r.next_visible_offset_ms)) {
      return Corrupt("truncated record");
    }
    if (half) {
      HalfInfo info;
      uint64_t check_ms;
      std::string_view producer;
      std::string_view sent_as;
      if (!in.Varint(info.checks) || info.checks > kTransactionMaxChecks ||
          !in.Varint64(check_ms) || check_ms < uint64_t{kTransactionCheckMsMin} ||
          check_ms > uint64_t{kTransactionCheckMsMax} || !in.LengthPrefixed(producer) ||
          producer.size() > kMaxProducerIdLength || r.next_visible_offset_ms == 0 ||
          !in.LengthPrefixed(sent_as) ||
          (!sent_as.empty() && (sent_as == name || NameKey(sent_as) != NameKey(name)))) {
        return Corrupt("bad half message in queue " + std::string(name));
      }
      info.check_ms = static_cast<int64_t>(check_ms);
      info.producer.assign(producer);
      info.sent_as.assign(sent_as);
      q->halves_.emplace(seq, std::move(info));
    }
    if (dequeued && (!in.Varint(r.dequeue_count) || r.dequeue_count == 0 ||
                     !in.Varint(r.first_dequeue_offset_ms))) {
      return Corrupt("bad dequeue count");
    }
    // Only a receive moves a message in flight (and so, later, deleted); delay is only set
    // by a send.
    if (r.state != MessageState::kVisible &&
        dequeued != (r.state == MessageState::kInFlight || r.state == MessageState::kDeleted)) {
      return Corrupt("record state disagrees with its dequeue count");
    }
    if (r.state == MessageState::kDeleted && attributes->rewind_seconds == 0) {
      return Corrupt("a message retained for rewind in a queue without rewind");
    }
    q->records_.push_back(r);
  }
  q->RebuildIndexes();
  return q;
}

void Queue::RebuildIndexes() {
  counts_ = {};
  for (const MessageRecord& r : records_) ++counts_[static_cast<size_t>(r.state)];
  visible_.clear();
  timers_.clear();
  retained_.clear();
  checks_.clear();
  visible_.reserve(Count(MessageState::kVisible));
  timers_.reserve(Count(MessageState::kDelayed) + Count(MessageState::kInFlight));
  retained_.reserve(Count(MessageState::kDeleted));
  for (MessageRecord& r : records_) {
    switch (r.state) {
      case MessageState::kVisible:
        visible_.push_back(HeapKey(r.seq, r.generation()));
        break;
      case MessageState::kDelayed:
      case MessageState::kInFlight:
        timers_.push_back(TimerEntry{
            static_cast<int64_t>(static_cast<uint64_t>(r.enqueue_ms) + r.next_visible_offset_ms),
            HeapKey(r.seq, r.generation())});
        break;
      case MessageState::kDeleted:
        retained_.push_back(r.seq);
        break;
      case MessageState::kHalf:
        checks_.push_back(TimerEntry{r.next_visible_ms(), HeapKey(r.seq, 0)});
        break;
      case MessageState::kGone:
        break;
    }
  }
  std::make_heap(checks_.begin(), checks_.end());
  // Keys and seqs come in increasing order, which already is a min-heap; timers are not.
  std::make_heap(visible_.begin(), visible_.end(), std::greater<>());
  std::make_heap(timers_.begin(), timers_.end());
  std::make_heap(retained_.begin(), retained_.end(), std::greater<>());
}

std::string StateMachine::Snapshot() const {
  const Impl& s = *impl_;
  std::string out;
  out.reserve(kHeaderBytes + 64 + s.queues.size() * kReserveQueueBytes +
              message_count() * kReserveRecordBytes);
  out.append(kMagic);
  out.push_back(static_cast<char>(kSnapshotVersion));
  PutFixed64(out, 0);  // body length and checksum, filled in below
  PutFixed32(out, 0);
  PutVarint64(out, s.id_base >> kMessageSeqBits);
  PutVarint64(out, s.last_seq);
  PutVarint64(out, s.queues_created);
  PutVarint64(out, s.last_index);
  PutVarint64(out, static_cast<uint64_t>(s.last_now_ms));
  PutVarint64(out, s.queues.size());
  for (const auto& [key, q] : s.queues) q->AppendSnapshot(out);
  AppendTopicsSnapshot(s.topics, s.topics_created, s.subscriptions_created, out);
  EncodeFixed64(&out[kLengthAt], out.size() - kHeaderBytes);
  EncodeFixed32(&out[kChecksumAt], SnapshotChecksum(out));
  return out;
}

Result<std::unique_ptr<StateMachine>> StateMachine::Restore(std::string_view snapshot,
                                                            uint32_t group_count) {
  group_count = std::max(group_count, 1u);
  if (snapshot.size() < kHeaderBytes) return Corrupt("shorter than its header");
  if (snapshot.substr(0, kMagic.size()) != kMagic) return Corrupt("bad magic");
  auto version = static_cast<uint8_t>(snapshot[kVersionAt]);
  if (version != kSnapshotVersion && version != kSnapshotVersionWithoutHalves &&
      version != kSnapshotVersionWithoutTopics) {
    return Corrupt("unsupported version " + std::to_string(version));
  }
  if (DecodeFixed64(&snapshot[kLengthAt]) != snapshot.size() - kHeaderBytes) {
    return Corrupt("length mismatch (truncated or extended)");
  }
  if (DecodeFixed32(&snapshot[kChecksumAt]) != SnapshotChecksum(snapshot)) {
    return Corrupt("checksum mismatch");
  }
  Reader in(snapshot.substr(kHeaderBytes));
  uint64_t group_id;
  uint64_t last_seq;
  uint64_t queues_created;
  uint64_t last_index;
  uint64_t last_now_ms;
  uint64_t queue_count;
  if (!in.Varint64(group_id) || !in.Varint64(last_seq) || !in.Varint64(queues_created) ||
      !in.Varint64(last_index) || !in.Varint64(last_now_ms) || !in.Varint64(queue_count)) {
    return Corrupt("truncated group header");
  }
  if (group_id >= (uint64_t{1} << (64 - kMessageSeqBits)) || last_seq > kMaxMessageSeq ||
      queues_created > kMaxMessageSeq || queue_count > kMaxQueues || queue_count > queues_created ||
      last_now_ms > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Corrupt("group header out of range");
  }
  if (group_count > 1 && (group_id < 1 || group_id > group_count)) {
    return Corrupt("group " + std::to_string(group_id) + " is not a data group of " +
                   std::to_string(group_count));
  }
  auto sm = std::make_unique<StateMachine>(static_cast<uint32_t>(group_id), group_count);
  Impl& s = *sm->impl_;
  s.last_seq = last_seq;
  s.queues_created = queues_created;
  s.last_index = last_index;
  s.last_now_ms = static_cast<int64_t>(last_now_ms);
  Queue::RestoreBounds bounds{s.id_base, last_seq, last_index, s.last_now_ms,
                              version >= kSnapshotVersion};
  for (uint64_t i = 0; i < queue_count; ++i) {
    Result<std::unique_ptr<Queue>> q = Queue::ReadSnapshot(in, bounds);
    if (!q.ok()) return q.status();
    if (!s.Holds((*q)->name())) return Corrupt("queue " + (*q)->name() + " of another group");
    std::string key = NameKey((*q)->name());
    if (!s.queues.emplace(std::move(key), std::move(*q)).second) {
      return Corrupt("duplicate queue name");
    }
  }
  if (version >= kSnapshotVersionWithoutHalves) {
    Status st = ReadTopicsSnapshot(in, bounds, s.topics, s.topics_created, s.subscriptions_created);
    if (!st.ok()) return st;
    st = CheckTopicPlacement(s.topics, s.group_id, s.group_count);
    if (!st.ok()) return st;
  }
  if (!in.empty()) return Corrupt("trailing bytes");
  return sm;
}

uint64_t StateMachine::OldestReferencedLogIndex() const {
  uint64_t oldest = impl_->last_index + 1;
  for (const auto& [key, q] : impl_->queues) {
    if (std::optional<uint64_t> index = q->OldestLogIndex()) oldest = std::min(oldest, *index);
  }
  // Bodies of pending pushes (copies in this group's queues are queue records, counted
  // above).
  for (const auto& [key, t] : impl_->topics) {
    if (std::optional<uint64_t> index = t->OldestLogIndex()) oldest = std::min(oldest, *index);
  }
  return oldest;
}

std::vector<StateMachine::QueueBodies> StateMachine::BodiesPinningLogBelow(
    uint64_t below, size_t max_messages, uint64_t max_bytes) const {
  std::vector<QueueBodies> out;
  for (const auto& [key, q] : impl_->queues) {
    std::optional<uint64_t> oldest = q->OldestLogIndex();
    if (!oldest || *oldest >= below || q->retained_count() > max_messages) continue;
    QueueBodies item;
    item.queue_name = q->name();
    uint64_t bytes = 0;
    for (const auto& [seq, body] : q->HeldBodies()) {
      bytes += body.length;
      item.moves.push_back(BodyMove{impl_->id_base | seq, body.log_index});
      item.bodies.push_back(body);
    }
    if (bytes <= max_bytes) out.push_back(std::move(item));
  }
  return out;
}

}  // namespace cmq::mq
