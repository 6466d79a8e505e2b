#include "client/topic_responses.h"

#include "client/responses.h"

namespace cmq::client {

using nlohmann::json;

namespace {

void AppendList(FormParams* params, const std::string& name,
                const std::vector<std::string>& items) {
  for (size_t i = 0; i < items.size(); ++i) {
    params->emplace_back(name + "." + std::to_string(i + 1), items[i]);
  }
}

// An optional string field: empty when absent or not a string.
std::string OptionalString(const json& j, const char* field) {
  auto it = j.find(field);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

void TopicAttributes::AppendTo(FormParams* params) const {
  if (max_msg_size) params->emplace_back("maxMsgSize", std::to_string(*max_msg_size));
  if (filter_type) params->emplace_back("filterType", std::to_string(*filter_type));
}

void SubscriptionOptions::AppendTo(FormParams* params) const {
  if (notify_strategy) params->emplace_back("notifyStrategy", *notify_strategy);
  if (notify_content_format) params->emplace_back("notifyContentFormat", *notify_content_format);
  AppendList(params, "filterTag", filter_tags);
  AppendList(params, "bindingKey", binding_keys);
}

Result<std::vector<std::string>> ParseStringList(const json& j, const char* field) {
  std::vector<std::string> out;
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) return Error::Protocol(std::string(field) + " is not an array");
  for (const json& v : *it) {
    if (!v.is_string()) return Error::Protocol(std::string(field) + " holds a non-string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<TopicMeta> ParseTopicMeta(const json& j) {
  TopicMeta m;
  m.topic_id = OptionalString(j, "topicId");
  m.topic_name = OptionalString(j, "topicName");
  struct Field {
    const char* name;
    int64_t TopicMeta::*member;
  };
  // The six every SDK needs (spec §12).
  static constexpr Field kFields[] = {
      {"msgCount", &TopicMeta::msg_count},
      {"maxMsgSize", &TopicMeta::max_msg_size},
      {"msgRetentionSeconds", &TopicMeta::msg_retention_seconds},
      {"createTime", &TopicMeta::create_time},
      {"lastModifyTime", &TopicMeta::last_modify_time},
      {"filterType", &TopicMeta::filter_type},
  };
  for (const Field& f : kFields) {
    auto v = ParseInt(j, f.name);
    if (!v.ok()) return v.error();
    m.*f.member = *v;
  }
  if (auto v = ParseInt(j, "LoggingEnabled"); v.ok()) m.logging_enabled = *v;
  return m;
}

Result<TopicList> ParseTopicList(const json& j) {
  TopicList out;
  auto total = ParseInt(j, "totalCount");
  if (!total.ok()) return total.error();
  out.total_count = *total;
  auto it = j.find("topicList");
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) return Error::Protocol("topicList is not an array");
  for (const json& t : *it) {
    auto id = ParseString(t, "topicId");
    if (!id.ok()) return id.error();
    auto name = ParseString(t, "topicName");
    if (!name.ok()) return name.error();
    out.topics.push_back({std::move(*id), std::move(*name)});
  }
  return out;
}

Result<SubscriptionList> ParseSubscriptionList(const json& j) {
  SubscriptionList out;
  auto total = ParseInt(j, "totalCount");
  if (!total.ok()) return total.error();
  out.total_count = *total;
  auto it = j.find("subscriptionList");
  if (it == j.end() || it->is_null()) return out;  // Java reads an absent list as empty
  if (!it->is_array()) return Error::Protocol("subscriptionList is not an array");
  for (const json& s : *it) {
    SubscriptionListEntry e;
    for (auto [field, member] :
         {std::pair{"subscriptionId", &e.subscription_id},
          std::pair{"subscriptionName", &e.subscription_name}, std::pair{"protocol", &e.protocol},
          std::pair{"endpoint", &e.endpoint}}) {
      auto v = ParseString(s, field);
      if (!v.ok()) return v.error();
      *member = std::move(*v);
    }
    out.subscriptions.push_back(std::move(e));
  }
  return out;
}

Result<SubscriptionMeta> ParseSubscriptionMeta(const json& j) {
  SubscriptionMeta m;
  m.subscription_id = OptionalString(j, "subscriptionId");
  m.subscription_name = OptionalString(j, "subscriptionName");
  if (auto it = j.find("topicOwner"); it != j.end() && !it->is_null()) {
    m.topic_owner = it->is_string() ? it->get<std::string>() : it->dump();
  }
  // Both spellings are on the wire (spec §11); either will do.
  auto protocol = ParseString(j, "protocol");
  if (!protocol.ok()) protocol = ParseString(j, "protocal");
  if (!protocol.ok()) return protocol.error();
  m.protocol = std::move(*protocol);
  for (auto [field, member] :
       {std::pair{"endpoint", &m.endpoint}, std::pair{"notifyStrategy", &m.notify_strategy},
        std::pair{"notifyContentFormat", &m.notify_content_format}}) {
    auto v = ParseString(j, field);
    if (!v.ok()) return v.error();
    *member = std::move(*v);
  }
  for (auto [field, member] :
       {std::pair{"msgCount", &m.msg_count}, std::pair{"createTime", &m.create_time},
        std::pair{"lastModifyTime", &m.last_modify_time}}) {
    auto v = ParseInt(j, field);
    if (!v.ok()) return v.error();
    *member = *v;
  }
  auto tags = ParseStringList(j, j.contains("filterTag") ? "filterTag" : "filterTags");
  if (!tags.ok()) return tags.error();
  m.filter_tags = std::move(*tags);
  auto keys = ParseStringList(j, "bindingKey");
  if (!keys.ok()) return keys.error();
  m.binding_keys = std::move(*keys);
  return m;
}

}  // namespace cmq::client
