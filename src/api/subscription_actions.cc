// Subscription actions (spec §10.5, §10.6, §11): Subscribe, ListSubscriptionByTopic,
// GetSubscriptionAttributes, SetSubscriptionAttributes, Unsubscribe,
// ClearSubscriptionFilterTags.

#include <algorithm>

#include "api/actions.h"
#include "api/group_fanout.h"
#include "mq/limits.h"
#include "mq/placement.h"

namespace cmq::api {
namespace {

// GetSubscriptionAttributes `topicOwner`: the owner's appid. OpenCMQ has one account
// namespace per cluster and no appids (docs/http-api.md).
constexpr std::string_view kTopicOwner = "0";

// value matched case-insensitively against choices; the canonical spelling, or nullopt.
template <size_t N>
std::optional<std::string> Canonical(std::string_view value, const std::string_view (&choices)[N]) {
  for (std::string_view choice : choices) {
    if (EqualsIgnoreCase(value, choice)) return std::string(choice);
  }
  return std::nullopt;
}

bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// protocol (required, queue|http: 10510) and endpoint (required). An http endpoint has no
// blanks (4510/10570), starts with http:// or https:// followed by a host, ≤ 500 bytes
// (10500); a queue endpoint is a queue name (10500; its existence is the state machine's).
std::optional<ApiError> ReadEndpoint(const RequestParams& params, mq::SubscriptionUpdate& s) {
  static constexpr std::string_view kProtocols[] = {"queue", "http"};
  auto protocol = params.Required("protocol");
  if (!protocol.ok()) return protocol.error();
  s.protocol = Canonical(protocol.value(), kProtocols);
  if (!s.protocol) return UndefinedProtocol();
  auto endpoint = params.Required("endpoint");
  if (!endpoint.ok()) return endpoint.error();
  std::string_view e = endpoint.value();
  if (*s.protocol == "http") {
    if (std::any_of(e.begin(), e.end(), IsBlank)) return EndpointHasBlanks();
    size_t scheme = e.starts_with("http://") ? 7 : e.starts_with("https://") ? 8 : 0;
    if (scheme == 0 || e.size() == scheme || e.size() > mq::kMaxEndpointLength) {
      return EndpointFormat();
    }
  } else if (!IsValidQueueName(e)) {
    return EndpointFormat();
  }
  s.endpoint = std::string(e);
  return std::nullopt;
}

// The settings both Subscribe and SetSubscriptionAttributes take, each optional.
std::optional<ApiError> ReadSettings(const RequestParams& params, mq::SubscriptionUpdate& s) {
  static constexpr std::string_view kStrategies[] = {"BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY"};
  static constexpr std::string_view kFormats[] = {"JSON", "SIMPLIFIED"};
  if (const std::string* strategy = params.Find("notifyStrategy")) {
    s.notify_strategy = Canonical(*strategy, kStrategies);
    if (!s.notify_strategy) return UndefinedNotifyStrategy();
  }
  // JSON is accepted for queue subscriptions too (spec §10.6): the body is delivered raw.
  if (const std::string* format = params.Find("notifyContentFormat")) {
    s.notify_content_format = Canonical(*format, kFormats);
    if (!s.notify_content_format) return UndefinedNotifyContentFormat();
  }
  auto tags = params.OptionalList("filterTag", mq::kMaxTags, TooManyFilterTags());
  if (!tags.ok()) return tags.error();
  if (tags.value()) {
    std::vector<std::string>& out = s.filter_tags.emplace();
    for (std::string_view tag : *tags.value()) {
      if (auto error = CheckTag(tag, "filterTag")) return error;
      out.emplace_back(tag);
    }
  }
  auto keys = params.OptionalList("bindingKey", mq::kMaxBindingKeys, TooManyBindingKeys());
  if (!keys.ok()) return keys.error();
  if (keys.value()) {
    std::vector<std::string>& out = s.binding_keys.emplace();
    for (std::string_view key : *keys.value()) {
      if (auto error = CheckKey(key, "bindingKey", false)) return error;
      out.emplace_back(key);
    }
  }
  return std::nullopt;
}

// topicName and subscriptionName, in that order of checks.
struct Names {
  std::string_view topic;
  std::string_view subscription;
};
ApiResult<Names> NamesParam(const RequestParams& params) {
  auto topic = TopicNameParam(params);
  if (!topic.ok()) return topic.error();
  auto name = SubscriptionNameParam(params);
  if (!name.ok()) return name.error();
  return Names{topic.value(), name.value()};
}

// A command of type on the named subscription, or the error to answer.
ApiResult<mq::Command> SubscriptionCommand(const RequestParams& params, mq::CommandType type) {
  auto names = NamesParam(params);
  if (!names.ok()) return names.error();
  mq::Command cmd;
  cmd.type = type;
  cmd.topic_name = names.value().topic;
  cmd.subscription_name = names.value().subscription;
  return cmd;
}

void WriteStrings(JsonWriter& w, std::string_view key, const std::vector<std::string>& values) {
  w.Key(key).BeginArray();
  for (const std::string& v : values) w.String(v);
  w.EndArray();
}

}  // namespace

ApiResult<std::string_view> SubscriptionNameParam(const RequestParams& params) {
  auto name = params.Required("subscriptionName");
  if (!name.ok()) return name;
  if (!IsValidQueueName(name.value())) return SubscriptionNameFormat();
  return name;
}

void Subscribe(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto cmd = SubscriptionCommand(params, mq::CommandType::kSubscribe);
  if (!cmd.ok()) return reply.Fail(cmd.error());
  mq::SubscriptionUpdate& settings = cmd.value().subscription;
  if (auto error = ReadEndpoint(params, settings)) return reply.Fail(*error);
  if (auto error = ReadSettings(params, settings)) return reply.Fail(*error);
  // A queue of another data group: the topic's group cannot see it, so it is looked up
  // where it lives first (the subscription is refused as CMQ does if it does not exist).
  std::optional<std::string> remote_queue;
  if (ctx.groups != nullptr && ctx.groups->count > 1 && settings.protocol == "queue" &&
      settings.endpoint &&
      mq::GroupOfName(*settings.endpoint, ctx.groups->count) !=
          mq::GroupOfName(cmd.value().topic_name, ctx.groups->count)) {
    remote_queue = *settings.endpoint;
  }
  auto submit = [service = &ctx.service, cmd = std::move(cmd.value())](Reply reply) {
    service->Submit(cmd, [reply = std::move(reply)](cluster::CommandResult result) mutable {
      if (!result.apply.status.ok()) return reply.Fail(ErrorFromStatus(result.apply.status));
      std::string body;
      body.reserve(128);
      JsonWriter w(body);
      reply.BeginEnvelope(w, 0, "");
      w.Field("subscriptionId", result.apply.subscription_id).EndObject();
      reply.Send(std::move(body));
    });
  };
  if (remote_queue) {
    return CheckQueueElsewhere(ctx, std::move(*remote_queue), std::move(reply), std::move(submit));
  }
  submit(std::move(reply));
}

void ListSubscriptionByTopic(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto topic = TopicNameParam(params);
  if (!topic.ok()) return reply.Fail(topic.error());
  auto page = PageParamsOf(params);
  if (!page.ok()) return reply.Fail(page.error());
  PageParams& p = page.value();
  ctx.service.ListSubscriptions(
      std::string(topic.value()), std::move(p.search_word), p.offset, p.limit,
      [reply = std::move(reply)](Result<mq::SubscriptionListing> listing) mutable {
        if (!listing.ok()) return reply.Fail(ErrorFromStatus(listing.status()));
        const auto& subscriptions = listing.value().subscriptions;
        std::string body;
        body.reserve(96 + subscriptions.size() * 160);
        JsonWriter w(body);
        reply.BeginEnvelope(w, 0, "");
        w.Field("totalCount", listing.value().total_count);
        w.Key("subscriptionList").BeginArray();
        for (const mq::SubscriptionInfo& s : subscriptions) {
          w.BeginObject()
              .Field("subscriptionId", s.subscription_id)
              .Field("subscriptionName", s.subscription_name)
              .Field("protocol", s.protocol)
              .Field("endpoint", s.endpoint)
              .EndObject();
        }
        w.EndArray().EndObject();
        reply.Send(std::move(body));
      });
}

void GetSubscriptionAttributes(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto names = NamesParam(params);
  if (!names.ok()) return reply.Fail(names.error());
  ctx.service.GetSubscription(
      std::string(names.value().topic), std::string(names.value().subscription),
      [reply = std::move(reply)](Result<mq::SubscriptionInfo> info) mutable {
        if (!info.ok()) return reply.Fail(ErrorFromStatus(info.status()));
        const mq::SubscriptionInfo& s = info.value();
        std::string body;
        body.reserve(512);
        JsonWriter w(body);
        reply.BeginEnvelope(w, 0, "");
        w.Field("subscriptionId", s.subscription_id)
            .Field("subscriptionName", s.subscription_name)
            .Field("topicOwner", kTopicOwner)
            .Field("msgCount", s.msg_count)
            // Both spellings (§11): Java reads protocol, Python and C++ protocal.
            .Field("protocol", s.protocol)
            .Field("protocal", s.protocol)
            .Field("endpoint", s.endpoint)
            .Field("notifyStrategy", s.notify_strategy)
            .Field("notifyContentFormat", s.notify_content_format)
            .Field("createTime", s.create_time_s)
            .Field("lastModifyTime", s.last_modify_time_s);
        // Java and C++ read filterTag, Python filterTags; [] rather than null when none.
        WriteStrings(w, "filterTag", s.filter_tags);
        WriteStrings(w, "filterTags", s.filter_tags);
        WriteStrings(w, "bindingKey", s.binding_keys);
        w.EndObject();
        reply.Send(std::move(body));
      });
}

void SetSubscriptionAttributes(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto cmd = SubscriptionCommand(params, mq::CommandType::kSetSubscriptionAttributes);
  if (!cmd.ok()) return reply.Fail(cmd.error());
  // protocol and endpoint cannot change; if given, they are ignored.
  if (auto error = ReadSettings(params, cmd.value().subscription)) return reply.Fail(*error);
  ctx.service.Submit(cmd.value(), EnvelopeCallback(std::move(reply)));
}

void Unsubscribe(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto cmd = SubscriptionCommand(params, mq::CommandType::kUnsubscribe);
  if (!cmd.ok()) return reply.Fail(cmd.error());
  ctx.service.Submit(cmd.value(), EnvelopeCallback(std::move(reply)));
}

void ClearSubscriptionFilterTags(const ActionContext& ctx, const RequestParams& params,
                                 Reply reply) {
  auto cmd = SubscriptionCommand(params, mq::CommandType::kClearSubscriptionFilterTags);
  if (!cmd.ok()) return reply.Fail(cmd.error());
  ctx.service.Submit(cmd.value(), EnvelopeCallback(std::move(reply)));
}

}  // namespace cmq::api
