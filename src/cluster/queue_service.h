#pragma once
// What api/ sees of the cluster: submit a command and be called back with the result of
// its apply, after the log entry that holds it is durable (DESIGN.md "The path of one
// message"); a receive is answered as soon as the leader's choice of messages is in its
// log (docs/queue-model.md "Receives answered before their commit"). The implementation
// is cluster::Node, one per group; GroupRouter routes to the group that holds a queue.
//
// Callbacks run on an internal thread (a group's strand): they must not block. They are
// called exactly once, also on shutdown (with kUnavailable).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/node_stats.h"
#include "common/result.h"
#include "mq/command.h"
#include "mq/state_machine.h"
#include "raft/conf_change.h"

namespace cmq::cluster {

struct CommandResult {
  mq::ApplyResult apply;
  // For receives: the body of each message of apply.messages, in the same order.
  std::vector<std::string> bodies;
};

using CommandCallback = std::function<void(CommandResult)>;

// Set (true) by a receive's client once it is gone (its connection closed): a long poll
// still waiting then takes no message, which would otherwise stay hidden for its
// visibility timeout with no one to read it. It is answered "no message" instead. Null:
// the receive runs its course.
using AbandonFlag = std::shared_ptr<const std::atomic<bool>>;

class QueueService {
 public:
  virtual ~QueueService() = default;

  // Proposes cmd (any type but kReceiveMessages). cmd is encoded before Submit returns, so
  // its body views need only live for the call.
  virtual void Submit(const mq::Command& cmd, CommandCallback done) = 0;

  // A receive with long polling: if no message is visible, waits up to wait_seconds (the
  // queue's pollingWaitSeconds when nullopt) for one, then answers kNoMessage (also once
  // `abandoned` is set).
  virtual void Receive(const mq::Command& cmd, std::optional<int64_t> wait_seconds,
                       CommandCallback done, AbandonFlag abandoned = nullptr) = 0;

  // Pure reads of the applied state.
  virtual void GetQueue(std::string queue_name,
                        std::function<void(Result<mq::QueueInfo>)> done) = 0;
  virtual void ListQueues(std::string search_word, uint64_t offset, uint64_t limit,
                          std::function<void(mq::QueueListing)> done) = 0;
  virtual void GetTopic(std::string topic_name,
                        std::function<void(Result<mq::TopicInfo>)> done) = 0;
  virtual void ListTopics(std::string search_word, uint64_t offset, uint64_t limit,
                          std::function<void(mq::TopicListing)> done) = 0;
  virtual void GetSubscription(std::string topic_name, std::string subscription_name,
                               std::function<void(Result<mq::SubscriptionInfo>)> done) = 0;
  virtual void ListSubscriptions(std::string topic_name, std::string search_word, uint64_t offset,
                                 uint64_t limit,
                                 std::function<void(Result<mq::SubscriptionListing>)> done) = 0;

  // This node's view of its group (leader, term, commit, replicas' progress).
  virtual void GetGroupStatus(std::function<void(Result<NodeStats>)> done) {
    done(Status(ErrorCode::kUnavailable, "cluster status is not available here"));
  }
  // Asks the leader to hand leadership to node `to` (an operator's action, and how load is
  // rebalanced). Done once the transfer has started, not finished.
  virtual void TransferLeadership(uint64_t to, std::function<void(Status)> done) {
    (void)to;
    done(Status(ErrorCode::kUnavailable, "leadership transfer is not available here"));
  }
  // Adds, promotes or removes a member of the group (docs/cluster.md "Membership").
  virtual void ChangeMembership(raft::ConfChange change, std::function<void(Status)> done) {
    (void)change;
    done(Status(ErrorCode::kUnavailable, "membership changes are not available here"));
  }
};

}  // namespace cmq::cluster
