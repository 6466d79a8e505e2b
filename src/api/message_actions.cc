// Sending and deleting messages (spec §8): SendMessage, BatchSendMessage, DeleteMessage,
// BatchDeleteMessage.

#include <map>
#include <string>
#include <vector>

#include "api/actions.h"
#include "mq/limits.h"

namespace cmq::api {
namespace {

// delaySeconds: optional, 0..kDelaySecondsMax; out of range is its own code (10692).
ApiResult<int64_t> DelaySeconds(const RequestParams& params) {
  const std::string* raw = params.Find("delaySeconds");
  if (raw == nullptr) return int64_t{0};
  auto delay = ParseInt64(*raw);
  if (!delay) return WrongType("delaySeconds");
  if (*delay < 0 || *delay > mq::kDelaySecondsMax) return DelayOutOfRange();
  return *delay;
}

std::optional<ApiError> CheckBody(std::string_view body) {
  if (body.empty()) return EmptyMessageBody();
  if (body.size() > static_cast<uint64_t>(mq::kMaxMsgSizeMax)) return MessageTooLarge();
  return std::nullopt;
}

ApiResult<uint64_t> ReceiptHandle(std::string_view raw) {
  auto handle = ParseUint64(raw);
  if (!handle) return ReceiptHandleMalformed();
  return *handle;
}

}  // namespace

ApiResult<mq::Command> SendCommandOf(const RequestParams& params, bool batch) {
  auto name = QueueNameParam(params);
  if (!name.ok()) return name.error();
  mq::Command cmd;
  cmd.type = mq::CommandType::kSendMessages;
  cmd.queue_name = name.value();
  if (batch) {
    auto bodies = params.List("msgBody", mq::kMaxBatch);
    if (!bodies.ok()) return bodies.error();
    cmd.bodies = std::move(bodies.value());
  } else {
    auto body = params.Required("msgBody");
    if (!body.ok()) return body.error();
    cmd.bodies.push_back(body.value());
  }
  uint64_t total = 0;
  for (std::string_view body : cmd.bodies) {
    if (auto error = CheckBody(body)) return *error;
    total += body.size();
  }
  if (batch && total > mq::kMaxBatchBytes) return BatchTooLarge();
  auto delay = DelaySeconds(params);
  if (!delay.ok()) return delay.error();
  cmd.delay_seconds = delay.value();
  return cmd;
}

void SendMessage(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto cmd = SendCommandOf(params, false);
  if (!cmd.ok()) return reply.Fail(cmd.error());
  // The command is encoded before Submit returns: the body views need not outlive it.
  ctx.service.Submit(cmd.value(), MsgIdsCallback(std::move(reply), false));
}

void BatchSendMessage(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto cmd = SendCommandOf(params, true);
  if (!cmd.ok()) return reply.Fail(cmd.error());
  ctx.service.Submit(cmd.value(), MsgIdsCallback(std::move(reply), true));
}

void DeleteMessage(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto name = QueueNameParam(params);
  if (!name.ok()) return reply.Fail(name.error());
  auto raw = params.Required("receiptHandle");
  if (!raw.ok()) return reply.Fail(raw.error());
  auto handle = ReceiptHandle(raw.value());
  if (!handle.ok()) return reply.Fail(handle.error());
  mq::Command cmd;
  cmd.type = mq::CommandType::kDeleteMessages;
  cmd.queue_name = name.value();
  cmd.receipt_handles.push_back(handle.value());
  ctx.service.Submit(cmd, [reply = std::move(reply)](cluster::CommandResult r) mutable {
    // A failed handle is reported in delete_failures (status says so too).
    if (!r.apply.delete_failures.empty()) {
      return reply.Fail(ErrorFromStatus(r.apply.delete_failures.front().status));
    }
    if (!r.apply.status.ok()) return reply.Fail(ErrorFromStatus(r.apply.status));
    reply.Ok();
  });
}

void BatchDeleteMessage(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto name = QueueNameParam(params);
  if (!name.ok()) return reply.Fail(name.error());
  auto raw = params.List("receiptHandle", mq::kMaxBatch);
  if (!raw.ok()) return reply.Fail(raw.error());
  // Each handle as sent, in order: a malformed one fails alone (in errorList, spec §16),
  // and the others are still deleted. The list echoes each handle as its client wrote it.
  std::vector<std::string> sent(raw.value().begin(), raw.value().end());
  mq::Command cmd;
  cmd.type = mq::CommandType::kDeleteMessages;
  cmd.queue_name = name.value();
  cmd.receipt_handles.reserve(sent.size());
  bool any_malformed = false;
  for (const std::string& text : sent) {
    auto handle = ReceiptHandle(text);
    if (handle.ok()) {
      cmd.receipt_handles.push_back(handle.value());
    } else {
      any_malformed = true;
    }
  }
  auto answer = [reply = std::move(reply), sent = std::move(sent),
                 any_malformed](cluster::CommandResult r) mutable {
    // Failed handles are listed in delete_failures (and status says so too); a command
    // refused as a whole (no such queue) has a failed status and no list.
    if (r.apply.delete_failures.empty() && !any_malformed) {
      if (!r.apply.status.ok()) return reply.Fail(ErrorFromStatus(r.apply.status));
      return reply.Ok();
    }
    if (r.apply.delete_failures.empty() && !r.apply.status.ok()) {
      return reply.Fail(ErrorFromStatus(r.apply.status));
    }
    std::map<uint64_t, const Status*> failed;
    for (const mq::DeleteFailure& f : r.apply.delete_failures) failed[f.receipt_handle] = &f.status;
    // Some or all failed (spec §16): 6010 with exactly the failed handles, in request order.
    ApiError partial = DeletePartiallyFailed();
    std::string body;
    body.reserve(128 + sent.size() * 96);
    JsonWriter w(body);
    reply.BeginEnvelope(w, partial.code, partial.Message());
    w.Key("errorList").BeginArray();
    for (const std::string& text : sent) {
      auto handle = ReceiptHandle(text);
      ApiError error;
      if (!handle.ok()) {
        error = handle.error();
      } else if (auto it = failed.find(handle.value()); it != failed.end()) {
        error = ErrorFromStatus(*it->second);
      } else {
        continue;
      }
      w.BeginObject().Field("code", error.code).Field("message", error.Message());
      w.Field("receiptHandle", text).EndObject();
    }
    w.EndArray();
    w.EndObject();
    reply.Send(std::move(body));
  };
  if (cmd.receipt_handles.empty()) return answer(cluster::CommandResult{});  // all malformed
  ctx.service.Submit(cmd, std::move(answer));
}

}  // namespace cmq::api
