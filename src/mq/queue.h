#pragma once
// Internal to mq/: one queue's messages and the indexes over them (docs/queue-model.md).
// Mutating calls take the clamped time of the command being applied; callers run
// Advance(now_ms) first, so that expired messages are gone and due ones are visible.
// Reads are const and answer "as if Advance(now_ms) had run", without running it.

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/encoding.h"
#include "common/result.h"
#include "common/status.h"
#include "mq/message_record.h"
#include "mq/state_machine.h"

namespace cmq::mq {

class Queue {
 public:
  // id_base is (group id << kMessageSeqBits): message ids are id_base | seq.
  Queue(std::string id, std::string name, const QueueAttributes& attributes, int64_t now_ms,
        uint64_t id_base);

  const std::string& id() const { return id_; }
  const std::string& name() const { return name_; }
  const QueueAttributes& attributes() const { return attributes_; }
  // REQUIRES: attributes passed ValidateAttributes.
  void SetAttributes(const QueueAttributes& attributes, int64_t now_ms);

  // Drops messages past retention and deleted ones past the rewind window, turns due
  // delayed/in-flight messages visible, and trims the indexes.
  void Advance(int64_t now_ms);

  // kHeapFull / kTooManyUnacked if count more messages with this delay do not fit.
  Status CheckSend(uint64_t count, int64_t delay_seconds) const;
  // REQUIRES: CheckSend passed; seq greater than every seq in this queue.
  void Enqueue(uint64_t seq, const BodyLocation& body, int64_t now_ms, int64_t delay_seconds);
  // Moves up to max_count visible messages (oldest id first) in flight until
  // now + visibility_ms. kNoMessage if none is visible, kTooManyUnacked if none may go.
  Status Receive(uint32_t max_count, int64_t visibility_ms, int64_t now_ms,
                 std::vector<ReceivedMessage>& out);
  // Receives answered before their commit (docs/queue-model.md). The leader reserves up to
  // max_count visible messages (oldest id first) for a receive at now_ms: they leave its
  // visible heap, so no other receive takes them, and keys gets the visible stay of each
  // (to go into a kReceiveChosen command), out what ReceiveChosen will make of them.
  // kNoMessage if none can be reserved (none visible, or the oldest is past retention and
  // the next Advance drops it), kTooManyUnacked if none may go in flight. Reservations are
  // not part of the replicated state: they only keep a leader from choosing a message twice.
  Status Reserve(uint32_t max_count, int64_t visibility_ms, int64_t now_ms,
                 std::vector<ReceivedMessage>& out, std::vector<uint64_t>& keys);
  // Gives reserved stays back to the visible heap (their receive was not proposed).
  void Release(const std::vector<uint64_t>& keys);
  void ReleaseAll();
  // Applies a kReceiveChosen: puts in flight, until received_at_ms + visibility_ms, each
  // message whose visible stay keys names (skipping the others: received, deleted or
  // expired since), as far as the in-flight cap allows. received_at_ms is not later than
  // now_ms. kNoMessage if none went in flight.
  Status ReceiveChosen(const std::vector<uint64_t>& keys, int64_t received_at_ms,
                       int64_t visibility_ms, std::vector<ReceivedMessage>& out);
  // kReceiptHandleInvalid unless the handle names the current receive of an in-flight
  // message whose visibility deadline is still ahead.
  Status DeleteMessage(uint64_t receipt_handle, int64_t now_ms);
  // Makes retained deleted messages enqueued at or after start visible again.
  Status Rewind(int64_t start_s, int64_t now_ms);

  // Transaction messages. REQUIRES (EnqueueHalf): CheckSend(count, 0) passed; seq as for
  // Enqueue; check_ms in [kTransactionCheckMsMin, kTransactionCheckMsMax]; producer at most
  // kMaxProducerIdLength bytes; sent_as the queue's name as the producer wrote it (names
  // compare case-insensitively, but the SDK finds its checker by the name it used). The
  // message stays hidden until Confirm commits it.
  void EnqueueHalf(uint64_t seq, const BodyLocation& body, int64_t now_ms, int64_t check_ms,
                   const std::string& producer, const std::string& sent_as);
  // Commits (visible now) or rolls back (discarded) the half message seq; false if seq
  // names no half message (unknown, already confirmed, rolled back or expired).
  bool Confirm(uint64_t seq, bool commit);

  // Moving bodies forward (docs/queue-model.md "Moving old bodies forward"). A message to
  // move: its seq, the log index its body was in when the move was proposed, and where the
  // body is now.
  struct Move {
    uint64_t seq = 0;
    uint64_t from_log_index = 0;
    BodyLocation to;
  };
  // Points every record held (tombstones aside) at its new body, if moves (in seq order)
  // name every one of them, each still at from_log_index with a body of the same length;
  // moves of records gone since are skipped. Otherwise (a message was sent since, or a
  // body already moved) nothing changes and false is returned. All or nothing keeps the
  // log indexes of records_ in order: the moved ones all point into one entry, and any
  // later send into a later one.
  bool MoveBodies(const std::vector<Move>& moves);
  // Every record held (tombstones aside), in seq order: seq and body. For proposing a
  // move; the caller bounds how many it takes (count first).
  std::vector<std::pair<uint64_t, BodyLocation>> HeldBodies() const;
  // A check-back due: whom to ask about which message, under which queue name.
  struct DueCheck {
    uint64_t seq = 0;
    std::string producer;
    std::string queue_name;  // as the producer sent it
  };
  // The check-backs that became due in Advance since the last call, in the order they fell
  // due. The state machine hands them to the node, which asks the producers.
  std::vector<DueCheck> TakeDueChecks();

  // Counters, times and attributes at now_ms.
  void FillInfo(int64_t now_ms, QueueInfo& info) const;
  bool HasVisibleMessage(int64_t now_ms) const;
  std::optional<int64_t> NextDueMs() const;
  // Records held, tombstones excluded (undeleted plus retained for rewind).
  uint64_t retained_count() const { return records_.size() - Count(MessageState::kGone); }

  // Snapshots (snapshot.cc, docs/snapshot-format.md). The smallest log index of a record
  // held (tombstones excluded), or nullopt if none.
  std::optional<uint64_t> OldestLogIndex() const;
  // Appends this queue's part of a snapshot: everything but the indexes.
  void AppendSnapshot(std::string& out) const;
  // The bounds a restored queue's records must keep to: the state machine's counters.
  struct RestoreBounds {
    uint64_t id_base = 0;
    uint64_t last_seq = 0;
    uint64_t last_index = 0;
    int64_t last_now_ms = 0;
    bool half_records = true;  // false for snapshots older than transaction messages
  };
  // Reads one queue's part of a snapshot and rebuilds its indexes; kCorruption if it is
  // malformed or breaks the bounds or an invariant.
  static Result<std::unique_ptr<Queue>> ReadSnapshot(Reader& in, const RestoreBounds& bounds);

 private:
  // A half message's producer and its check-backs so far. The first check interval is
  // kept: later gaps are derived from it (limits.h).
  struct HalfInfo {
    std::string producer;
    int64_t check_ms = 0;
    uint32_t checks = 0;
    std::string sent_as;  // the queue name as sent, when it differs from name_ (else empty)
  };

  uint64_t Count(MessageState s) const { return counts_[static_cast<size_t>(s)]; }
  // Undeleted: visible, delayed, in flight or half (what maxMsgHeapNum bounds).
  uint64_t Undeleted() const {
    return Count(MessageState::kVisible) + Count(MessageState::kDelayed) +
           Count(MessageState::kInFlight) + Count(MessageState::kHalf);
  }
  void SetState(MessageRecord& r, MessageState s);
  int64_t retention_ms() const { return attributes_.msg_retention_seconds * 1000; }
  int64_t rewind_ms() const { return attributes_.rewind_seconds * 1000; }

  // Lookups (queue_read.cc). A heap entry is stale unless its record still exists in the
  // state, and with the generation, the entry was pushed for.
  const MessageRecord* Find(uint64_t seq) const;
  MessageRecord* Find(uint64_t seq);
  MessageRecord* VisibleTarget(uint64_t key);
  MessageRecord* TimerTarget(const TimerEntry& e);
  MessageRecord* RetainedTarget(uint64_t seq);
  MessageRecord* CheckTarget(const TimerEntry& e);
  const MessageRecord* CheckTarget(const TimerEntry& e) const;
  const MessageRecord* VisibleTarget(uint64_t key) const;
  const MessageRecord* TimerTarget(const TimerEntry& e) const;
  const MessageRecord* RetainedTarget(uint64_t seq) const;
  // The seq of the first record with enqueue_ms > threshold_ms (all smaller seqs are at or
  // before the threshold); UINT64_MAX if none.
  uint64_t FirstSeqAfter(int64_t threshold_ms) const;
  uint64_t RetentionCutoffSeq(int64_t now_ms) const;
  uint64_t RewindCutoffSeq(int64_t now_ms) const;

  void DropExpired(int64_t now_ms);
  void DropRewindExpired(int64_t now_ms);
  void PromoteDue(int64_t now_ms);
  // Due half messages: a check-back (into due_checks_) and the next one scheduled, or,
  // after the last, a rollback.
  void RunChecks(int64_t now_ms);
  void PushCheck(MessageRecord& r);
  // Leaves kHalf: the record takes state s and its half-table entry goes.
  void EndHalf(MessageRecord& r, MessageState s);
  void CleanHeapTops();
  void Compact();
  // A new record at the end of records_ (seq and time checked), counted in state; the
  // caller puts it in the index of that state.
  MessageRecord& Append(uint64_t seq, const BodyLocation& body, int64_t now_ms, MessageState state,
                        uint32_t next_visible_offset_ms);
  // The receive of one message at now_ms (dequeue count, first dequeue, deadline): on the
  // record alone, so that Reserve can foresee it on a copy.
  static void StartInFlight(MessageRecord& r, int64_t visibility_ms, int64_t now_ms);
  ReceivedMessage Describe(const MessageRecord& r) const;
  void PushVisible(MessageRecord& r);
  void PushTimer(MessageRecord& r);

  // Restores what is not in a snapshot: counts_ and the heaps, from records_.
  void RebuildIndexes();

  std::string id_;
  std::string name_;
  QueueAttributes attributes_;
  int64_t create_time_s_ = 0;
  int64_t last_modify_time_s_ = 0;
  uint64_t id_base_ = 0;

  std::deque<MessageRecord> records_;  // increasing seq (and non-decreasing enqueue_ms)
  std::array<uint64_t, kMessageStateCount> counts_{};  // records_ per MessageState
  std::vector<uint64_t> visible_;                  // min-heap (std::greater) of HeapKey of kVisible
  std::vector<TimerEntry> timers_;                 // min-heap by due time of kDelayed / kInFlight
  std::vector<uint64_t> retained_;                 // min-heap (std::greater) of seq of kDeleted
  std::vector<TimerEntry> checks_;                 // min-heap by next check-back of kHalf
  std::unordered_map<uint64_t, HalfInfo> halves_;  // by seq: every kHalf record
  std::vector<DueCheck> due_checks_;               // not in snapshots
  // Leader only, not in snapshots: the visible stays reserved for receives proposed but not
  // yet applied (by seq). They are out of visible_, and count as in flight for the cap.
  std::unordered_map<uint64_t, uint64_t> reserved_;
};

}  // namespace cmq::mq
