// The topic section of a snapshot, byte by byte in docs/snapshot-format.md "Topics".
#include "mq/topic_snapshot.h"

#include <limits>

#include "mq/attributes.h"
#include "mq/limits.h"
#include "mq/message_record.h"
#include "mq/placement.h"
#include "mq/topic_match.h"

namespace cmq::mq {
namespace {

// A held message is at least five one-byte varints and a tag count; a subscription at
// least 13 bytes; a pending push 3.
constexpr uint64_t kMinMessageBytes = 6;
constexpr uint64_t kMinSubscriptionBytes = 13;
constexpr uint64_t kMinPushBytes = 3;
constexpr size_t kMaxIdLength = 64;

Status Corrupt(std::string what) {
  return Status(ErrorCode::kCorruption, "snapshot: " + std::move(what));
}

bool AddWithin(uint64_t& value, uint64_t delta, uint64_t bound) {
  if (value > bound || delta > bound - value) return false;
  value += delta;
  return true;
}

void PutStrings(std::string& out, const std::vector<std::string>& list) {
  PutVarint64(out, list.size());
  for (const std::string& s : list) PutLengthPrefixed(out, s);
}

bool ReadStrings(Reader& in, std::vector<std::string>& list) {
  uint64_t n;
  if (!in.Varint64(n) || n > kMaxTags) return false;  // kMaxTags == kMaxBindingKeys
  list.resize(n);
  for (std::string& s : list) {
    std::string_view v;
    if (!in.LengthPrefixed(v)) return false;
    s.assign(v);
  }
  return true;
}
static_assert(kMaxTags == kMaxBindingKeys);

bool ReadByte(Reader& in, uint8_t& v, uint8_t max) {
  std::string_view b;
  if (!in.Bytes(1, b) || static_cast<uint8_t>(b[0]) > max) return false;
  v = static_cast<uint8_t>(b[0]);
  return true;
}

bool ReadTimes(Reader& in, int64_t& create_s, int64_t& modify_s, int64_t last_now_ms) {
  uint64_t c;
  uint64_t m;
  if (!in.Varint64(c) || !in.Varint64(m) || c > m ||
      m > static_cast<uint64_t>(last_now_ms / 1000)) {
    return false;
  }
  create_s = static_cast<int64_t>(c);
  modify_s = static_cast<int64_t>(m);
  return true;
}

void AppendSubscription(const Topic& t, const Subscription& s, std::string& out) {
  PutLengthPrefixed(out, s.id);
  PutLengthPrefixed(out, s.name);
  out.push_back(static_cast<char>(s.protocol));
  PutLengthPrefixed(out, s.endpoint);
  out.push_back(static_cast<char>(s.strategy));
  out.push_back(static_cast<char>(s.format));
  PutStrings(out, s.filter_tags);
  PutStrings(out, s.binding_keys);
  PutVarint64(out, static_cast<uint64_t>(s.create_time_s));
  PutVarint64(out, static_cast<uint64_t>(s.last_modify_time_s));
  PutVarint64(out, s.dropped);
  PutVarint64(out, s.pending.size());
  uint64_t prev_seq = 0;
  for (const auto& [seq, push] : s.pending) {
    PutVarint64(out, seq - prev_seq);
    PutVarintSigned64(out, push.next_attempt_ms - t.messages.at(seq).publish_ms);
    PutVarint64(out, push.attempts);
    prev_seq = seq;
  }
}

void AppendTopic(const Topic& t, std::string& out) {
  PutLengthPrefixed(out, t.id);
  PutLengthPrefixed(out, t.name);
  PutVarint64(out, static_cast<uint64_t>(t.max_msg_size));
  out.push_back(static_cast<char>(t.filter_type));
  PutVarint64(out, static_cast<uint64_t>(t.create_time_s));
  PutVarint64(out, static_cast<uint64_t>(t.last_modify_time_s));
  PutVarint64(out, t.messages.size());
  uint64_t prev_seq = 0;
  uint64_t prev_index = 0;
  uint64_t prev_ms = 0;
  for (const auto& [seq, m] : t.messages) {
    PutVarint64(out, seq - prev_seq);
    PutVarint64(out, m.body.log_index - prev_index);
    PutVarint64(out, static_cast<uint64_t>(m.publish_ms) - prev_ms);
    PutVarint64(out, m.body.offset);
    PutVarint64(out, m.body.length);
    PutStrings(out, m.tags ? *m.tags : std::vector<std::string>{});
    prev_seq = seq;
    prev_index = m.body.log_index;
    prev_ms = static_cast<uint64_t>(m.publish_ms);
  }
  PutVarint64(out, t.subscriptions.size());
  for (const auto& [key, s] : t.subscriptions) AppendSubscription(t, s, out);
}

Status ReadMessages(Reader& in, const Queue::RestoreBounds& b, Topic& t) {
  uint64_t count;
  if (!in.Varint64(count) || count > in.remaining() / kMinMessageBytes) {
    return Corrupt("bad message count of topic " + t.name);
  }
  uint64_t seq = 0;
  uint64_t index = 0;
  uint64_t ms = 0;
  TagList previous_tags;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t seq_delta, index_delta, ms_delta;
    TopicMessage m;
    std::vector<std::string> tags;
    if (!in.Varint64(seq_delta) || !in.Varint64(index_delta) || !in.Varint64(ms_delta) ||
        !in.Varint(m.body.offset) || !in.Varint(m.body.length) || !ReadStrings(in, tags) ||
        !ValidateTags(tags, "msgTag").ok()) {
      return Corrupt("bad message in topic " + t.name);
    }
    if (seq_delta == 0 || !AddWithin(seq, seq_delta, b.last_seq) ||
        !AddWithin(index, index_delta, b.last_index) ||
        !AddWithin(ms, ms_delta, static_cast<uint64_t>(b.last_now_ms))) {
      return Corrupt("message out of order or out of bounds in topic " + t.name);
    }
    m.body.log_index = index;
    m.publish_ms = static_cast<int64_t>(ms);
    // One tag list per run of equal ones, as a batch publish shares it.
    if (!tags.empty()) {
      if (!previous_tags || *previous_tags != tags) {
        previous_tags = std::make_shared<const std::vector<std::string>>(std::move(tags));
      }
      m.tags = previous_tags;
    }
    t.messages.emplace(seq, std::move(m));
  }
  return Status::Ok();
}

Status ReadPending(Reader& in, Topic& t, Subscription& s) {
  uint64_t count;
  if (!in.Varint64(count) || count > in.remaining() / kMinPushBytes) {
    return Corrupt("bad pending count of subscription " + s.name);
  }
  uint64_t seq = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t delta;
    int64_t offset;
    PushState push;
    if (!in.Varint64(delta) || !in.VarintSigned64(offset) || !in.Varint(push.attempts) ||
        delta == 0 || !AddWithin(seq, delta, kMaxMessageSeq)) {
      return Corrupt("bad pending push of subscription " + s.name);
    }
    auto m = t.messages.find(seq);
    if (m == t.messages.end() ||
        __builtin_add_overflow(m->second.publish_ms, offset, &push.next_attempt_ms)) {
      return Corrupt("a pending push of no held message in subscription " + s.name);
    }
    ++m->second.waiting;
    s.pending.emplace(seq, push);
    s.schedule.emplace(push.next_attempt_ms, seq);
  }
  return Status::Ok();
}

Status ReadSubscription(Reader& in, const Queue::RestoreBounds& b, Topic& t) {
  Subscription s;
  std::string_view id, name, endpoint;
  uint8_t protocol, strategy, format;
  if (!in.LengthPrefixed(id) || id.empty() || id.size() > kMaxIdLength ||
      !in.LengthPrefixed(name) || !ValidateName(name, "subscriptionName").ok() ||
      !ReadByte(in, protocol, 1) || !in.LengthPrefixed(endpoint) || !ReadByte(in, strategy, 1) ||
      !ReadByte(in, format, 1) || !ReadStrings(in, s.filter_tags) ||
      !ReadStrings(in, s.binding_keys) ||
      !ReadTimes(in, s.create_time_s, s.last_modify_time_s, b.last_now_ms) ||
      !in.Varint64(s.dropped)) {
    return Corrupt("bad subscription in topic " + t.name);
  }
  s.id.assign(id);
  s.name.assign(name);
  s.protocol = static_cast<Protocol>(protocol);
  s.endpoint.assign(endpoint);
  s.strategy = static_cast<NotifyStrategy>(strategy);
  s.format = static_cast<ContentFormat>(format);
  Status st = s.protocol == Protocol::kHttp ? ValidateHttpEndpoint(s.endpoint)
                                            : ValidateQueueName(s.endpoint);
  if (st.ok()) st = ValidateTags(s.filter_tags, "filterTag");
  if (st.ok()) st = ValidateBindingKeys(s.binding_keys);
  if (!st.ok()) return Corrupt("subscription " + s.name + ": " + st.message());
  std::string key = NameKey(s.name);
  auto [it, fresh] = t.subscriptions.emplace(std::move(key), std::move(s));
  if (!fresh) return Corrupt("duplicate subscription name in topic " + t.name);
  return ReadPending(in, t, it->second);
}

Result<std::unique_ptr<Topic>> ReadTopic(Reader& in, const Queue::RestoreBounds& b) {
  auto t = std::make_unique<Topic>();
  std::string_view id, name;
  uint64_t max_msg_size;
  uint8_t filter_type;
  if (!in.LengthPrefixed(id) || id.empty() || id.size() > kMaxIdLength ||
      !in.LengthPrefixed(name) || !ValidateName(name, "topicName").ok() ||
      !in.Varint64(max_msg_size) || max_msg_size < kTopicMaxMsgSizeMin ||
      max_msg_size > kTopicMaxMsgSizeMax || !ReadByte(in, filter_type, 2) || filter_type == 0 ||
      !ReadTimes(in, t->create_time_s, t->last_modify_time_s, b.last_now_ms)) {
    return Corrupt("bad topic");
  }
  t->id.assign(id);
  t->name.assign(name);
  t->max_msg_size = static_cast<int64_t>(max_msg_size);
  t->filter_type = filter_type;
  Status st = ReadMessages(in, b, *t);
  if (!st.ok()) return st;
  uint64_t count;
  if (!in.Varint64(count) || count > kMaxSubscriptionsPerTopic ||
      count > in.remaining() / kMinSubscriptionBytes) {
    return Corrupt("bad subscription count of topic " + t->name);
  }
  for (uint64_t i = 0; i < count; ++i) {
    st = ReadSubscription(in, b, *t);
    if (!st.ok()) return st;
  }
  for (const auto& [seq, m] : t->messages) {
    if (m.waiting == 0) return Corrupt("a held message nobody waits for in topic " + t->name);
  }
  return t;
}

}  // namespace

void AppendTopicsSnapshot(const TopicMap& topics, uint64_t topics_created,
                          uint64_t subscriptions_created, std::string& out) {
  PutVarint64(out, topics_created);
  PutVarint64(out, subscriptions_created);
  PutVarint64(out, topics.size());
  for (const auto& [key, t] : topics) AppendTopic(*t, out);
}

Status ReadTopicsSnapshot(Reader& in, const Queue::RestoreBounds& bounds, TopicMap& topics,
                          uint64_t& topics_created, uint64_t& subscriptions_created) {
  uint64_t count;
  if (!in.Varint64(topics_created) || !in.Varint64(subscriptions_created) || !in.Varint64(count) ||
      topics_created > kMaxMessageSeq || subscriptions_created > kMaxMessageSeq ||
      count > kMaxTopics || count > topics_created) {
    return Corrupt("bad topic counters");
  }
  uint64_t subscriptions = 0;
  for (uint64_t i = 0; i < count; ++i) {
    Result<std::unique_ptr<Topic>> t = ReadTopic(in, bounds);
    if (!t.ok()) return t.status();
    subscriptions += (*t)->subscriptions.size();
    std::string key = NameKey((*t)->name);
    if (!topics.emplace(std::move(key), std::move(*t)).second) {
      return Corrupt("duplicate topic name");
    }
  }
  if (subscriptions > subscriptions_created) return Corrupt("more subscriptions than created");
  return Status::Ok();
}

Status CheckTopicPlacement(const TopicMap& topics, uint32_t group_id, uint32_t group_count) {
  auto holds = [&](std::string_view name) { return IsPlacedOn(name, group_id, group_count); };
  for (const auto& [key, t] : topics) {
    if (!holds(t->name)) return Corrupt("topic " + t->name + " of another group");
    for (const auto& [sub_key, s] : t->subscriptions) {
      if (s.protocol == Protocol::kQueue && !s.pending.empty() && holds(s.endpoint)) {
        return Corrupt("pending pushes to queue " + s.endpoint + " of this group in subscription " +
                       s.name);
      }
    }
  }
  return Status::Ok();
}

}  // namespace cmq::mq
