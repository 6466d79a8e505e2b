#pragma once
// Typed views of CMQ API 2.0 topic and subscription responses (spec §10.5, §10.6, §11, §12)
// and their parsing from the JSON envelope, as responses.h does for queues.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "client/error.h"
#include "common/url.h"

namespace cmq::client {

inline constexpr int kFilterTypeTags = 1;
inline constexpr int kFilterTypeRouting = 2;

// Settable topic attributes: only the present ones are sent. filterType is fixed at
// CreateTopic (SetTopicAttributes changes maxMsgSize only; the server refuses a different
// filterType).
struct TopicAttributes {
  std::optional<int64_t> max_msg_size;
  std::optional<int> filter_type;  // kFilterTypeTags (default) or kFilterTypeRouting

  void AppendTo(FormParams* params) const;
};

// GetTopicAttributes.
struct TopicMeta {
  std::string topic_id;    // empty if the server does not return it
  std::string topic_name;  // empty if the server does not return it
  int64_t msg_count = 0;   // messages not yet delivered to every HTTP subscription
  int64_t max_msg_size = 0;
  int64_t msg_retention_seconds = 0;
  int64_t create_time = 0;
  int64_t last_modify_time = 0;
  int64_t filter_type = 0;
  int64_t logging_enabled = 0;  // optional on the wire
};

struct TopicListEntry {
  std::string topic_id;
  std::string topic_name;
};

struct TopicList {
  int64_t total_count = 0;  // topics matching the search word, not the page size
  std::vector<TopicListEntry> topics;
};

// Subscribe and SetSubscriptionAttributes options: only the present ones are sent. Empty
// lists are not sent (so SetSubscriptionAttributes leaves them as they are; to remove the
// filter tags use ClearSubscriptionFilterTags).
struct SubscriptionOptions {
  std::optional<std::string> notify_strategy;        // BACKOFF_RETRY | EXPONENTIAL_DECAY_RETRY
  std::optional<std::string> notify_content_format;  // JSON | SIMPLIFIED
  std::vector<std::string> filter_tags;              // filterTag.1..n (at most 5)
  std::vector<std::string> binding_keys;             // bindingKey.1..n (at most 5)

  void AppendTo(FormParams* params) const;
};

struct SubscriptionListEntry {
  std::string subscription_id;
  std::string subscription_name;
  std::string protocol;
  std::string endpoint;
};

struct SubscriptionList {
  int64_t total_count = 0;
  std::vector<SubscriptionListEntry> subscriptions;
};

// GetSubscriptionAttributes.
struct SubscriptionMeta {
  std::string subscription_id;    // empty if the server does not return it
  std::string subscription_name;  // empty if the server does not return it
  std::string topic_owner;        // a string or a number on the wire
  int64_t msg_count = 0;          // pushes waiting to be delivered
  std::string protocol;           // "protocol" or the SDKs' "protocal"
  std::string endpoint;
  std::string notify_strategy;
  std::string notify_content_format;
  int64_t create_time = 0;
  int64_t last_modify_time = 0;
  std::vector<std::string> filter_tags;   // "filterTag" or "filterTags"; null = none
  std::vector<std::string> binding_keys;  // "bindingKey"; null = none
};

Result<TopicMeta> ParseTopicMeta(const nlohmann::json& j);
Result<TopicList> ParseTopicList(const nlohmann::json& j);                // topicList
Result<SubscriptionList> ParseSubscriptionList(const nlohmann::json& j);  // subscriptionList
Result<SubscriptionMeta> ParseSubscriptionMeta(const nlohmann::json& j);
// A list of strings; absent or null is an empty list.
Result<std::vector<std::string>> ParseStringList(const nlohmann::json& j, const char* field);

}  // namespace cmq::client
