#pragma once
// Internal to mq/: which subscriptions a published message reaches (spec §10.5), and the
// validation of tags, keys and subscription settings (docs/topic-model.md).

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "mq/command.h"
#include "mq/topic.h"

namespace cmq::mq {

// filterType 1: a subscription without filter tags gets every message; one with filter
// tags gets a message iff their tags intersect (so a message without tags reaches only
// tag-less subscriptions).
bool TagsMatch(const std::vector<std::string>& filter_tags,
               const std::vector<std::string>& msg_tags);
// filterType 2, RabbitMQ-topic style on '.'-separated words: '*' is exactly one non-empty
// word, '#' zero or more words, any other word matches itself. "" is a key of zero words.
bool RoutingKeyMatches(std::string_view binding_key, std::string_view routing_key);
// A subscription without binding keys gets every message; else any key must match.
bool BindingKeysMatch(const std::vector<std::string>& binding_keys, std::string_view routing_key);
bool SubscriptionMatches(int64_t filter_type, const Subscription& s,
                         const std::vector<std::string>& msg_tags, std::string_view routing_key);

// A tag's length in characters (spec §10.5: "each ≤16 chars"): its UTF-8 code points,
// counted as the bytes that do not continue a character (so any byte string has one).
size_t TagLength(std::string_view tag);
// kInvalidArgument naming parameter: more than 5 tags, or one not 1-16 characters.
Status ValidateTags(const std::vector<std::string>& tags, std::string_view parameter);
// kInvalidArgument naming parameter: over 64 bytes or over 15 dots; empty only if allowed.
Status ValidateRoutingKey(std::string_view key, std::string_view parameter, bool allow_empty);
Status ValidateBindingKeys(const std::vector<std::string>& keys);
Status ValidateHttpEndpoint(std::string_view endpoint);

// base with the present fields of update applied; kInvalidArgument naming the first bad
// parameter. Creating: protocol and endpoint are required and set. Otherwise they may only
// repeat the current values. The endpoint queue's existence is the caller's check.
Result<Subscription> ApplySubscriptionUpdate(const Subscription& base,
                                             const SubscriptionUpdate& update, bool creating);

}  // namespace cmq::mq
