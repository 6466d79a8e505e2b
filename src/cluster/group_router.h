#pragma once
// The QueueService of a node that runs several data groups (docs/cluster.md "Data
// groups"): every queue and topic lives in the group mq::GroupOfName picks from its name,
// and each request goes to this node's replica of that group. Which node leads that group
// is api/'s concern (api/forwarding.h sends the request there first); here a request for a
// group this node does not lead fails like any request to a follower (retryable).
//
// Lists cover only this node's replicas (api/ fans a List out to every group's leader).

#include <memory>
#include <vector>

#include "cluster/node.h"
#include "cluster/queue_service.h"

namespace cmq::cluster {

// (id, name) pairs of a List*, each group's ordered by lower-cased name.
using NamedItems = std::vector<std::pair<std::string, std::string>>;
// The page [offset, offset + limit) of the union of several groups' lists, each holding at
// least its first offset + limit items, in lower-cased name order.
NamedItems MergePage(std::vector<NamedItems> parts, uint64_t offset, uint64_t limit);
// offset + limit, saturated: what each group is asked for.
uint64_t PrefixFor(uint64_t offset, uint64_t limit);

class GroupRouter final : public QueueService {
 public:
  // nodes[i] is this node's replica of group i + 1; they must outlive the router.
  explicit GroupRouter(std::vector<Node*> nodes);

  uint32_t group_count() const { return static_cast<uint32_t>(nodes_.size()); }
  // This node's replica of group g (1..group_count()).
  Node& group(uint32_t g) const;
  // The group a command belongs to: its topic's for topic commands, else its queue's.
  uint32_t GroupOf(const mq::Command& cmd) const;
  uint32_t GroupOfName(std::string_view name) const;

  void Submit(const mq::Command& cmd, CommandCallback done) override;
  void Receive(const mq::Command& cmd, std::optional<int64_t> wait_seconds, CommandCallback done,
               AbandonFlag abandoned = nullptr) override;
  void GetQueue(std::string queue_name, std::function<void(Result<mq::QueueInfo>)> done) override;
  void ListQueues(std::string search_word, uint64_t offset, uint64_t limit,
                  std::function<void(mq::QueueListing)> done) override;
  void GetTopic(std::string topic_name, std::function<void(Result<mq::TopicInfo>)> done) override;
  void ListTopics(std::string search_word, uint64_t offset, uint64_t limit,
                  std::function<void(mq::TopicListing)> done) override;
  void GetSubscription(std::string topic_name, std::string subscription_name,
                       std::function<void(Result<mq::SubscriptionInfo>)> done) override;
  void ListSubscriptions(std::string topic_name, std::string search_word, uint64_t offset,
                         uint64_t limit,
                         std::function<void(Result<mq::SubscriptionListing>)> done) override;
  // Group 1's (ClusterStatus fans out per group in api/).
  void GetGroupStatus(std::function<void(Result<NodeStats>)> done) override;

 private:
  std::vector<Node*> nodes_;
};

}  // namespace cmq::cluster
