#pragma once
// The queue model as a deterministic replicated state machine (DESIGN.md "Time, receives
// and ids"). Every replica applies the same commands with the same timestamps and reaches
// the same state: no clock, no I/O, no randomness here. "Visible", "delayed" and "expired"
// are decided lazily from the time of the command being applied.
//
// Memory: message bodies stay in the log. Per retained message the state keeps a small
// fixed-size record (id, body location, times, dequeue count): see docs/queue-model.md for
// the measured bytes per message.
//
// Threads: not thread-safe; one owner (the group's strand) calls everything.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "mq/command.h"

namespace cmq::mq {

// Where a message body is: bytes [offset, offset+length) of the payload of log entry
// log_index.
struct BodyLocation {
  uint64_t log_index = 0;
  uint32_t offset = 0;
  uint32_t length = 0;
  bool operator==(const BodyLocation&) const = default;
};

struct ApplyContext {
  int64_t now_ms = 0;        // the entry's timestamp (clamped to be non-decreasing inside)
  uint64_t log_index = 0;    // the entry being applied
  std::string_view payload;  // the entry's payload; command body views point into it
};

struct ReceivedMessage {
  uint64_t msg_id = 0;
  uint64_t receipt_handle = 0;
  BodyLocation body;
  int64_t enqueue_time_ms = 0;
  int64_t next_visible_time_ms = 0;
  int64_t first_dequeue_time_ms = 0;
  uint32_t dequeue_count = 0;
};

struct DeleteFailure {
  uint64_t receipt_handle = 0;
  Status status;
};

// A half message due for a check-back: ask its producer (a TCP client id) whether to commit
// it (spec/cmq-tcp-protocol.md §6.10).
struct TransactionCheck {
  std::string queue_name;  // as created
  uint64_t msg_id = 0;
  std::string producer;
  bool operator==(const TransactionCheck&) const = default;
};

struct ApplyResult {
  Status status;         // the command's outcome
  std::string queue_id;  // kCreateQueue
  // kSendMessages and kSendHalfMessages: in body order. kConfirmTransaction: the messages
  // committed (made visible) by it. kMoveBodies: the messages moved (all or none; none when
  // the queue changed since the move was proposed).
  std::vector<uint64_t> msg_ids;
  // kReceiveMessages and kReceiveChosen (kNoMessage if none).
  std::vector<ReceivedMessage> messages;
  // kDeleteMessages: only the failed handles, in request order. When any handle failed,
  // status is kReceiptHandleInvalid too (the handles that did not fail were deleted);
  // when the command as a whole is refused (no such queue, 0 or >16 handles), status says
  // so and this list is empty.
  std::vector<DeleteFailure> delete_failures;
  std::string topic_id;         // kCreateTopic
  std::string subscription_id;  // kSubscribe
  // kPublishMessages: the queues (lower-case names) that received messages through queue
  // subscriptions, so that the node can wake their parked receivers.
  std::vector<std::string> queues_fed;
  // Check-backs that fell due while this command was applied (any command on a queue, and
  // Housekeeping for all queues). Every replica computes the same ones; the node asks the
  // producers (docs/tcp-protocol.md "Transaction messages").
  std::vector<TransactionCheck> transaction_checks;
};

struct QueueAttributes {
  int64_t max_msg_heap_num = 0;
  int64_t polling_wait_seconds = 0;
  int64_t visibility_timeout = 0;
  int64_t max_msg_size = 0;
  int64_t msg_retention_seconds = 0;
  int64_t rewind_seconds = 0;
};

struct QueueInfo {
  std::string queue_id;
  std::string queue_name;  // as created (names compare case-insensitively)
  QueueAttributes attributes;
  int64_t create_time_s = 0;
  int64_t last_modify_time_s = 0;
  // Counters at the time asked for.
  uint64_t active_msg_num = 0;       // visible now
  uint64_t inactive_msg_num = 0;     // received, hidden until their visibility timeout
  uint64_t delay_msg_num = 0;        // not yet visible because of delaySeconds
  uint64_t rewind_msg_num = 0;       // deleted but retained for rewind
  uint64_t transaction_msg_num = 0;  // half messages waiting for their producer's confirm
  int64_t min_msg_time_s = 0;        // enqueue time of the oldest undeleted message; 0 if none
};

struct QueueListing {
  uint64_t total_count = 0;                                 // queues matching the search word
  std::vector<std::pair<std::string, std::string>> queues;  // (queue id, queue name) page
};

struct TopicInfo {
  std::string topic_id;
  std::string topic_name;  // as created (names compare case-insensitively)
  int64_t max_msg_size = 0;
  int64_t msg_retention_seconds = 0;  // fixed 86400 in CMQ API 2.0
  int64_t filter_type = 1;            // 1 tags, 2 routing keys
  int64_t create_time_s = 0;
  int64_t last_modify_time_s = 0;
  // Distinct published messages still pending for at least one push: to an HTTP subscription,
  // or a copy for a queue subscription whose queue is in another data group. (Copies for
  // queues of this group are in their queues at once and never counted here.)
  uint64_t msg_count = 0;
};

struct TopicListing {
  uint64_t total_count = 0;
  std::vector<std::pair<std::string, std::string>> topics;  // (topic id, topic name) page
};

struct SubscriptionInfo {
  std::string subscription_id;
  std::string subscription_name;
  std::string topic_name;
  std::string protocol;  // "queue" | "http"
  std::string endpoint;
  std::string notify_strategy;
  std::string notify_content_format;
  std::vector<std::string> filter_tags;
  std::vector<std::string> binding_keys;
  int64_t create_time_s = 0;
  int64_t last_modify_time_s = 0;
  // Messages waiting to be pushed: HTTP, or queue subscriptions whose queue is in another
  // data group; 0 for queues of this group (their copies are enqueued at publish).
  uint64_t msg_count = 0;
  // Copies this subscription lost: its endpoint queue was gone, full (maxMsgHeapNum) or had
  // a smaller maxMsgSize; or a push was given up (PushResult next_attempt_ms 0) or outlived
  // the topic's retention. Not a CMQ field; for operators.
  uint64_t dropped_msg_count = 0;
};

struct SubscriptionListing {
  uint64_t total_count = 0;
  std::vector<SubscriptionInfo> subscriptions;  // the page
};

// One push that is due: what the leader's pusher needs to deliver it. protocol "http": POST
// it to endpoint. protocol "queue": endpoint names a queue placed on another data group
// (placement.h); send the body there as a SendMessage. Either way the outcome comes back as
// a kPushResults command; the retry schedule (next_attempt_ms) is the pusher's choice.
struct PendingPush {
  std::string protocol;  // "http" | "queue"
  std::string topic_name;
  std::string subscription_name;
  std::string endpoint;
  std::string notify_content_format;
  std::string notify_strategy;
  uint64_t msg_id = 0;
  BodyLocation body;
  std::vector<std::string> msg_tags;
  int64_t publish_time_ms = 0;
  uint32_t attempts = 0;  // failed attempts so far
};

class StateMachine {
 public:
  // group_id goes into the high bits of every message id this group mints. group_count is
  // the number of data groups in the cluster (a cluster constant, not in snapshots): with
  // more than one, this machine holds only the queues and topics placed on group_id
  // (placement.h) and group_id must be in 1..group_count (asserted). With one (or 0, taken
  // as 1) it holds everything, whatever group_id is.
  explicit StateMachine(uint32_t group_id, uint32_t group_count = 1);
  ~StateMachine();
  StateMachine(const StateMachine&) = delete;
  StateMachine& operator=(const StateMachine&) = delete;

  // Applies one command. Never fails as a whole: errors come back in ApplyResult::status.
  // REQUIRES: ctx.log_index is not less than that of any earlier call (the commands of one
  // entry share it); every body view of a kSendMessages or kPublishMessages command points
  // into ctx.payload (as DecodeEntry's views do), and ctx.payload is shorter than 4 GiB.
  ApplyResult Apply(const Command& cmd, const ApplyContext& ctx);

  // Receives answered before their commit (docs/queue-model.md): the leader chooses the
  // messages of a client's receive (kReceiveMessages) at now_ms and proposes the returned
  // kReceiveChosen, which every replica applies alike. Until it is applied, the chosen
  // messages are reserved here: no other ReserveReceive returns them, and they count as in
  // flight. Errors as the receive's apply would give: kQueueNotExist, kInvalidArgument
  // (count or visibility timeout), kNoMessage (none can be reserved now; HasVisibleMessage
  // tells whether a kReceiveChosen without messages, which brings the queue up to its time,
  // would make some visible), kTooManyUnacked. Not a replicated change: call it only on the
  // leader, and only once the log holds no receive chosen otherwise (a kReceiveMessages)
  // that is not yet applied.
  struct Reservation {
    Command command;                        // the kReceiveChosen to propose
    std::vector<ReceivedMessage> messages;  // what it will receive, in order
  };
  Result<Reservation> ReserveReceive(const Command& receive, int64_t now_ms);
  // Gives back the messages of a kReceiveChosen that was not proposed after all.
  // REQUIRES: no ReleaseReservations since it was reserved (the same messages may be
  // reserved again since, under the same keys).
  void ReleaseReservation(const Command& chosen);
  // Gives back every reservation (leadership lost: the proposals may never be applied).
  void ReleaseReservations();

  // Pure reads of the applied state at time now_ms (which may be later than the last
  // applied entry; reads never change the state).
  Result<QueueInfo> GetQueue(std::string_view queue_name, int64_t now_ms) const;
  QueueListing ListQueues(std::string_view search_word, uint64_t offset, uint64_t limit) const;
  bool QueueExists(std::string_view queue_name) const;
  // A queue's attributes without the counters (O(1); GetQueue counts due timers by a scan).
  std::optional<QueueAttributes> GetAttributes(std::string_view queue_name) const;
  // True if a receive applied at now_ms would find a message (the in-flight cap aside),
  // not counting reserved ones.
  // O(log n) unless the queue holds visible messages past retention not yet dropped.
  bool HasVisibleMessage(std::string_view queue_name, int64_t now_ms) const;
  // The earliest time after which a currently delayed or in-flight message of the queue
  // becomes visible; nullopt if none (long polls wait for this or a send). As of the last
  // applied command: it may already be past (that message is visible now), or name a
  // message that expires first (a spurious wake-up). O(1).
  std::optional<int64_t> NextDueMs(std::string_view queue_name) const;

  uint32_t group_count() const;
  uint64_t last_applied_index() const;
  // The clamped time of the last applied command (0 before the first one). Reads at an
  // earlier now_ms are answered at this time instead.
  int64_t last_applied_time_ms() const;
  // Total messages retained across all queues (undeleted plus rewind-retained).
  uint64_t message_count() const;

  // Topics (docs/topic-model.md). Pure reads as of the last applied command (now_ms is
  // accepted for symmetry with GetQueue; topic counters do not change with time alone).
  Result<TopicInfo> GetTopic(std::string_view topic_name, int64_t now_ms) const;
  TopicListing ListTopics(std::string_view search_word, uint64_t offset, uint64_t limit) const;
  Result<SubscriptionInfo> GetSubscription(std::string_view topic_name,
                                           std::string_view subscription_name,
                                           int64_t now_ms) const;
  Result<SubscriptionListing> ListSubscriptions(std::string_view topic_name,
                                                std::string_view search_word, uint64_t offset,
                                                uint64_t limit) const;
  // Pushes due at now_ms (next attempt <= now_ms): HTTP, and copies for queues of other
  // data groups. At most max_per_subscription per subscription and max_total in all. Per
  // subscription in order of next attempt time, then publish order (so never-tried
  // messages come in publish order); subscriptions in order of lower-cased topic then
  // subscription name. Pushes already handed out are not tracked here (the pusher remembers
  // what it has in flight until its PushResults are applied). As of the last applied
  // command: a push past retention that no Housekeeping has dropped yet is still returned.
  // O(topics + subscriptions + returned pushes * log n).
  std::vector<PendingPush> DuePushes(int64_t now_ms, size_t max_per_subscription,
                                     size_t max_total) const;
  // The earliest next attempt time of any pending push (may be in the past: due now);
  // nullopt if none is pending. O(topics + subscriptions).
  std::optional<int64_t> NextPushDueMs() const;

  // Snapshots (docs/snapshot-format.md). The whole applied state as bytes: group id, id
  // counters, last applied index and time, every queue and every retained message record.
  // Indexes are not stored; Restore rebuilds them. A machine restored from Snapshot()
  // applies every later command exactly as this one does, and snapshots to the same bytes
  // after the same commands. Linear in the retained messages, one pass.
  std::string Snapshot() const;
  // A machine in the state a Snapshot() recorded. kCorruption if the bytes are not a whole
  // snapshot of a supported version with a good checksum, or hold anything a state machine
  // could not have reached (out-of-range attributes, bad names, seqs or times out of order,
  // unknown states...); then nothing is returned. Never asserts on any input. group_count is
  // as for the constructor; with more than one, a snapshot is refused (kCorruption) whose
  // group id is not in 1..group_count, that holds a queue or topic placed on another group,
  // or a pending push to a queue placed on its own group: each means the snapshot was taken
  // with another group count, or belongs to another group.
  static Result<std::unique_ptr<StateMachine>> Restore(std::string_view snapshot,
                                                       uint32_t group_count = 1);
  // The smallest log index whose payload holds the body of a message still in the state
  // (undeleted, or deleted but retained for rewind) of any queue; last_applied_index() + 1
  // if none. As of the last applied command: messages past retention or the rewind window
  // that the next command on their queue (or Housekeeping) drops still count. The log may
  // drop entries below min(snapshot's last_applied_index() + 1, this). O(queues).
  uint64_t OldestReferencedLogIndex() const;

  // What to move forward so that the log below `below` can go (docs/queue-model.md "Moving
  // old bodies forward"): each queue whose oldest held body is in an entry below it, and
  // that holds at most max_messages messages with at most max_bytes of bodies, as the moves
  // of a kMoveBodies of that queue and the current location of each body. O(queues) plus
  // the messages of the queues taken.
  struct QueueBodies {
    std::string queue_name;
    std::vector<BodyMove> moves;
    std::vector<BodyLocation> bodies;
  };
  std::vector<QueueBodies> BodiesPinningLogBelow(uint64_t below, size_t max_messages,
                                                 uint64_t max_bytes) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cmq::mq
