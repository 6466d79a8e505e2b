#pragma once
// A Command is one replicated operation on the queue model: what api/ builds from a request,
// what the log stores (binary, versioned: docs/command-format.md), and what the state
// machine applies. Time is not in the command: it comes with the log entry (ApplyContext),
// stamped once by the leader.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace cmq::mq {

enum class CommandType : uint8_t {
  kCreateQueue = 1,
  kSetQueueAttributes = 2,
  kDeleteQueue = 3,
  kRewindQueue = 4,
  kSendMessages = 5,
  kReceiveMessages = 6,
  kDeleteMessages = 7,
  kHousekeeping = 8,  // drops expired messages of every queue; proposed periodically
  // Topics and subscriptions (docs/topic-model.md).
  kCreateTopic = 9,
  kSetTopicAttributes = 10,
  kDeleteTopic = 11,
  kPublishMessages = 12,
  kSubscribe = 13,
  kSetSubscriptionAttributes = 14,
  kUnsubscribe = 15,
  kClearSubscriptionFilterTags = 16,
  kPushResults = 17,  // outcomes of HTTP pushes, proposed by the leader's pusher
  // Transaction messages (TCP protocol only; docs/queue-model.md "Transaction messages").
  kSendHalfMessages = 18,    // like kSendMessages, but hidden until confirmed
  kConfirmTransaction = 19,  // commits or rolls back half messages
  // Copies the bodies of a queue's messages into this entry, so that the old log entries
  // holding them can go (docs/queue-model.md "Moving old bodies forward"). Proposed by the
  // leader, never by a client.
  kMoveBodies = 20,
  // A receive whose messages the leader chose when it proposed it (docs/queue-model.md
  // "Receives answered before their commit"): every replica puts the same ones in flight.
  // Proposed by the leader for a client's kReceiveMessages; never sent by a client.
  kReceiveChosen = 21,
};

// One message of a kMoveBodies: which, and where its body was when the move was proposed
// (the move applies only if nothing changed since).
struct BodyMove {
  uint64_t msg_id = 0;
  uint64_t from_log_index = 0;
  bool operator==(const BodyMove&) const = default;
};

// One item of a transaction confirm: commit (make visible) or roll back (discard) the half
// message msg_id.
struct TransactionConfirm {
  uint64_t msg_id = 0;
  bool commit = false;
  bool operator==(const TransactionConfirm&) const = default;
};

// Subscription settings as given in a request; absent ones keep their value (or the
// default on Subscribe). A present list replaces the old one.
struct SubscriptionUpdate {
  std::optional<std::string> protocol;               // "queue" | "http" (Subscribe only)
  std::optional<std::string> endpoint;               // a queue name, or an http(s) URL
  std::optional<std::string> notify_strategy;        // BACKOFF_RETRY | EXPONENTIAL_DECAY_RETRY
  std::optional<std::string> notify_content_format;  // JSON | SIMPLIFIED
  std::optional<std::vector<std::string>> filter_tags;
  std::optional<std::vector<std::string>> binding_keys;
  bool operator==(const SubscriptionUpdate&) const = default;
};

// The outcome of one HTTP push attempt of one topic message to one subscription. The leader
// decides the next attempt time (the retry strategies use randomness and the clock, which
// the state machine must not), so every replica applies the same schedule.
struct PushResult {
  uint64_t msg_id = 0;
  bool delivered = false;
  int64_t next_attempt_ms = 0;  // when not delivered: retry then; 0 = give up (dropped)
  bool operator==(const PushResult&) const = default;
};

// Queue attributes as given in a request; absent ones keep their value (or the default on
// create).
struct QueueAttributeUpdate {
  std::optional<int64_t> max_msg_heap_num;
  std::optional<int64_t> polling_wait_seconds;
  std::optional<int64_t> visibility_timeout;
  std::optional<int64_t> max_msg_size;
  std::optional<int64_t> msg_retention_seconds;
  std::optional<int64_t> rewind_seconds;
  bool operator==(const QueueAttributeUpdate&) const = default;
};

struct Command {
  CommandType type = CommandType::kHousekeeping;
  std::string queue_name;  // every type but kHousekeeping

  QueueAttributeUpdate attributes;  // kCreateQueue, kSetQueueAttributes
  int64_t rewind_start_s = 0;       // kRewindQueue: Unix seconds

  // kSendMessages. The views point into a buffer the caller keeps alive: the request while
  // proposing, the log entry's payload after Decode.
  std::vector<std::string_view> bodies;
  int64_t delay_seconds = 0;
  // kSendHalfMessages (bodies as above, no delay): when to check back first, and with whom
  // (the producer's client id).
  int64_t transaction_check_ms = 0;
  std::string producer;
  std::vector<TransactionConfirm> confirms;  // kConfirmTransaction
  // kMoveBodies: every message the queue held when it was proposed, in id order, each
  // with its body (bodies[i] is moves[i]'s).
  std::vector<BodyMove> moves;

  // kReceiveMessages: how many at most (1..16); an optional visibility timeout override in
  // seconds (the TCP protocol's visible_timeout; HTTP uses the queue's attribute).
  uint32_t num_messages = 1;
  std::optional<int64_t> visibility_timeout_s;

  // kReceiveChosen: the visible stays the leader chose (heap keys: seq and dequeue count,
  // as receipt handles are laid out), when, and for how long they go in flight. No keys: the
  // command only brings the queue up to its time (due messages become visible), after which
  // the leader chooses again.
  std::vector<uint64_t> chosen_keys;
  int64_t received_at_ms = 0;
  int64_t visibility_ms = 0;

  std::vector<uint64_t> receipt_handles;  // kDeleteMessages

  // Topics. topic_name: every topic command; subscription_name: the subscription ones.
  std::string topic_name;
  std::string subscription_name;
  std::optional<int64_t> topic_max_msg_size;  // kCreateTopic, kSetTopicAttributes
  std::optional<int64_t> topic_filter_type;   // kCreateTopic: 1 tags (default), 2 routing
  // kPublishMessages: bodies (above), one tag list and one routing key for the whole batch.
  std::vector<std::string> msg_tags;
  std::string routing_key;
  SubscriptionUpdate subscription;       // kSubscribe, kSetSubscriptionAttributes
  std::vector<PushResult> push_results;  // kPushResults

  // Field-wise; bodies compare by content.
  bool operator==(const Command&) const = default;
};

// Appends the encoding of cmd to out (docs/command-format.md). Only the fields of cmd.type
// are written; the others decode to their defaults. Encoding does not check ranges: the
// state machine does, when it applies the command.
void EncodeCommand(const Command& cmd, std::string& out);
// Decodes one command from the front of in and advances past it. Body views point into
// in's buffer. kCorruption on malformed input (never a crash): unknown type or flag bits,
// truncation, a varint that overflows its field, or a count larger than the bytes left.
Result<Command> DecodeCommand(std::string_view& in);
// The same into `out`, a default-constructed Command (an entry's commands are decoded in
// place: a Command is large, and moving it twice per message showed in profiles).
Status DecodeCommandInto(std::string_view& in, Command& out);

}  // namespace cmq::mq
