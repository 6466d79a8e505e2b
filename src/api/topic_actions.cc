// Topic actions (spec §10.5, §11): CreateTopic, SetTopicAttributes, ListTopic,
// GetTopicAttributes, DeleteTopic, PublishMessage, BatchPublishMessage.

#include <algorithm>
#include <memory>

#include "api/actions.h"
#include "api/group_fanout.h"
#include "common/assert.h"
#include "mq/limits.h"
#include "mq/topic_match.h"

namespace cmq::api {
namespace {

std::optional<ApiError> CheckBody(std::string_view body) {
  if (body.empty()) return EmptyMessageBody();
  if (body.size() > static_cast<uint64_t>(mq::kTopicMaxMsgSizeMax)) return MessageTooLarge();
  return std::nullopt;
}

// A publish ready to submit, owning its bodies when it outlives the request (the topic's
// filterType must be read first).
struct DeferredPublish {
  std::vector<std::string> bodies;
  mq::Command cmd;
};

void SubmitPublish(const ActionContext& ctx, const mq::Command& cmd, bool batch, Reply reply) {
  // The command is encoded before Submit returns: the body views need not outlive it.
  ctx.service.Submit(cmd, MsgIdsCallback(std::move(reply), batch));
}

// PublishMessage and BatchPublishMessage: one tag list and one routing key for the batch.
void Publish(const ActionContext& ctx, const RequestParams& params, bool batch, Reply reply) {
  auto name = TopicNameParam(params);
  if (!name.ok()) return reply.Fail(name.error());
  mq::Command cmd;
  cmd.type = mq::CommandType::kPublishMessages;
  cmd.topic_name = name.value();
  if (batch) {
    auto bodies = params.List("msgBody", mq::kMaxBatch);
    if (!bodies.ok()) return reply.Fail(bodies.error());
    cmd.bodies = std::move(bodies.value());
  } else {
    auto body = params.Required("msgBody");
    if (!body.ok()) return reply.Fail(body.error());
    cmd.bodies.push_back(body.value());
  }
  uint64_t total = 0;
  for (std::string_view body : cmd.bodies) {
    if (auto error = CheckBody(body)) return reply.Fail(*error);
    total += body.size();
  }
  if (total > mq::kMaxBatchBytes) return reply.Fail(BatchTooLarge());
  auto tags = params.OptionalList("msgTag", mq::kMaxTags, TooManyMsgTags());
  if (!tags.ok()) return reply.Fail(tags.error());
  if (tags.value()) {
    for (std::string_view tag : *tags.value()) {
      if (auto error = CheckTag(tag, "msgTag")) return reply.Fail(*error);
      cmd.msg_tags.emplace_back(tag);
    }
  }
  // routingKey: Python always sends it ("" by default), also to filterType 1 topics, where
  // it is ignored. Only its absence on a filterType 2 topic is an error (10700); an empty
  // key is a key of zero words (spec §16).
  if (const std::string* routing_key = params.Find("routingKey")) {
    if (auto error = CheckKey(*routing_key, "routingKey", true)) return reply.Fail(*error);
    cmd.routing_key = *routing_key;
    return SubmitPublish(ctx, cmd, batch, std::move(reply));
  }
  // No routingKey: whether that is allowed depends on the topic's filterType (immutable),
  // which only the state machine knows; read it first. The request's buffers die with this
  // call, so the deferred publish owns copies of the bodies.
  auto deferred = std::make_shared<DeferredPublish>();
  deferred->bodies.assign(cmd.bodies.begin(), cmd.bodies.end());
  cmd.bodies.clear();
  deferred->cmd = std::move(cmd);
  for (const std::string& body : deferred->bodies) deferred->cmd.bodies.emplace_back(body);
  const ActionContext* context = &ctx;  // the Dispatcher's, which outlives every request
  ctx.service.GetTopic(
      deferred->cmd.topic_name,
      [context, deferred, batch, reply = std::move(reply)](Result<mq::TopicInfo> info) mutable {
        if (!info.ok()) return reply.Fail(ErrorFromStatus(info.status()));
        if (info.value().filter_type == kFilterTypeRouting) {
          return reply.Fail(MissingRoutingKey());
        }
        SubmitPublish(*context, deferred->cmd, batch, std::move(reply));
      });
}

}  // namespace

ApiResult<std::string_view> TopicNameParam(const RequestParams& params) {
  auto name = params.Required("topicName");
  if (!name.ok()) return name;
  if (!IsValidQueueName(name.value())) return TopicNameFormat();
  return name;
}

std::optional<ApiError> CheckTag(std::string_view tag, std::string_view param) {
  if (tag.empty() || mq::TagLength(tag) > mq::kMaxTagLength) return OutOfRange(param);
  return std::nullopt;
}

std::optional<ApiError> CheckKey(std::string_view key, std::string_view param, bool allow_empty) {
  if ((key.empty() && !allow_empty) || key.size() > mq::kMaxRoutingKeyLength) {
    return OutOfRange(param);
  }
  if (static_cast<uint64_t>(std::count(key.begin(), key.end(), '.')) > mq::kMaxRoutingKeyDots) {
    return TooManyDelimiters();
  }
  return std::nullopt;
}

void CreateTopic(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto name = TopicNameParam(params);
  if (!name.ok()) return reply.Fail(name.error());
  auto max_msg_size =
      params.OptionalInt("maxMsgSize", mq::kTopicMaxMsgSizeMin, mq::kTopicMaxMsgSizeMax);
  if (!max_msg_size.ok()) return reply.Fail(max_msg_size.error());
  auto filter_type = params.OptionalInt("filterType", kFilterTypeTags, kFilterTypeRouting);
  if (!filter_type.ok()) return reply.Fail(filter_type.error());
  mq::Command cmd;
  cmd.type = mq::CommandType::kCreateTopic;
  cmd.topic_name = name.value();
  cmd.topic_max_msg_size = max_msg_size.value();
  cmd.topic_filter_type = filter_type.value();
  ctx.service.Submit(cmd, [reply = std::move(reply)](cluster::CommandResult result) mutable {
    if (!result.apply.status.ok()) return reply.Fail(ErrorFromStatus(result.apply.status));
    std::string body;
    body.reserve(128);
    JsonWriter w(body);
    reply.BeginEnvelope(w, 0, "");
    w.Field("topicId", result.apply.topic_id).EndObject();
    reply.Send(std::move(body));
  });
}

void SetTopicAttributes(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto name = TopicNameParam(params);
  if (!name.ok()) return reply.Fail(name.error());
  auto max_msg_size =
      params.OptionalInt("maxMsgSize", mq::kTopicMaxMsgSizeMin, mq::kTopicMaxMsgSizeMax);
  if (!max_msg_size.ok()) return reply.Fail(max_msg_size.error());
  mq::Command cmd;
  cmd.type = mq::CommandType::kSetTopicAttributes;
  cmd.topic_name = name.value();
  cmd.topic_max_msg_size = max_msg_size.value();
  ctx.service.Submit(cmd, EnvelopeCallback(std::move(reply)));
}

void ListTopic(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto page = PageParamsOf(params);
  if (!page.ok()) return reply.Fail(page.error());
  PageParams& p = page.value();
  if (ctx.FansOut(params)) {
    return FanOutList(ctx, "ListTopic", p, "topicList", "topicId", "topicName", std::move(reply));
  }
  ctx.ServiceFor(params).ListTopics(std::move(p.search_word), p.offset, p.limit,
                                    [reply = std::move(reply)](mq::TopicListing listing) mutable {
                                      SendIdNameList(reply, listing.total_count, "topicList",
                                                     "topicId", "topicName", listing.topics);
                                    });
}

void GetTopicAttributes(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto name = TopicNameParam(params);
  if (!name.ok()) return reply.Fail(name.error());
  ctx.service.GetTopic(std::string(name.value()),
                       [reply = std::move(reply)](Result<mq::TopicInfo> info) mutable {
                         if (!info.ok()) return reply.Fail(ErrorFromStatus(info.status()));
                         const mq::TopicInfo& t = info.value();
                         std::string body;
                         body.reserve(320);
                         JsonWriter w(body);
                         reply.BeginEnvelope(w, 0, "");
                         w.Field("topicId", t.topic_id).Field("topicName", t.topic_name);
                         // The six ints Java requires, and LoggingEnabled, which C++ reads (§11).
                         w.Field("msgCount", t.msg_count)
                             .Field("maxMsgSize", t.max_msg_size)
                             .Field("msgRetentionSeconds", t.msg_retention_seconds)
                             .Field("createTime", t.create_time_s)
                             .Field("lastModifyTime", t.last_modify_time_s)
                             .Field("filterType", t.filter_type)
                             .Field("LoggingEnabled", 0)
                             .EndObject();
                         reply.Send(std::move(body));
                       });
}

void DeleteTopic(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto name = TopicNameParam(params);
  if (!name.ok()) return reply.Fail(name.error());
  mq::Command cmd;
  cmd.type = mq::CommandType::kDeleteTopic;
  cmd.topic_name = name.value();
  ctx.service.Submit(cmd, EnvelopeCallback(std::move(reply)));
}

void PublishMessage(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  Publish(ctx, params, false, std::move(reply));
}

void BatchPublishMessage(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  Publish(ctx, params, true, std::move(reply));
}

}  // namespace cmq::api
