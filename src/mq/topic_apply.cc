// Applying the topic and subscription commands (docs/topic-model.md).
#include <algorithm>

#include "common/assert.h"
#include "mq/attributes.h"
#include "mq/limits.h"
#include "mq/message_record.h"
#include "mq/state_machine_impl.h"
#include "mq/topic_match.h"

namespace cmq::mq {
namespace {

Status NoTopic() {
  return Status(ErrorCode::kTopicNotExist, "topic is not existed, or deleted");
}
Status NoSubscription() {
  return Status(ErrorCode::kSubscriptionNotExist, "subscription is not existed");
}

Status ValidateTopicMaxMsgSize(const std::optional<int64_t>& size) {
  if (size && (*size < kTopicMaxMsgSizeMin || *size > kTopicMaxMsgSizeMax)) {
    return Status(ErrorCode::kInvalidArgument, "maxMsgSize out of range [1024, 1048576]");
  }
  return Status::Ok();
}

Status ValidatePublish(const Command& cmd, const Topic& t) {
  if (cmd.bodies.empty() || cmd.bodies.size() > kMaxBatch) {
    return Status(ErrorCode::kInvalidArgument, "msgBody: 1 to 16 messages per batch");
  }
  uint64_t total = 0;
  for (std::string_view body : cmd.bodies) {
    if (body.empty()) return Status(ErrorCode::kInvalidArgument, "message body can't be empty");
    if (body.size() > static_cast<uint64_t>(t.max_msg_size)) {
      return Status(ErrorCode::kMessageTooLarge, "exceed maximum message size");
    }
    total += body.size();
  }
  if (total > kMaxBatchBytes) {
    return Status(ErrorCode::kBatchTooLarge, "total message size exceed 1MB");
  }
  Status st = ValidateTags(cmd.msg_tags, "msgTag");
  return st.ok() ? ValidateRoutingKey(cmd.routing_key, "routingKey", true) : st;
}

}  // namespace

ApplyResult StateMachine::Impl::ApplyTopicCommand(const Command& cmd, const ApplyContext& ctx,
                                                  int64_t now_ms) {
  if (cmd.type == CommandType::kCreateTopic) return CreateTopic(cmd, now_ms);
  Topic* t = FindTopic(cmd.topic_name);
  // Push results race with DeleteTopic and Unsubscribe; they are dropped, not refused.
  if (t == nullptr)
    return WithStatus(cmd.type == CommandType::kPushResults ? Status::Ok() : NoTopic());
  t->DropExpired(now_ms);
  return ApplyToTopic(*t, cmd, ctx, now_ms);
}

ApplyResult StateMachine::Impl::CreateTopic(const Command& cmd, int64_t now_ms) {
  Status st = ValidateName(cmd.topic_name, "topicName");
  if (st.ok()) st = CheckPlacement("topic", cmd.topic_name);
  if (st.ok()) st = ValidateTopicMaxMsgSize(cmd.topic_max_msg_size);
  if (st.ok() && cmd.topic_filter_type && *cmd.topic_filter_type != 1 &&
      *cmd.topic_filter_type != 2) {
    st = Status(ErrorCode::kInvalidArgument, "filterType: 1 (tags) or 2 (routing keys)");
  }
  if (!st.ok()) return WithStatus(st);
  std::string key = NameKey(cmd.topic_name);
  if (topics.contains(key)) {
    return WithStatus(Status(ErrorCode::kTopicExists, "topic is already existed"));
  }
  if (topics.size() >= kMaxTopics) {
    return WithStatus(
        Status(ErrorCode::kTopicLimitReached, "number of topics has reached the limit"));
  }
  auto t = std::make_unique<Topic>();
  t->id = "topic-" + Base36(id_base | ++topics_created);
  t->name = cmd.topic_name;
  t->max_msg_size = cmd.topic_max_msg_size.value_or(kTopicMaxMsgSizeDefault);
  t->filter_type = cmd.topic_filter_type.value_or(1);
  t->create_time_s = t->last_modify_time_s = now_ms / 1000;
  ApplyResult result;
  result.topic_id = t->id;
  topics.emplace(std::move(key), std::move(t));
  return result;
}

ApplyResult StateMachine::Impl::ApplyToTopic(Topic& t, const Command& cmd, const ApplyContext& ctx,
                                             int64_t now_ms) {
  switch (cmd.type) {
    case CommandType::kSetTopicAttributes: {
      Status st = ValidateTopicMaxMsgSize(cmd.topic_max_msg_size);
      if (st.ok() && cmd.topic_filter_type && *cmd.topic_filter_type != t.filter_type) {
        st = Status(ErrorCode::kInvalidArgument, "filterType: cannot change");
      }
      if (!st.ok()) return WithStatus(st);
      t.max_msg_size = cmd.topic_max_msg_size.value_or(t.max_msg_size);
      t.last_modify_time_s = now_ms / 1000;
      return {};
    }
    case CommandType::kDeleteTopic:
      if (!t.subscriptions.empty()) {
        return WithStatus(Status(ErrorCode::kTopicHasSubscriptions,
                                 "there exists subscriptions under this topic, please "
                                 "unsubscribe all of them before DeleteTopic"));
      }
      topics.erase(NameKey(t.name));  // t is gone now
      return {};
    case CommandType::kPublishMessages:
      return Publish(t, cmd, ctx, now_ms);
    case CommandType::kSubscribe:
      return Subscribe(t, cmd, now_ms);
    case CommandType::kSetSubscriptionAttributes:
    case CommandType::kClearSubscriptionFilterTags:
      return UpdateSubscription(t, cmd, now_ms);
    case CommandType::kUnsubscribe: {
      auto it = t.subscriptions.find(NameKey(cmd.subscription_name));
      if (it == t.subscriptions.end()) return WithStatus(NoSubscription());
      t.DropAllPushes(it->second);
      t.subscriptions.erase(it);
      return {};
    }
    case CommandType::kPushResults: {
      Subscription* s = t.FindSubscription(cmd.subscription_name);
      if (s == nullptr) return {};  // raced with an unsubscribe
      for (const PushResult& r : cmd.push_results) {
        // Another group's message id names nothing here.
        if ((r.msg_id & ~kMaxMessageSeq) == id_base)
          t.ApplyPushResult(*s, r.msg_id & kMaxMessageSeq, r);
      }
      return {};
    }
    default:
      CMQ_ASSERT(false, "not a per-topic command");
  }
  return {};
}

ApplyResult StateMachine::Impl::Publish(Topic& t, const Command& cmd, const ApplyContext& ctx,
                                        int64_t now_ms) {
  Status st = ValidatePublish(cmd, t);
  if (!st.ok()) return WithStatus(st);
  if (t.subscriptions.empty()) {
    return WithStatus(Status(ErrorCode::kTopicNoSubscription,
                             "topic has no subscription, please create a subscription before "
                             "publishing message"));
  }
  // (subscription, copy goes into a queue of this group now) per matched subscription. A
  // copy for a queue of another group cannot be enqueued in this apply: it waits as a push,
  // like HTTP, until the leader has sent it there.
  std::vector<std::pair<Subscription*, bool>> matched;
  uint64_t queue_copies = 0;
  for (auto& [key, s] : t.subscriptions) {
    if (!SubscriptionMatches(t.filter_type, s, cmd.msg_tags, cmd.routing_key)) continue;
    bool local_queue = s.protocol == Protocol::kQueue && Holds(s.endpoint);
    matched.emplace_back(&s, local_queue);
    if (local_queue) ++queue_copies;
  }
  if (matched.empty()) {
    return WithStatus(Status(ErrorCode::kNoMatchingSubscription,
                             "no bindingKey or filterTag matches the routingKey or msgTag"));
  }
  // One id per body, and one per queue copy: checked up front so nothing is half done.
  if (last_seq + cmd.bodies.size() * (1 + queue_copies) > kMaxMessageSeq) {
    return WithStatus(Status(ErrorCode::kInternal, "message id space of the group exhausted"));
  }
  TagList tags;
  if (!cmd.msg_tags.empty()) tags = std::make_shared<const std::vector<std::string>>(cmd.msg_tags);
  ApplyResult result;
  for (std::string_view body : cmd.bodies) {
    uint64_t seq = ++last_seq;
    result.msg_ids.push_back(id_base | seq);
    TopicMessage message{Locate(body, ctx), now_ms, tags, 0};
    for (auto [s, local_queue] : matched) {
      if (!local_queue) {
        t.AddPush(*s, seq, message);
      } else if (FeedQueue(*s, message.body, now_ms)) {
        result.queues_fed.push_back(NameKey(s->endpoint));
      }
    }
  }
  std::sort(result.queues_fed.begin(), result.queues_fed.end());
  result.queues_fed.erase(std::unique(result.queues_fed.begin(), result.queues_fed.end()),
                          result.queues_fed.end());
  return result;
}

bool StateMachine::Impl::FeedQueue(Subscription& s, const BodyLocation& body, int64_t now_ms) {
  Queue* q = Find(s.endpoint);
  if (q != nullptr) q->Advance(now_ms);
  if (q == nullptr || body.length > static_cast<uint64_t>(q->attributes().max_msg_size) ||
      !q->CheckSend(1, 0).ok()) {
    ++s.dropped;
    return false;
  }
  // A copy is a message of its own in that queue, with an id of its own: receipt handles,
  // dequeue counts and deletes are per queue message.
  q->Enqueue(++last_seq, body, now_ms, 0);
  q->Advance(now_ms);
  return true;
}

ApplyResult StateMachine::Impl::Subscribe(Topic& t, const Command& cmd, int64_t now_ms) {
  Status st = ValidateName(cmd.subscription_name, "subscriptionName");
  if (!st.ok()) return WithStatus(st);
  Result<Subscription> s = ApplySubscriptionUpdate(Subscription{}, cmd.subscription, true);
  if (!s.ok()) return WithStatus(s.status());
  std::string key = NameKey(cmd.subscription_name);
  if (t.subscriptions.contains(key)) {
    return WithStatus(Status(ErrorCode::kSubscriptionExists, "subscription is already existed"));
  }
  if (t.subscriptions.size() >= kMaxSubscriptionsPerTopic) {
    return WithStatus(Status(ErrorCode::kSubscriptionLimitReached,
                             "number of subscription has reached the limit"));
  }
  // A queue of another group is checked there by the API layer before this is proposed.
  if (s->protocol == Protocol::kQueue && Holds(s->endpoint) && Find(s->endpoint) == nullptr) {
    return WithStatus(Status(ErrorCode::kQueueNotExist, "queue is not existed, or deleted"));
  }
  s->id = "subscription-" + Base36(id_base | ++subscriptions_created);
  s->name = cmd.subscription_name;
  s->create_time_s = s->last_modify_time_s = now_ms / 1000;
  ApplyResult result;
  result.subscription_id = s->id;
  t.subscriptions.emplace(std::move(key), std::move(*s));
  return result;
}

ApplyResult StateMachine::Impl::UpdateSubscription(Topic& t, const Command& cmd, int64_t now_ms) {
  Subscription* s = t.FindSubscription(cmd.subscription_name);
  if (s == nullptr) return WithStatus(NoSubscription());
  SubscriptionUpdate update;
  if (cmd.type == CommandType::kClearSubscriptionFilterTags) {
    update.filter_tags.emplace();
  } else {
    update = cmd.subscription;
  }
  // Validate on settings only: the pending pushes are not copied for nothing.
  Subscription settings;
  settings.protocol = s->protocol;
  settings.endpoint = s->endpoint;
  settings.strategy = s->strategy;
  settings.format = s->format;
  settings.filter_tags = s->filter_tags;
  settings.binding_keys = s->binding_keys;
  Result<Subscription> updated = ApplySubscriptionUpdate(settings, update, false);
  if (!updated.ok()) return WithStatus(updated.status());
  s->strategy = updated->strategy;
  s->format = updated->format;
  s->filter_tags = std::move(updated->filter_tags);
  s->binding_keys = std::move(updated->binding_keys);
  s->last_modify_time_s = now_ms / 1000;
  return {};
}

}  // namespace cmq::mq
