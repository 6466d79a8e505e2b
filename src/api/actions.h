#pragma once
// The CMQ actions. Each validates its parameters (answering the documented error on bad
// input), builds an mq::Command or a read, hands it to the QueueService and answers from
// its callback (which may run on another thread). Internal to api/; the Dispatcher routes.

#include "api/params.h"
#include "api/reply.h"
#include "cluster/queue_service.h"
#include "common/clock.h"

namespace cmq::api {

struct ActionContext {
  cluster::QueueService& service;
  const Clock& clock;
};

using ActionFn = void (*)(const ActionContext& ctx, const RequestParams& params, Reply reply);

// Shared validation: `queueName`, required and well-formed (10390 / 10020).
ApiResult<std::string_view> QueueNameParam(const RequestParams& params);
// Whole Unix seconds of a millisecond time.
inline int64_t ToSeconds(int64_t ms) {
  return ms / 1000;
}

// Queue management (queue_actions.cc).
void CreateQueue(const ActionContext& ctx, const RequestParams& params, Reply reply);
void ListQueue(const ActionContext& ctx, const RequestParams& params, Reply reply);
void GetQueueAttributes(const ActionContext& ctx, const RequestParams& params, Reply reply);
void SetQueueAttributes(const ActionContext& ctx, const RequestParams& params, Reply reply);
void DeleteQueue(const ActionContext& ctx, const RequestParams& params, Reply reply);
void RewindQueue(const ActionContext& ctx, const RequestParams& params, Reply reply);

// Messages (message_actions.cc, receive_actions.cc).
void SendMessage(const ActionContext& ctx, const RequestParams& params, Reply reply);
void BatchSendMessage(const ActionContext& ctx, const RequestParams& params, Reply reply);
void ReceiveMessage(const ActionContext& ctx, const RequestParams& params, Reply reply);
void BatchReceiveMessage(const ActionContext& ctx, const RequestParams& params, Reply reply);
void DeleteMessage(const ActionContext& ctx, const RequestParams& params, Reply reply);
void BatchDeleteMessage(const ActionContext& ctx, const RequestParams& params, Reply reply);

}  // namespace cmq::api
