// QueryQueueRoute and QueryTopicRoute (spec/cmq-tcp-protocol.md §4.1): the official TCP SDK
// asks one of them over HTTP, then connects to an address of `addr`. Every node accepts
// every queue over TCP (a request is forwarded to its group's leader), so the answer is the
// configured list of TCP addresses, once the queue or topic is known to exist.

#include "api/actions.h"

namespace cmq::api {
namespace {

void SendRoute(const ActionContext& ctx, Reply& reply) {
  if (ctx.tcp_route.empty()) {
    return reply.Fail(ErrorFromStatus(Status(
        ErrorCode::kInternal, "the CMQ TCP protocol is not enabled on this server (cmqd --tcp)")));
  }
  std::string body;
  body.reserve(96 + ctx.tcp_route.size() * 24);
  JsonWriter w(body);
  reply.BeginEnvelope(w, 0, "");
  w.Key("addr").BeginArray();
  for (const std::string& address : ctx.tcp_route) w.String(address);
  w.EndArray().EndObject();
  reply.Send(std::move(body));
}

}  // namespace

void QueryQueueRoute(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto name = QueueNameParam(params);
  if (!name.ok()) return reply.Fail(name.error());
  const ActionContext* context = &ctx;  // the Dispatcher's, which outlives every request
  ctx.service.GetQueue(std::string(name.value()),
                       [context, reply = std::move(reply)](Result<mq::QueueInfo> info) mutable {
                         if (!info.ok()) return reply.Fail(ErrorFromStatus(info.status()));
                         SendRoute(*context, reply);
                       });
}

void QueryTopicRoute(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto name = TopicNameParam(params);
  if (!name.ok()) return reply.Fail(name.error());
  const ActionContext* context = &ctx;
  ctx.service.GetTopic(std::string(name.value()),
                       [context, reply = std::move(reply)](Result<mq::TopicInfo> info) mutable {
                         if (!info.ok()) return reply.Fail(ErrorFromStatus(info.status()));
                         SendRoute(*context, reply);
                       });
}

}  // namespace cmq::api
