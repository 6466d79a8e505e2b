#pragma once
// Internal to mq/: topics, their subscriptions and the pending pushes (docs/topic-model.md).
// A topic holds no message for a queue subscription whose queue is in this group (a copy
// goes straight into the endpoint queue); it holds a published message only while some
// subscription still has to be pushed it, once, whatever the number of subscriptions. A
// push goes to an HTTP endpoint, or to a queue placed on another data group (placement.h).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "mq/state_machine.h"

namespace cmq::mq {

enum class Protocol : uint8_t { kQueue = 0, kHttp = 1 };
enum class NotifyStrategy : uint8_t { kBackoffRetry = 0, kExponentialDecayRetry = 1 };
enum class ContentFormat : uint8_t { kJson = 0, kSimplified = 1 };

std::string_view ProtocolName(Protocol p);
std::string_view StrategyName(NotifyStrategy s);
std::string_view FormatName(ContentFormat f);

// The tags of one publish, shared by its messages (a batch has one tag list); null if none.
using TagList = std::shared_ptr<const std::vector<std::string>>;

struct TopicMessage {
  BodyLocation body;
  int64_t publish_ms = 0;
  TagList tags;
  uint32_t waiting = 0;  // subscriptions with a pending push of it; >= 1 while held
};

struct PushState {
  int64_t next_attempt_ms = 0;
  uint32_t attempts = 0;  // failed attempts so far
};

struct Subscription {
  std::string id;
  std::string name;  // as created
  Protocol protocol = Protocol::kQueue;
  std::string endpoint;  // a queue name (as given) or an http(s) URL
  NotifyStrategy strategy = NotifyStrategy::kExponentialDecayRetry;
  ContentFormat format = ContentFormat::kJson;
  std::vector<std::string> filter_tags;
  std::vector<std::string> binding_keys;
  int64_t create_time_s = 0;
  int64_t last_modify_time_s = 0;
  // Copies not delivered: endpoint queue gone, full or with a smaller maxMsgSize; pushes
  // given up by the pusher or past retention.
  uint64_t dropped = 0;
  // By seq (publish order). HTTP, or a queue of another data group; else always empty.
  std::map<uint64_t, PushState> pending;
  std::set<std::pair<int64_t, uint64_t>> schedule;  // (next_attempt_ms, seq) of pending
};

struct Topic {
  std::string id;
  std::string name;  // as created
  int64_t max_msg_size = 0;
  int64_t filter_type = 1;
  int64_t create_time_s = 0;
  int64_t last_modify_time_s = 0;
  std::map<std::string, Subscription> subscriptions;  // by NameKey
  std::map<uint64_t, TopicMessage> messages;          // by seq; only those still waited for

  Subscription* FindSubscription(std::string_view name);
  const Subscription* FindSubscription(std::string_view name) const;

  // Holds message seq (if not yet held) and makes it pending for s, due at publish time.
  void AddPush(Subscription& s, uint64_t seq, const TopicMessage& message);
  // The result of pushing message seq (the low bits of result.msg_id) to s. Delivered:
  // removed; failed with a next attempt: rescheduled; given up: dropped and counted. A
  // result for a message not pending for s is ignored.
  void ApplyPushResult(Subscription& s, uint64_t seq, const PushResult& result);
  // Drops every pending push of s (Unsubscribe).
  void DropAllPushes(Subscription& s);
  // Drops (and counts) pending pushes published at or before now - retention.
  void DropExpired(int64_t now_ms);
  // The smallest log index a held message's body is in; nullopt if none.
  std::optional<uint64_t> OldestLogIndex() const;

  void FillInfo(TopicInfo& info) const;
  void FillSubscriptionInfo(const Subscription& s, SubscriptionInfo& info) const;

 private:
  void RemovePush(Subscription& s, std::map<uint64_t, PushState>::iterator it);
};

}  // namespace cmq::mq
