// Receiving messages with long polling (spec §8, §10.2): ReceiveMessage, BatchReceiveMessage.

#include "api/actions.h"
#include "mq/limits.h"

namespace cmq::api {
namespace {

void WriteMessage(JsonWriter& w, const mq::ReceivedMessage& m, std::string_view body) {
  w.Field("msgBody", body);
  w.Key("msgId").UintString(m.msg_id);
  w.Key("receiptHandle").UintString(m.receipt_handle);
  w.Field("enqueueTime", ToSeconds(m.enqueue_time_ms))
      .Field("nextVisibleTime", ToSeconds(m.next_visible_time_ms))
      .Field("firstDequeueTime", ToSeconds(m.first_dequeue_time_ms))
      .Field("dequeueCount", m.dequeue_count);
}

void ReceiveCommand(const ActionContext& ctx, const RequestParams& params, uint32_t count,
                    bool batch, Reply reply) {
  auto name = QueueNameParam(params);
  if (!name.ok()) return reply.Fail(name.error());
  // Absent: the queue's own pollingWaitSeconds. Out of range is refused, never clamped.
  auto wait = params.OptionalInt("pollingWaitSeconds", mq::kPollingWaitSecondsMin,
                                 mq::kPollingWaitSecondsMax);
  if (!wait.ok()) return reply.Fail(wait.error());
  mq::Command cmd;
  cmd.type = mq::CommandType::kReceiveMessages;
  cmd.queue_name = name.value();
  cmd.num_messages = count;
  // Abandoned once its connection closes (HttpSession): a long poll then takes no message.
  ctx.service.Receive(
      cmd, wait.value(),
      [reply = std::move(reply), batch](cluster::CommandResult r) mutable {
        const auto& messages = r.apply.messages;
        if (!r.apply.status.ok()) return reply.Fail(ErrorFromStatus(r.apply.status));
        if (messages.empty()) return reply.Fail(ErrorFromStatus(Status(ErrorCode::kNoMessage, "")));
        CMQ_ASSERT(r.bodies.size() == messages.size(), "one body per received message");
        size_t body_bytes = 0;
        for (const auto& b : r.bodies) body_bytes += b.size();
        std::string body;
        body.reserve(160 + body_bytes + body_bytes / 8 + messages.size() * 160);
        JsonWriter w(body);
        reply.BeginEnvelope(w, 0, "");
        if (batch) {
          w.Key("msgInfoList").BeginArray();
          for (size_t i = 0; i < messages.size(); ++i) {
            w.BeginObject();
            WriteMessage(w, messages[i], r.bodies[i]);
            w.EndObject();
          }
          w.EndArray();
        } else {
          WriteMessage(w, messages.front(), r.bodies.front());
        }
        w.EndObject();
        reply.Send(std::move(body));
      },
      params.abandoned());
}

}  // namespace

void ReceiveMessage(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  ReceiveCommand(ctx, params, 1, false, std::move(reply));
}

void BatchReceiveMessage(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto count = params.RequiredInt("numOfMsg", 1, mq::kMaxBatch);
  if (!count.ok()) return reply.Fail(count.error());
  ReceiveCommand(ctx, params, static_cast<uint32_t>(count.value()), true, std::move(reply));
}

}  // namespace cmq::api
