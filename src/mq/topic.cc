#include "mq/topic.h"

#include <limits>

#include "common/assert.h"
#include "mq/attributes.h"
#include "mq/limits.h"

namespace cmq::mq {

std::string_view ProtocolName(Protocol p) {
  return p == Protocol::kQueue ? "queue" : "http";
}
std::string_view StrategyName(NotifyStrategy s) {
  return s == NotifyStrategy::kBackoffRetry ? "BACKOFF_RETRY" : "EXPONENTIAL_DECAY_RETRY";
}
std::string_view FormatName(ContentFormat f) {
  return f == ContentFormat::kJson ? "JSON" : "SIMPLIFIED";
}

Subscription* Topic::FindSubscription(std::string_view name) {
  auto it = subscriptions.find(NameKey(name));
  return it == subscriptions.end() ? nullptr : &it->second;
}

const Subscription* Topic::FindSubscription(std::string_view name) const {
  auto it = subscriptions.find(NameKey(name));
  return it == subscriptions.end() ? nullptr : &it->second;
}

void Topic::AddPush(Subscription& s, uint64_t seq, const TopicMessage& message) {
  CMQ_ASSERT(s.pending.empty() || s.pending.rbegin()->first < seq, "pushes out of order");
  TopicMessage& held = messages.try_emplace(seq, message).first->second;
  ++held.waiting;
  s.pending.emplace(seq, PushState{message.publish_ms, 0});
  s.schedule.emplace(message.publish_ms, seq);
}

void Topic::RemovePush(Subscription& s, std::map<uint64_t, PushState>::iterator it) {
  uint64_t seq = it->first;
  s.schedule.erase({it->second.next_attempt_ms, seq});
  s.pending.erase(it);
  auto m = messages.find(seq);
  CMQ_ASSERT(m != messages.end() && m->second.waiting > 0, "a pending push of no message");
  if (--m->second.waiting == 0) messages.erase(m);
}

void Topic::ApplyPushResult(Subscription& s, uint64_t seq, const PushResult& result) {
  auto it = s.pending.find(seq);
  if (it == s.pending.end()) return;  // settled already, or raced with an unsubscribe
  if (result.delivered) return RemovePush(s, it);
  if (result.next_attempt_ms <= 0) {
    ++s.dropped;
    return RemovePush(s, it);
  }
  PushState& state = it->second;
  s.schedule.erase({state.next_attempt_ms, it->first});
  state.next_attempt_ms = result.next_attempt_ms;
  if (state.attempts < std::numeric_limits<uint32_t>::max()) ++state.attempts;
  s.schedule.emplace(state.next_attempt_ms, it->first);
}

void Topic::DropAllPushes(Subscription& s) {
  while (!s.pending.empty()) RemovePush(s, s.pending.begin());
}

void Topic::DropExpired(int64_t now_ms) {
  int64_t cutoff_ms = now_ms - kTopicMsgRetentionSeconds * 1000;
  // Publish times do not decrease with seq: what expires is a prefix of each pending map.
  for (auto& [key, s] : subscriptions) {
    while (!s.pending.empty() && messages.at(s.pending.begin()->first).publish_ms <= cutoff_ms) {
      ++s.dropped;
      RemovePush(s, s.pending.begin());
    }
  }
}

std::optional<uint64_t> Topic::OldestLogIndex() const {
  // Log indexes do not decrease with seq.
  if (messages.empty()) return std::nullopt;
  return messages.begin()->second.body.log_index;
}

void Topic::FillInfo(TopicInfo& info) const {
  info.topic_id = id;
  info.topic_name = name;
  info.max_msg_size = max_msg_size;
  info.msg_retention_seconds = kTopicMsgRetentionSeconds;
  info.filter_type = filter_type;
  info.create_time_s = create_time_s;
  info.last_modify_time_s = last_modify_time_s;
  info.msg_count = messages.size();
}

void Topic::FillSubscriptionInfo(const Subscription& s, SubscriptionInfo& info) const {
  info.subscription_id = s.id;
  info.subscription_name = s.name;
  info.topic_name = name;
  info.protocol = ProtocolName(s.protocol);
  info.endpoint = s.endpoint;
  info.notify_strategy = StrategyName(s.strategy);
  info.notify_content_format = FormatName(s.format);
  info.filter_tags = s.filter_tags;
  info.binding_keys = s.binding_keys;
  info.create_time_s = s.create_time_s;
  info.last_modify_time_s = s.last_modify_time_s;
  info.msg_count = s.pending.size();
  info.dropped_msg_count = s.dropped;
}

}  // namespace cmq::mq
