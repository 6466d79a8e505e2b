#pragma once
// Internal to mq/: the state of a StateMachine, shared by state_machine.cc (Apply and the
// reads) and snapshot.cc (Snapshot, Restore, OldestReferencedLogIndex).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "mq/attributes.h"
#include "mq/queue.h"
#include "mq/state_machine.h"

namespace cmq::mq {

struct StateMachine::Impl {
  uint64_t id_base = 0;         // group id << kMessageSeqBits
  uint64_t last_seq = 0;        // the last message seq minted (per group, never reused)
  uint64_t queues_created = 0;  // queue ids are minted from this, never reused
  int64_t last_now_ms = 0;      // clamp: time never goes back
  uint64_t last_index = 0;
  std::map<std::string, std::unique_ptr<Queue>> queues;  // by NameKey

  Queue* Find(std::string_view name) const {
    auto it = queues.find(NameKey(name));
    return it == queues.end() ? nullptr : it->second.get();
  }

  ApplyResult CreateQueue(const Command& cmd, int64_t now_ms);
  ApplyResult SendMessages(Queue& q, const Command& cmd, const ApplyContext& ctx, int64_t now_ms);
  ApplyResult ReceiveMessages(Queue& q, const Command& cmd, int64_t now_ms);
  ApplyResult DeleteMessages(Queue& q, const Command& cmd, int64_t now_ms);
  ApplyResult ApplyToQueue(Queue& q, const Command& cmd, const ApplyContext& ctx, int64_t now_ms);
  ApplyResult ApplyQueueCommand(Queue& q, const Command& cmd, const ApplyContext& ctx,
                                int64_t now_ms);
};

}  // namespace cmq::mq
