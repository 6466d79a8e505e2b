#pragma once
// Drives a StateMachine the way the real driver does: each command is encoded into an entry
// payload (EncodeEntryHeader + EncodeCommand), decoded back with DecodeEntry and applied
// with the payload as context. The clock is simulated: tests move now_ms by hand.

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mq/entry.h"
#include "mq/state_machine.h"

namespace cmq::mq::testing {

inline constexpr int64_t kStartMs = 1'700'000'000'000;

inline Command Cmd(CommandType type, const std::string& queue_name) {
  Command cmd;
  cmd.type = type;
  cmd.queue_name = queue_name;
  return cmd;
}

inline Command TopicCmd(CommandType type, const std::string& topic,
                        const std::string& subscription = "") {
  Command cmd;
  cmd.type = type;
  cmd.topic_name = topic;
  cmd.subscription_name = subscription;
  return cmd;
}

class Harness {
 public:
  explicit Harness(uint32_t group_id = 7, uint32_t group_count = 1) : sm(group_id, group_count) {}

  // Applies cmd in an entry of its own at now_ms.
  ApplyResult Apply(const Command& cmd) {
    std::string payload;
    EncodeEntryHeader(payload, now_ms, 1);
    EncodeCommand(cmd, payload);
    ++index;
    std::string& kept = keep_payloads ? payloads[index] : scratch;
    kept = std::move(payload);
    Result<DecodedEntry> entry = DecodeEntry(kept);
    EXPECT_TRUE(entry.ok()) << entry.status().ToString();
    EXPECT_EQ(entry->commands.size(), 1u);
    ApplyContext ctx{entry->now_ms, index, kept};
    follower_results.clear();
    for (StateMachine* f : followers) follower_results.push_back(f->Apply(entry->commands[0], ctx));
    return sm.Apply(entry->commands[0], ctx);
  }

  ApplyResult Create(const std::string& name, QueueAttributeUpdate attributes = {}) {
    Command cmd = Cmd(CommandType::kCreateQueue, name);
    cmd.attributes = attributes;
    return Apply(cmd);
  }
  ApplyResult SetAttributes(const std::string& name, QueueAttributeUpdate attributes) {
    Command cmd = Cmd(CommandType::kSetQueueAttributes, name);
    cmd.attributes = attributes;
    return Apply(cmd);
  }
  ApplyResult DeleteQueue(const std::string& name) {
    return Apply(Cmd(CommandType::kDeleteQueue, name));
  }
  ApplyResult Send(const std::string& name, std::vector<std::string> bodies,
                   int64_t delay_seconds = 0) {
    Command cmd = Cmd(CommandType::kSendMessages, name);
    for (const std::string& b : bodies) cmd.bodies.push_back(b);
    cmd.delay_seconds = delay_seconds;
    return Apply(cmd);
  }
  ApplyResult SendHalf(const std::string& name, std::vector<std::string> bodies,
                       int64_t check_ms = 5'000, const std::string& producer = "producer") {
    Command cmd = Cmd(CommandType::kSendHalfMessages, name);
    for (const std::string& b : bodies) cmd.bodies.push_back(b);
    cmd.transaction_check_ms = check_ms;
    cmd.producer = producer;
    return Apply(cmd);
  }
  ApplyResult Confirm(const std::string& name, std::vector<TransactionConfirm> confirms) {
    Command cmd = Cmd(CommandType::kConfirmTransaction, name);
    cmd.confirms = std::move(confirms);
    return Apply(cmd);
  }
  ApplyResult Receive(const std::string& name, uint32_t n = 1,
                      std::optional<int64_t> visibility_s = std::nullopt) {
    Command cmd = Cmd(CommandType::kReceiveMessages, name);
    cmd.num_messages = n;
    cmd.visibility_timeout_s = visibility_s;
    return Apply(cmd);
  }
  ApplyResult Delete(const std::string& name, std::vector<uint64_t> handles) {
    Command cmd = Cmd(CommandType::kDeleteMessages, name);
    cmd.receipt_handles = std::move(handles);
    return Apply(cmd);
  }
  ApplyResult Rewind(const std::string& name, int64_t start_s) {
    Command cmd = Cmd(CommandType::kRewindQueue, name);
    cmd.rewind_start_s = start_s;
    return Apply(cmd);
  }
  ApplyResult Housekeeping() { return Apply(Cmd(CommandType::kHousekeeping, "")); }

  // Topics.
  ApplyResult CreateTopic(const std::string& name, std::optional<int64_t> filter_type = {},
                          std::optional<int64_t> max_msg_size = {}) {
    Command cmd = TopicCmd(CommandType::kCreateTopic, name);
    cmd.topic_filter_type = filter_type;
    cmd.topic_max_msg_size = max_msg_size;
    return Apply(cmd);
  }
  ApplyResult Subscribe(const std::string& topic, const std::string& name,
                        const std::string& protocol, const std::string& endpoint,
                        std::vector<std::string> filter_tags = {},
                        std::vector<std::string> binding_keys = {}) {
    Command cmd = TopicCmd(CommandType::kSubscribe, topic, name);
    cmd.subscription.protocol = protocol;
    cmd.subscription.endpoint = endpoint;
    if (!filter_tags.empty()) cmd.subscription.filter_tags = std::move(filter_tags);
    if (!binding_keys.empty()) cmd.subscription.binding_keys = std::move(binding_keys);
    return Apply(cmd);
  }
  ApplyResult Publish(const std::string& topic, std::vector<std::string> bodies,
                      std::vector<std::string> tags = {}, const std::string& routing_key = "") {
    Command cmd = TopicCmd(CommandType::kPublishMessages, topic);
    for (const std::string& b : bodies) cmd.bodies.push_back(b);
    cmd.msg_tags = std::move(tags);
    cmd.routing_key = routing_key;
    return Apply(cmd);
  }
  ApplyResult PushResults(const std::string& topic, const std::string& subscription,
                          std::vector<PushResult> results) {
    Command cmd = TopicCmd(CommandType::kPushResults, topic, subscription);
    cmd.push_results = std::move(results);
    return Apply(cmd);
  }
  SubscriptionInfo SubInfo(const std::string& topic, const std::string& name) const {
    Result<SubscriptionInfo> info = sm.GetSubscription(topic, name, now_ms);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? *info : SubscriptionInfo{};
  }
  std::string Body(const BodyLocation& body) const {
    return payloads.at(body.log_index).substr(body.offset, body.length);
  }

  // The body of a received message, read back from the kept payload.
  std::string Body(const ReceivedMessage& m) const {
    const std::string& payload = payloads.at(m.body.log_index);
    return payload.substr(m.body.offset, m.body.length);
  }
  std::vector<std::string> Bodies(const ApplyResult& r) const {
    std::vector<std::string> out;
    for (const ReceivedMessage& m : r.messages) out.push_back(Body(m));
    return out;
  }
  QueueInfo Info(const std::string& name) const {
    Result<QueueInfo> info = sm.GetQueue(name, now_ms);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? *info : QueueInfo{};
  }
  // Receives one message and returns its body ("" if none).
  std::string ReceiveBody(const std::string& name) {
    ApplyResult r = Receive(name);
    return r.messages.empty() ? "" : Body(r.messages[0]);
  }

  StateMachine sm;
  // Machines that apply every command too, in the same entries (e.g. one restored from a
  // snapshot); their results of the last command, in order.
  std::vector<StateMachine*> followers;
  std::vector<ApplyResult> follower_results;
  int64_t now_ms = kStartMs;
  uint64_t index = 0;
  bool keep_payloads = true;
  std::map<uint64_t, std::string> payloads;
  std::string scratch;
};

// "q<i>". (Not `"q" + std::to_string(i)`: GCC 12 -O3 warns falsely on it, -Wrestrict.)
inline std::string NumberedName(uint64_t i) {
  std::string name = "q";
  name.append(std::to_string(i));
  return name;
}

inline std::vector<std::string> Strings(std::initializer_list<const char*> list) {
  return std::vector<std::string>(list.begin(), list.end());
}

}  // namespace cmq::mq::testing
