#pragma once
// Internal to mq/: the state of a StateMachine, shared by state_machine.cc (Apply and the
// reads) and snapshot.cc (Snapshot, Restore, OldestReferencedLogIndex).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "mq/attributes.h"
#include "mq/placement.h"
#include "mq/queue.h"
#include "mq/state_machine.h"
#include "mq/topic.h"

namespace cmq::mq {

struct StateMachine::Impl {
  uint64_t id_base = 0;         // group id << kMessageSeqBits
  uint32_t group_id = 0;        // 1..group_count when group_count > 1
  uint32_t group_count = 1;     // >= 1: the data groups of the cluster (placement.h)
  uint64_t last_seq = 0;        // the last message seq minted (per group, never reused)
  uint64_t queues_created = 0;  // queue ids are minted from this, never reused
  int64_t last_now_ms = 0;      // clamp: time never goes back
  uint64_t last_index = 0;
  std::map<std::string, std::unique_ptr<Queue>> queues;  // by NameKey
  uint64_t topics_created = 0;         // topic ids are minted from this, never reused
  uint64_t subscriptions_created = 0;  // so are subscription ids
  std::map<std::string, std::unique_ptr<Topic>> topics;  // by NameKey

  Queue* Find(std::string_view name) const {
    auto it = queues.find(NameKey(name));
    return it == queues.end() ? nullptr : it->second.get();
  }

  // True if the queue or topic named name is placed on this group (always, with one group).
  bool Holds(std::string_view name) const { return IsPlacedOn(name, group_id, group_count); }
  // kInternal if a queue or topic named name is not placed on this group: the router sent a
  // create to the wrong group. Ok otherwise.
  Status CheckPlacement(std::string_view kind, std::string_view name) const;

  ApplyResult CreateQueue(const Command& cmd, int64_t now_ms);
  ApplyResult SendMessages(Queue& q, const Command& cmd, const ApplyContext& ctx, int64_t now_ms);
  ApplyResult ReceiveMessages(Queue& q, const Command& cmd, int64_t now_ms);
  ApplyResult ReceiveChosen(Queue& q, const Command& cmd, int64_t now_ms);
  ApplyResult DeleteMessages(Queue& q, const Command& cmd, int64_t now_ms);
  ApplyResult ConfirmTransaction(Queue& q, const Command& cmd);
  ApplyResult MoveBodies(Queue& q, const Command& cmd, const ApplyContext& ctx);
  // Moves the check-backs q owes into result.
  void CollectChecks(Queue& q, ApplyResult& result) const;
  ApplyResult ApplyToQueue(Queue& q, const Command& cmd, const ApplyContext& ctx, int64_t now_ms);
  ApplyResult ApplyQueueCommand(Queue& q, const Command& cmd, const ApplyContext& ctx,
                                int64_t now_ms);

  // Topics (topic_apply.cc).
  Topic* FindTopic(std::string_view name) const {
    auto it = topics.find(NameKey(name));
    return it == topics.end() ? nullptr : it->second.get();
  }
  ApplyResult ApplyTopicCommand(const Command& cmd, const ApplyContext& ctx, int64_t now_ms);
  ApplyResult CreateTopic(const Command& cmd, int64_t now_ms);
  ApplyResult ApplyToTopic(Topic& t, const Command& cmd, const ApplyContext& ctx, int64_t now_ms);
  ApplyResult Publish(Topic& t, const Command& cmd, const ApplyContext& ctx, int64_t now_ms);
  ApplyResult Subscribe(Topic& t, const Command& cmd, int64_t now_ms);
  ApplyResult UpdateSubscription(Topic& t, const Command& cmd, int64_t now_ms);
  // Enqueues one copy of a published body into s's endpoint queue, or counts it dropped.
  // True if the copy landed.
  bool FeedQueue(Subscription& s, const BodyLocation& body, int64_t now_ms);
};

// Shared by the apply files.
ApplyResult WithStatus(Status status);
std::string Base36(uint64_t v);
// Where body lies within payload. REQUIRES (asserted): body is a view into ctx.payload.
BodyLocation Locate(std::string_view body, const ApplyContext& ctx);

}  // namespace cmq::mq
