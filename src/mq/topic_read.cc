// The topic reads of StateMachine: pure, as of the last applied command (docs/topic-model.md
// "Reads").
#include <algorithm>

#include "mq/attributes.h"
#include "mq/state_machine_impl.h"

namespace cmq::mq {
namespace {

Status NoTopic() {
  return Status(ErrorCode::kTopicNotExist, "topic is not existed, or deleted");
}

}  // namespace

Result<TopicInfo> StateMachine::GetTopic(std::string_view topic_name, int64_t /*now_ms*/) const {
  const Topic* t = impl_->FindTopic(topic_name);
  if (t == nullptr) return NoTopic();
  TopicInfo info;
  t->FillInfo(info);
  return info;
}

TopicListing StateMachine::ListTopics(std::string_view search_word, uint64_t offset,
                                      uint64_t limit) const {
  std::string word = NameKey(search_word);
  TopicListing listing;
  for (const auto& [key, t] : impl_->topics) {
    if (key.find(word) == std::string::npos) continue;
    if (listing.total_count >= offset && listing.total_count - offset < limit) {
      listing.topics.emplace_back(t->id, t->name);
    }
    ++listing.total_count;
  }
  return listing;
}

Result<SubscriptionInfo> StateMachine::GetSubscription(std::string_view topic_name,
                                                       std::string_view subscription_name,
                                                       int64_t /*now_ms*/) const {
  const Topic* t = impl_->FindTopic(topic_name);
  if (t == nullptr) return NoTopic();
  const Subscription* s = t->FindSubscription(subscription_name);
  if (s == nullptr) {
    return Status(ErrorCode::kSubscriptionNotExist, "subscription is not existed");
  }
  SubscriptionInfo info;
  t->FillSubscriptionInfo(*s, info);
  return info;
}

Result<SubscriptionListing> StateMachine::ListSubscriptions(std::string_view topic_name,
                                                            std::string_view search_word,
                                                            uint64_t offset, uint64_t limit) const {
  const Topic* t = impl_->FindTopic(topic_name);
  if (t == nullptr) return NoTopic();
  std::string word = NameKey(search_word);
  SubscriptionListing listing;
  for (const auto& [key, s] : t->subscriptions) {
    if (key.find(word) == std::string::npos) continue;
    if (listing.total_count >= offset && listing.total_count - offset < limit) {
      t->FillSubscriptionInfo(s, listing.subscriptions.emplace_back());
    }
    ++listing.total_count;
  }
  return listing;
}

std::vector<PendingPush> StateMachine::DuePushes(int64_t now_ms, size_t max_per_subscription,
                                                 size_t max_total) const {
  std::vector<PendingPush> out;
  for (const auto& [topic_key, t] : impl_->topics) {
    for (const auto& [key, s] : t->subscriptions) {
      size_t taken = 0;
      for (auto it = s.schedule.begin(); it != s.schedule.end() && it->first <= now_ms &&
                                         taken < max_per_subscription && out.size() < max_total;
           ++it, ++taken) {
        const TopicMessage& m = t->messages.at(it->second);
        PendingPush& push = out.emplace_back();
        push.protocol = ProtocolName(s.protocol);
        push.topic_name = t->name;
        push.subscription_name = s.name;
        push.endpoint = s.endpoint;
        push.notify_content_format = FormatName(s.format);
        push.notify_strategy = StrategyName(s.strategy);
        push.msg_id = impl_->id_base | it->second;
        push.body = m.body;
        if (m.tags) push.msg_tags = *m.tags;
        push.publish_time_ms = m.publish_ms;
        push.attempts = s.pending.at(it->second).attempts;
      }
      if (out.size() >= max_total) return out;
    }
  }
  return out;
}

std::optional<int64_t> StateMachine::NextPushDueMs() const {
  std::optional<int64_t> next;
  for (const auto& [topic_key, t] : impl_->topics) {
    for (const auto& [key, s] : t->subscriptions) {
      if (s.schedule.empty()) continue;
      int64_t due = s.schedule.begin()->first;
      next = next ? std::min(*next, due) : due;
    }
  }
  return next;
}

}  // namespace cmq::mq
