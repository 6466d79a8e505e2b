// Queue management actions (spec §8): CreateQueue, ListQueue, GetQueueAttributes,
// SetQueueAttributes, DeleteQueue, RewindQueue.

#include "api/actions.h"
#include "api/group_fanout.h"
#include "mq/limits.h"

namespace cmq::api {
namespace {

// Reads the optional queue attributes (spec §9 ranges, mq/limits.h) into update.
std::optional<ApiError> ReadAttributes(const RequestParams& params,
                                       mq::QueueAttributeUpdate& update) {
  struct Spec {
    std::string_view name;
    int64_t min, max;
    std::optional<int64_t> mq::QueueAttributeUpdate::*field;
  };
  static constexpr Spec kSpecs[] = {
      {"maxMsgHeapNum", mq::kMaxMsgHeapNumMin, mq::kMaxMsgHeapNumMax,
       &mq::QueueAttributeUpdate::max_msg_heap_num},
      {"pollingWaitSeconds", mq::kPollingWaitSecondsMin, mq::kPollingWaitSecondsMax,
       &mq::QueueAttributeUpdate::polling_wait_seconds},
      {"visibilityTimeout", mq::kVisibilityTimeoutMin, mq::kVisibilityTimeoutMax,
       &mq::QueueAttributeUpdate::visibility_timeout},
      {"maxMsgSize", mq::kMaxMsgSizeMin, mq::kMaxMsgSizeMax,
       &mq::QueueAttributeUpdate::max_msg_size},
      {"msgRetentionSeconds", mq::kMsgRetentionSecondsMin, mq::kMsgRetentionSecondsMax,
       &mq::QueueAttributeUpdate::msg_retention_seconds},
      {"rewindSeconds", mq::kRewindSecondsMin, mq::kRewindSecondsMax,
       &mq::QueueAttributeUpdate::rewind_seconds},
  };
  for (const Spec& spec : kSpecs) {
    auto value = params.OptionalInt(spec.name, spec.min, spec.max);
    if (!value.ok()) return value.error();
    update.*spec.field = value.value();
  }
  // rewindSeconds ≤ msgRetentionSeconds when both are known here; SetQueueAttributes with
  // only one of them is checked against the queue's other value by the state machine.
  if (update.rewind_seconds && update.msg_retention_seconds &&
      *update.rewind_seconds > *update.msg_retention_seconds) {
    return OutOfRange("rewindSeconds");
  }
  return std::nullopt;
}

}  // namespace

cluster::CommandCallback EnvelopeCallback(Reply reply) {
  return [reply = std::move(reply)](cluster::CommandResult result) mutable {
    if (!result.apply.status.ok()) return reply.Fail(ErrorFromStatus(result.apply.status));
    reply.Ok();
  };
}

cluster::CommandCallback MsgIdsCallback(Reply reply, bool batch) {
  return [reply = std::move(reply), batch](cluster::CommandResult r) mutable {
    if (!r.apply.status.ok()) return reply.Fail(ErrorFromStatus(r.apply.status));
    std::string body;
    body.reserve(96 + r.apply.msg_ids.size() * 32);
    JsonWriter w(body);
    reply.BeginEnvelope(w, 0, "");
    if (batch) {
      w.Key("msgList").BeginArray();
      for (uint64_t id : r.apply.msg_ids) w.BeginObject().Key("msgId").UintString(id).EndObject();
      w.EndArray();
    } else {
      CMQ_ASSERT(r.apply.msg_ids.size() == 1, "one message, one message id");
      w.Key("msgId").UintString(r.apply.msg_ids[0]);
    }
    w.EndObject();
    reply.Send(std::move(body));
  };
}

ApiResult<std::string_view> QueueNameParam(const RequestParams& params) {
  auto name = params.Required("queueName");
  if (!name.ok()) return name;
  if (!IsValidQueueName(name.value())) return QueueNameFormat();
  return name;
}

void CreateQueue(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto name = QueueNameParam(params);
  if (!name.ok()) return reply.Fail(name.error());
  mq::Command cmd;
  cmd.type = mq::CommandType::kCreateQueue;
  cmd.queue_name = name.value();
  if (auto error = ReadAttributes(params, cmd.attributes)) return reply.Fail(*error);
  if (cmd.attributes.rewind_seconds && !cmd.attributes.msg_retention_seconds &&
      *cmd.attributes.rewind_seconds > mq::kMsgRetentionSecondsDefault) {
    return reply.Fail(OutOfRange("rewindSeconds"));
  }
  ctx.service.Submit(cmd, [reply = std::move(reply)](cluster::CommandResult result) mutable {
    if (!result.apply.status.ok()) return reply.Fail(ErrorFromStatus(result.apply.status));
    std::string body;
    body.reserve(128);
    JsonWriter w(body);
    reply.BeginEnvelope(w, 0, "");
    w.Field("queueId", result.apply.queue_id).EndObject();
    reply.Send(std::move(body));
  });
}

ApiResult<PageParams> PageParamsOf(const RequestParams& params) {
  PageParams page;
  if (const std::string* search = params.Find("searchWord")) page.search_word = *search;
  auto offset = params.IntOr("offset", 0, INT64_MAX, 0);
  if (!offset.ok()) return offset.error();
  // An internal request asks one group for the first offset + limit items of a page.
  auto limit = params.IntOr("limit", 1, params.internal() ? INT64_MAX : 50, 20);
  if (!limit.ok()) return limit.error();
  page.offset = static_cast<uint64_t>(offset.value());
  page.limit = static_cast<uint64_t>(limit.value());
  return page;
}

void SendIdNameList(Reply& reply, uint64_t total_count, std::string_view list_key,
                    std::string_view id_key, std::string_view name_key,
                    const std::vector<std::pair<std::string, std::string>>& items) {
  std::string body;
  body.reserve(96 + items.size() * 64);
  JsonWriter w(body);
  reply.BeginEnvelope(w, 0, "");
  w.Field("totalCount", total_count);
  w.Key(list_key).BeginArray();
  for (const auto& [id, name] : items) {
    w.BeginObject().Field(id_key, id).Field(name_key, name).EndObject();
  }
  w.EndArray().EndObject();
  reply.Send(std::move(body));
}

void ListQueue(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto page = PageParamsOf(params);
  if (!page.ok()) return reply.Fail(page.error());
  PageParams& p = page.value();
  if (ctx.FansOut(params)) {
    return FanOutList(ctx, "ListQueue", p, "queueList", "queueId", "queueName", std::move(reply));
  }
  ctx.ServiceFor(params).ListQueues(std::move(p.search_word), p.offset, p.limit,
                                    [reply = std::move(reply)](mq::QueueListing listing) mutable {
                                      SendIdNameList(reply, listing.total_count, "queueList",
                                                     "queueId", "queueName", listing.queues);
                                    });
}

void GetQueueAttributes(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto name = QueueNameParam(params);
  if (!name.ok()) return reply.Fail(name.error());
  ctx.service.GetQueue(
      std::string(name.value()), [reply = std::move(reply)](Result<mq::QueueInfo> info) mutable {
        if (!info.ok()) return reply.Fail(ErrorFromStatus(info.status()));
        const mq::QueueInfo& q = info.value();
        const mq::QueueAttributes& a = q.attributes;
        std::string body;
        body.reserve(512);
        JsonWriter w(body);
        reply.BeginEnvelope(w, 0, "");
        w.Field("queueId", q.queue_id).Field("queueName", q.queue_name);
        w.Field("maxMsgHeapNum", a.max_msg_heap_num)
            .Field("pollingWaitSeconds", a.polling_wait_seconds)
            .Field("visibilityTimeout", a.visibility_timeout)
            .Field("maxMsgSize", a.max_msg_size)
            .Field("msgRetentionSeconds", a.msg_retention_seconds)
            .Field("createTime", q.create_time_s)
            .Field("lastModifyTime", q.last_modify_time_s)
            .Field("activeMsgNum", q.active_msg_num)
            .Field("inactiveMsgNum", q.inactive_msg_num)
            .Field("rewindSeconds", a.rewind_seconds)
            // Both spellings: docs/Python/C++ read rewindmsgNum, Java rewindMsgNum (§8).
            .Field("rewindmsgNum", q.rewind_msg_num)
            .Field("rewindMsgNum", q.rewind_msg_num)
            .Field("minMsgTime", q.min_msg_time_s)
            .Field("delayMsgNum", q.delay_msg_num)
            // Not a CMQ 2.0 field: half messages of the TCP protocol's transactions, which
            // no other counter shows (docs/tcp-protocol.md "Transaction messages").
            .Field("transactionMsgNum", q.transaction_msg_num)
            .EndObject();
        reply.Send(std::move(body));
      });
}

void SetQueueAttributes(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto name = QueueNameParam(params);
  if (!name.ok()) return reply.Fail(name.error());
  mq::Command cmd;
  cmd.type = mq::CommandType::kSetQueueAttributes;
  cmd.queue_name = name.value();
  if (auto error = ReadAttributes(params, cmd.attributes)) return reply.Fail(*error);
  ctx.service.Submit(cmd, EnvelopeCallback(std::move(reply)));
}

void DeleteQueue(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto name = QueueNameParam(params);
  if (!name.ok()) return reply.Fail(name.error());
  mq::Command cmd;
  cmd.type = mq::CommandType::kDeleteQueue;
  cmd.queue_name = name.value();
  ctx.service.Submit(cmd, EnvelopeCallback(std::move(reply)));
}

void RewindQueue(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto name = QueueNameParam(params);
  if (!name.ok()) return reply.Fail(name.error());
  auto start = params.RequiredInt("startConsumeTime", 0, INT64_MAX / 1000);
  if (!start.ok()) return reply.Fail(start.error());
  mq::Command cmd;
  cmd.type = mq::CommandType::kRewindQueue;
  cmd.queue_name = name.value();
  cmd.rewind_start_s = start.value();
  ctx.service.Submit(cmd, EnvelopeCallback(std::move(reply)));
}

}  // namespace cmq::api
