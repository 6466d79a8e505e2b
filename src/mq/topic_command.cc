#include "mq/topic_command.h"

namespace cmq::mq {
namespace {

// Presence bits of a SubscriptionUpdate, in this order; bits 6-7 must be zero.
enum SubscriptionBit : uint8_t {
  kProtocolBit = 1 << 0,
  kEndpointBit = 1 << 1,
  kStrategyBit = 1 << 2,
  kFormatBit = 1 << 3,
  kFilterTagsBit = 1 << 4,
  kBindingKeysBit = 1 << 5,
};
constexpr uint8_t kSubscriptionBits = 0x3f;
// Presence bits of the topic attributes: maxMsgSize, filterType.
constexpr uint8_t kMaxMsgSizeBit = 1 << 0;
constexpr uint8_t kFilterTypeBit = 1 << 1;

// A count of items each taking at least one byte cannot exceed the bytes left; checking
// this first keeps garbage from reserving huge vectors.
bool Count(Reader& r, uint64_t& n) {
  return r.Varint64(n) && n <= r.remaining();
}

bool Byte(Reader& r, uint8_t& v) {
  std::string_view b;
  if (!r.Bytes(1, b)) return false;
  v = static_cast<uint8_t>(b[0]);
  return true;
}

bool String(Reader& r, std::string& s) {
  std::string_view v;
  if (!r.LengthPrefixed(v)) return false;
  s.assign(v);
  return true;
}

void PutStrings(std::string& out, const std::vector<std::string>& list) {
  PutVarint64(out, list.size());
  for (const std::string& s : list) PutLengthPrefixed(out, s);
}

bool Strings(Reader& r, std::vector<std::string>& list) {
  uint64_t n;
  if (!Count(r, n)) return false;
  list.resize(n);
  for (std::string& s : list) {
    if (!String(r, s)) return false;
  }
  return true;
}

void EncodeTopicAttributes(const Command& cmd, std::string& out) {
  uint8_t present =
      (cmd.topic_max_msg_size ? kMaxMsgSizeBit : 0) | (cmd.topic_filter_type ? kFilterTypeBit : 0);
  out.push_back(static_cast<char>(present));
  if (cmd.topic_max_msg_size) PutVarintSigned64(out, *cmd.topic_max_msg_size);
  if (cmd.topic_filter_type) PutVarintSigned64(out, *cmd.topic_filter_type);
}

bool DecodeOptional(Reader& r, bool present, std::optional<int64_t>& field) {
  if (!present) return true;
  int64_t v;
  if (!r.VarintSigned64(v)) return false;
  field = v;
  return true;
}

bool DecodeTopicAttributes(Reader& r, Command& cmd) {
  uint8_t present;
  if (!Byte(r, present) || (present & ~(kMaxMsgSizeBit | kFilterTypeBit)) != 0) return false;
  return DecodeOptional(r, present & kMaxMsgSizeBit, cmd.topic_max_msg_size) &&
         DecodeOptional(r, present & kFilterTypeBit, cmd.topic_filter_type);
}

void EncodeSubscription(const SubscriptionUpdate& u, std::string& out) {
  uint8_t present = (u.protocol ? kProtocolBit : 0) | (u.endpoint ? kEndpointBit : 0) |
                    (u.notify_strategy ? kStrategyBit : 0) |
                    (u.notify_content_format ? kFormatBit : 0) |
                    (u.filter_tags ? kFilterTagsBit : 0) | (u.binding_keys ? kBindingKeysBit : 0);
  out.push_back(static_cast<char>(present));
  for (const auto* field :
       {&u.protocol, &u.endpoint, &u.notify_strategy, &u.notify_content_format}) {
    if (field->has_value()) PutLengthPrefixed(out, **field);
  }
  if (u.filter_tags) PutStrings(out, *u.filter_tags);
  if (u.binding_keys) PutStrings(out, *u.binding_keys);
}

bool DecodeSubscription(Reader& r, SubscriptionUpdate& u) {
  uint8_t present;
  if (!Byte(r, present) || (present & ~kSubscriptionBits) != 0) return false;
  uint8_t bit = kProtocolBit;
  for (auto* field : {&u.protocol, &u.endpoint, &u.notify_strategy, &u.notify_content_format}) {
    if ((present & bit) != 0 && !String(r, field->emplace())) return false;
    bit = static_cast<uint8_t>(bit << 1);
  }
  if ((present & kFilterTagsBit) != 0 && !Strings(r, u.filter_tags.emplace())) return false;
  return (present & kBindingKeysBit) == 0 || Strings(r, u.binding_keys.emplace());
}

bool HasSubscriptionName(CommandType type) {
  return type >= CommandType::kSubscribe && type <= CommandType::kPushResults;
}

}  // namespace

bool IsTopicCommand(CommandType type) {
  return type >= CommandType::kCreateTopic && type <= CommandType::kPushResults;
}

void EncodeTopicBody(const Command& cmd, std::string& out) {
  PutLengthPrefixed(out, cmd.topic_name);
  if (HasSubscriptionName(cmd.type)) PutLengthPrefixed(out, cmd.subscription_name);
  switch (cmd.type) {
    case CommandType::kCreateTopic:
    case CommandType::kSetTopicAttributes:
      EncodeTopicAttributes(cmd, out);
      break;
    case CommandType::kPublishMessages:
      PutVarint64(out, cmd.bodies.size());
      for (std::string_view body : cmd.bodies) PutLengthPrefixed(out, body);
      PutStrings(out, cmd.msg_tags);
      PutLengthPrefixed(out, cmd.routing_key);
      break;
    case CommandType::kSubscribe:
    case CommandType::kSetSubscriptionAttributes:
      EncodeSubscription(cmd.subscription, out);
      break;
    case CommandType::kPushResults:
      PutVarint64(out, cmd.push_results.size());
      for (const PushResult& p : cmd.push_results) {
        PutVarint64(out, p.msg_id);
        out.push_back(p.delivered ? 1 : 0);
        PutVarintSigned64(out, p.next_attempt_ms);
      }
      break;
    default:  // kDeleteTopic, kUnsubscribe, kClearSubscriptionFilterTags: names only
      break;
  }
}

bool DecodeTopicBody(Reader& r, Command& cmd) {
  if (!String(r, cmd.topic_name)) return false;
  if (HasSubscriptionName(cmd.type) && !String(r, cmd.subscription_name)) return false;
  switch (cmd.type) {
    case CommandType::kCreateTopic:
    case CommandType::kSetTopicAttributes:
      return DecodeTopicAttributes(r, cmd);
    case CommandType::kPublishMessages: {
      uint64_t n;
      if (!Count(r, n)) return false;
      cmd.bodies.resize(n);
      for (auto& body : cmd.bodies) {
        if (!r.LengthPrefixed(body)) return false;
      }
      std::string_view key;
      if (!Strings(r, cmd.msg_tags) || !r.LengthPrefixed(key)) return false;
      cmd.routing_key.assign(key);
      return true;
    }
    case CommandType::kSubscribe:
    case CommandType::kSetSubscriptionAttributes:
      return DecodeSubscription(r, cmd.subscription);
    case CommandType::kPushResults: {
      uint64_t n;
      if (!Count(r, n)) return false;
      cmd.push_results.resize(n);
      for (PushResult& p : cmd.push_results) {
        uint8_t delivered;
        if (!r.Varint64(p.msg_id) || !Byte(r, delivered) || delivered > 1 ||
            !r.VarintSigned64(p.next_attempt_ms)) {
          return false;
        }
        p.delivered = delivered == 1;
      }
      return true;
    }
    default:
      return true;
  }
}

}  // namespace cmq::mq
