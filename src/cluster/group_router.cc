#include "cluster/group_router.h"

#include <algorithm>
#include <mutex>

#include "common/assert.h"
#include "mq/placement.h"

namespace cmq::cluster {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Gathers one listing per group, then merges them.
template <typename Listing>
struct ListMerge {
  std::mutex mu;
  std::vector<NamedItems> parts;
  uint64_t total = 0;
  size_t waiting = 0;
  uint64_t offset = 0, limit = 0;
  NamedItems Listing::*items = nullptr;
  std::function<void(Listing)> done;

  void Add(Listing part) {
    {
      std::lock_guard lock(mu);
      total += part.total_count;
      parts.push_back(std::move(part.*items));
      if (--waiting != 0) return;
    }
    Listing out;
    out.total_count = total;
    out.*items = MergePage(std::move(parts), offset, limit);
    done(std::move(out));
  }
};

}  // namespace

uint64_t PrefixFor(uint64_t offset, uint64_t limit) {
  return offset > UINT64_MAX - limit ? UINT64_MAX : offset + limit;
}

NamedItems MergePage(std::vector<NamedItems> parts, uint64_t offset, uint64_t limit) {
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> keyed;
  for (NamedItems& part : parts) {
    for (auto& item : part) keyed.emplace_back(Lower(item.second), std::move(item));
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  NamedItems page;
  for (uint64_t i = offset; i < keyed.size() && page.size() < limit; ++i) {
    page.push_back(std::move(keyed[i].second));
  }
  return page;
}

GroupRouter::GroupRouter(std::vector<Node*> nodes) : nodes_(std::move(nodes)) {
  CMQ_ASSERT(!nodes_.empty(), "a router needs at least one group");
}

Node& GroupRouter::group(uint32_t g) const {
  CMQ_ASSERT(g >= 1 && g <= nodes_.size(), "no such group");
  return *nodes_[g - 1];
}

uint32_t GroupRouter::GroupOfName(std::string_view name) const {
  return mq::GroupOfName(name, group_count());
}

uint32_t GroupRouter::GroupOf(const mq::Command& cmd) const {
  return GroupOfName(cmd.topic_name.empty() ? cmd.queue_name : cmd.topic_name);
}

void GroupRouter::Submit(const mq::Command& cmd, CommandCallback done) {
  group(GroupOf(cmd)).Submit(cmd, std::move(done));
}

void GroupRouter::Receive(const mq::Command& cmd, std::optional<int64_t> wait_seconds,
                          CommandCallback done, AbandonFlag abandoned) {
  group(GroupOf(cmd)).Receive(cmd, wait_seconds, std::move(done), std::move(abandoned));
}

void GroupRouter::GetQueue(std::string queue_name,
                           std::function<void(Result<mq::QueueInfo>)> done) {
  Node& g = group(GroupOfName(queue_name));
  g.GetQueue(std::move(queue_name), std::move(done));
}

void GroupRouter::GetTopic(std::string topic_name,
                           std::function<void(Result<mq::TopicInfo>)> done) {
  Node& g = group(GroupOfName(topic_name));
  g.GetTopic(std::move(topic_name), std::move(done));
}

void GroupRouter::GetSubscription(std::string topic_name, std::string subscription_name,
                                  std::function<void(Result<mq::SubscriptionInfo>)> done) {
  Node& g = group(GroupOfName(topic_name));
  g.GetSubscription(std::move(topic_name), std::move(subscription_name), std::move(done));
}

void GroupRouter::ListSubscriptions(std::string topic_name, std::string search_word,
                                    uint64_t offset, uint64_t limit,
                                    std::function<void(Result<mq::SubscriptionListing>)> done) {
  Node& g = group(GroupOfName(topic_name));
  g.ListSubscriptions(std::move(topic_name), std::move(search_word), offset, limit,
                      std::move(done));
}

// Asks each of this node's replicas for its first offset + limit items (list is Node's
// ListQueues or ListTopics) and merges them into the page.
template <typename Listing>
void ListOverGroups(const std::vector<Node*>& nodes, std::string search_word, uint64_t offset,
                    uint64_t limit, NamedItems Listing::*items,
                    void (Node::*list)(std::string, uint64_t, uint64_t,
                                       std::function<void(Listing)>),
                    std::function<void(Listing)> done) {
  if (nodes.size() == 1) {
    return (nodes[0]->*list)(std::move(search_word), offset, limit, std::move(done));
  }
  auto merge = std::make_shared<ListMerge<Listing>>();
  merge->waiting = nodes.size();
  merge->offset = offset;
  merge->limit = limit;
  merge->items = items;
  merge->done = std::move(done);
  for (Node* n : nodes) {
    (n->*list)(search_word, 0, PrefixFor(offset, limit),
               [merge](Listing part) { merge->Add(std::move(part)); });
  }
}

void GroupRouter::ListQueues(std::string search_word, uint64_t offset, uint64_t limit,
                             std::function<void(mq::QueueListing)> done) {
  ListOverGroups<mq::QueueListing>(nodes_, std::move(search_word), offset, limit,
                                   &mq::QueueListing::queues, &Node::ListQueues, std::move(done));
}

void GroupRouter::ListTopics(std::string search_word, uint64_t offset, uint64_t limit,
                             std::function<void(mq::TopicListing)> done) {
  ListOverGroups<mq::TopicListing>(nodes_, std::move(search_word), offset, limit,
                                   &mq::TopicListing::topics, &Node::ListTopics, std::move(done));
}

void GroupRouter::GetGroupStatus(std::function<void(Result<NodeStats>)> done) {
  nodes_[0]->GetGroupStatus(std::move(done));
}

}  // namespace cmq::cluster
