#pragma once
// Shorthands for topic and subscription requests through a DispatcherHarness.

#include <gtest/gtest.h>

#include <string>

#include "api_test_util.h"

namespace cmq::api::testing {

class TopicTest : public ::testing::Test {
 protected:
  // Posts {Action: action} plus form.
  nlohmann::json Call(const std::string& action, FormParams form = {}) {
    form.insert(form.begin(), {"Action", action});
    return h.Post(form);
  }
  nlohmann::json CreateTopic(const std::string& name, FormParams extra = {}) {
    extra.insert(extra.begin(), {"topicName", name});
    return Call("CreateTopic", std::move(extra));
  }
  nlohmann::json CreateQueue(const std::string& name) {
    return Call("CreateQueue", {{"queueName", name}});
  }
  // A subscription of topic; protocol/endpoint default to an http one.
  nlohmann::json Subscribe(const std::string& topic, const std::string& name,
                           FormParams extra = {}) {
    FormParams form = {{"topicName", topic}, {"subscriptionName", name}};
    bool has_protocol = false;
    for (const auto& [key, value] : extra) has_protocol |= key == "protocol";
    if (!has_protocol) {
      form.emplace_back("protocol", "http");
      form.emplace_back("endpoint", "http://127.0.0.1:9/push");
    }
    form.insert(form.end(), extra.begin(), extra.end());
    return Call("Subscribe", std::move(form));
  }
  // A queue subscription of topic delivering into queue.
  nlohmann::json SubscribeQueue(const std::string& topic, const std::string& name,
                                const std::string& queue, FormParams extra = {}) {
    extra.insert(extra.begin(), {{"protocol", "queue"}, {"endpoint", queue}});
    return Subscribe(topic, name, std::move(extra));
  }
  nlohmann::json Publish(const std::string& topic, const std::string& body, FormParams extra = {}) {
    extra.insert(extra.begin(), {{"topicName", topic}, {"msgBody", body}});
    return Call("PublishMessage", std::move(extra));
  }
  nlohmann::json GetSubscription(const std::string& topic, const std::string& name) {
    return Call("GetSubscriptionAttributes", {{"topicName", topic}, {"subscriptionName", name}});
  }
  // The `message` of an answer (for compact error assertions).
  static std::string Message(const nlohmann::json& j) {
    return j.contains("message") && j["message"].is_string() ? std::string(j["message"]) : "";
  }
  static bool IsDecimal(const nlohmann::json& j) {
    if (!j.is_string()) return false;
    std::string s = j;
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
  }

  DispatcherHarness h;
};

}  // namespace cmq::api::testing
