#pragma once
// A synchronous cluster::QueueService over a real mq::StateMachine, for api/ tests: every
// command is encoded into an entry payload (kept alive, so that body locations resolve)
// and applied at once; callbacks run on the calling thread; receives never wait.

#include <deque>
#include <optional>
#include <string>

#include "cluster/queue_service.h"
#include "common/clock.h"
#include "mq/entry.h"
#include "mq/state_machine.h"

namespace cmq::api::testing {

class FakeQueueService : public cluster::QueueService {
 public:
  explicit FakeQueueService(const Clock& clock) : clock_(clock), machine_(1) {}

  void Submit(const mq::Command& cmd, cluster::CommandCallback done) override {
    ++submitted;
    last_command_ = cmd;
    last_command_.bodies.clear();
    if (fail_with) return done(Failed(*fail_with));
    done(Apply(cmd));
  }

  void Receive(const mq::Command& cmd, std::optional<int64_t> wait_seconds,
               cluster::CommandCallback done, cluster::AbandonFlag abandoned = nullptr) override {
    last_wait_seconds = wait_seconds;
    last_receive = cmd;
    last_abandoned = std::move(abandoned);
    if (fail_with) return done(Failed(*fail_with));
    done(Apply(cmd));
  }

  void GetQueue(std::string queue_name, std::function<void(Result<mq::QueueInfo>)> done) override {
    done(machine_.GetQueue(queue_name, clock_.NowMs()));
  }

  void ListQueues(std::string search_word, uint64_t offset, uint64_t limit,
                  std::function<void(mq::QueueListing)> done) override {
    done(machine_.ListQueues(search_word, offset, limit));
  }

  void GetTopic(std::string topic_name, std::function<void(Result<mq::TopicInfo>)> done) override {
    ++reads;
    done(machine_.GetTopic(topic_name, clock_.NowMs()));
  }

  void ListTopics(std::string search_word, uint64_t offset, uint64_t limit,
                  std::function<void(mq::TopicListing)> done) override {
    ++reads;
    done(machine_.ListTopics(search_word, offset, limit));
  }

  void GetSubscription(std::string topic_name, std::string subscription_name,
                       std::function<void(Result<mq::SubscriptionInfo>)> done) override {
    ++reads;
    done(machine_.GetSubscription(topic_name, subscription_name, clock_.NowMs()));
  }

  void ListSubscriptions(std::string topic_name, std::string search_word, uint64_t offset,
                         uint64_t limit,
                         std::function<void(Result<mq::SubscriptionListing>)> done) override {
    ++reads;
    done(machine_.ListSubscriptions(topic_name, search_word, offset, limit));
  }

  // The last command submitted (bodies not kept: their views die with the request).
  const mq::Command& last_command() const { return last_command_; }

  std::optional<int64_t> last_wait_seconds;
  std::optional<mq::Command> last_receive;  // the last Receive's command
  cluster::AbandonFlag last_abandoned;      // and its AbandonFlag
  // Set: every Submit and Receive fails with it (as a node without a leader would).
  std::optional<Status> fail_with;
  int reads = 0;  // topic and subscription reads
  int submitted = 0;

  // Cluster actions: what was asked, and what the service answers.
  void GetGroupStatus(std::function<void(Result<cluster::NodeStats>)> done) override {
    done(group_status);
  }
  void TransferLeadership(uint64_t to, std::function<void(Status)> done) override {
    transferred_to = to;
    done(cluster_answer);
  }
  void ChangeMembership(raft::ConfChange change, std::function<void(Status)> done) override {
    membership_changes.push_back(change);
    done(cluster_answer);
  }
  Result<cluster::NodeStats> group_status = cluster::NodeStats{};
  Status cluster_answer = Status::Ok();
  uint64_t transferred_to = 0;
  std::vector<raft::ConfChange> membership_changes;

 private:
  static cluster::CommandResult Failed(const Status& status) {
    cluster::CommandResult r;
    r.apply.status = status;
    return r;
  }

  cluster::CommandResult Apply(const mq::Command& cmd) {
    std::string& payload = payloads_.emplace_back();
    mq::EncodeEntryHeader(payload, clock_.NowMs(), 1);
    mq::EncodeCommand(cmd, payload);
    auto entry = mq::DecodeEntry(payload);
    CMQ_ASSERT(entry.ok() && entry->commands.size() == 1, "entry round trip");
    mq::ApplyContext ctx{clock_.NowMs(), payloads_.size(), payload};
    cluster::CommandResult result;
    result.apply = machine_.Apply(entry->commands[0], ctx);
    for (const mq::ReceivedMessage& m : result.apply.messages) {
      const std::string& holder = payloads_[m.body.log_index - 1];
      result.bodies.emplace_back(holder.substr(m.body.offset, m.body.length));
    }
    return result;
  }

  const Clock& clock_;
  mq::StateMachine machine_;
  mq::Command last_command_;
  std::deque<std::string> payloads_;  // payloads_[i] is log entry i + 1
};

}  // namespace cmq::api::testing
