#include "mq/topic_match.h"

#include <algorithm>

#include "mq/attributes.h"
#include "mq/limits.h"

namespace cmq::mq {
namespace {

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

// The '.'-separated words of key; "" has none (not one empty word).
std::vector<std::string_view> Words(std::string_view key) {
  std::vector<std::string_view> words;
  if (key.empty()) return words;
  size_t start = 0;
  while (true) {
    size_t dot = key.find('.', start);
    words.push_back(key.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return words;
    start = dot + 1;
  }
}

bool HasBlank(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

}  // namespace

bool TagsMatch(const std::vector<std::string>& filter_tags,
               const std::vector<std::string>& msg_tags) {
  if (filter_tags.empty()) return true;
  return std::any_of(filter_tags.begin(), filter_tags.end(), [&](const std::string& tag) {
    return std::find(msg_tags.begin(), msg_tags.end(), tag) != msg_tags.end();
  });
}

bool RoutingKeyMatches(std::string_view binding_key, std::string_view routing_key) {
  std::vector<std::string_view> pattern = Words(binding_key);
  std::vector<std::string_view> words = Words(routing_key);
  // match[i][j]: pattern[i..] matches words[j..]. A table, not backtracking, so that
  // "#.#.#..." stays linear in its size (at most 17 x 17 for valid keys).
  size_t np = pattern.size();
  size_t nw = words.size();
  std::vector<std::vector<char>> match(np + 1, std::vector<char>(nw + 1, 0));
  match[np][nw] = 1;
  for (size_t i = np; i-- > 0;) {
    for (size_t j = nw + 1; j-- > 0;) {
      if (pattern[i] == "#") {
        match[i][j] = match[i + 1][j] || (j < nw && match[i][j + 1]);
      } else if (j < nw) {
        bool word_ok = pattern[i] == "*" ? !words[j].empty() : pattern[i] == words[j];
        match[i][j] = word_ok && match[i + 1][j + 1];
      }
    }
  }
  return match[0][0] != 0;
}

bool BindingKeysMatch(const std::vector<std::string>& binding_keys, std::string_view routing_key) {
  if (binding_keys.empty()) return true;
  return std::any_of(binding_keys.begin(), binding_keys.end(),
                     [&](const std::string& key) { return RoutingKeyMatches(key, routing_key); });
}

bool SubscriptionMatches(int64_t filter_type, const Subscription& s,
                         const std::vector<std::string>& msg_tags, std::string_view routing_key) {
  if (filter_type == 2) return BindingKeysMatch(s.binding_keys, routing_key);
  return TagsMatch(s.filter_tags, msg_tags);
}

size_t TagLength(std::string_view tag) {
  return static_cast<size_t>(std::count_if(tag.begin(), tag.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

Status ValidateTags(const std::vector<std::string>& tags, std::string_view parameter) {
  if (tags.size() > kMaxTags) return Invalid(std::string(parameter) + ": at most 5 tags");
  for (const std::string& tag : tags) {
    if (tag.empty() || TagLength(tag) > kMaxTagLength) {
      return Invalid(std::string(parameter) + ": each tag 1-16 characters");
    }
  }
  return Status::Ok();
}

Status ValidateRoutingKey(std::string_view key, std::string_view parameter, bool allow_empty) {
  if ((key.empty() && !allow_empty) || key.size() > kMaxRoutingKeyLength) {
    return Invalid(std::string(parameter) + ": " + (allow_empty ? "0" : "1") + "-64 bytes");
  }
  if (std::count(key.begin(), key.end(), '.') > kMaxRoutingKeyDots) {
    return Invalid(std::string(parameter) + ": at most 15 dots");
  }
  return Status::Ok();
}

Status ValidateBindingKeys(const std::vector<std::string>& keys) {
  if (keys.size() > kMaxBindingKeys) return Invalid("bindingKey: at most 5 keys");
  for (const std::string& key : keys) {
    Status st = ValidateRoutingKey(key, "bindingKey", false);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

Status ValidateHttpEndpoint(std::string_view endpoint) {
  bool scheme = endpoint.starts_with("http://") || endpoint.starts_with("https://");
  if (!scheme || endpoint.size() > kMaxEndpointLength) {
    return Invalid("endpoint: an http:// or https:// URL of at most 500 characters");
  }
  if (HasBlank(endpoint)) return Invalid("endpoint: url cannot contain any blank characters");
  return Status::Ok();
}

namespace {

Status SetCreationFields(Subscription& s, const SubscriptionUpdate& u) {
  if (!u.protocol || (*u.protocol != "queue" && *u.protocol != "http")) {
    return Invalid("protocol: queue or http");
  }
  s.protocol = *u.protocol == "queue" ? Protocol::kQueue : Protocol::kHttp;
  if (!u.endpoint) return Invalid("endpoint: required");
  s.endpoint = *u.endpoint;
  if (s.protocol == Protocol::kHttp) return ValidateHttpEndpoint(s.endpoint);
  Status st = ValidateQueueName(s.endpoint);
  return st.ok() ? st : Invalid("endpoint: the name of a queue");
}

}  // namespace

Result<Subscription> ApplySubscriptionUpdate(const Subscription& base, const SubscriptionUpdate& u,
                                             bool creating) {
  Subscription s = base;
  if (creating) {
    Status st = SetCreationFields(s, u);
    if (!st.ok()) return st;
  } else if ((u.protocol && *u.protocol != ProtocolName(s.protocol)) ||
             (u.endpoint && *u.endpoint != s.endpoint)) {
    return Invalid("protocol, endpoint: cannot change");
  }
  if (u.notify_strategy) {
    if (*u.notify_strategy == StrategyName(NotifyStrategy::kBackoffRetry)) {
      s.strategy = NotifyStrategy::kBackoffRetry;
    } else if (*u.notify_strategy == StrategyName(NotifyStrategy::kExponentialDecayRetry)) {
      s.strategy = NotifyStrategy::kExponentialDecayRetry;
    } else {
      return Invalid("notifyStrategy: BACKOFF_RETRY or EXPONENTIAL_DECAY_RETRY");
    }
  }
  if (u.notify_content_format) {
    if (*u.notify_content_format == FormatName(ContentFormat::kJson)) {
      s.format = ContentFormat::kJson;
    } else if (*u.notify_content_format == FormatName(ContentFormat::kSimplified)) {
      s.format = ContentFormat::kSimplified;
    } else {
      return Invalid("notifyContentFormat: JSON or SIMPLIFIED");
    }
  }
  if (u.filter_tags) s.filter_tags = *u.filter_tags;
  if (u.binding_keys) s.binding_keys = *u.binding_keys;
  Status st = ValidateTags(s.filter_tags, "filterTag");
  if (st.ok()) st = ValidateBindingKeys(s.binding_keys);
  if (!st.ok()) return st;
  return s;
}

}  // namespace cmq::mq
