#include "api/dispatcher.h"

#include <iterator>

#include "api/tcp_actions.h"

namespace cmq::api {
namespace {

// Every CMQ HTTP 2.0 action, queue and topic ones on one endpoint (spec §3). Matched
// case-insensitively: Java sends ClearSUbscriptionFIlterTags.
constexpr Dispatcher::Action kActions[] = {
    {"SendMessage", &SendMessage},
    {"ReceiveMessage", &ReceiveMessage},
    {"DeleteMessage", &DeleteMessage},
    {"BatchSendMessage", &BatchSendMessage},
    {"BatchReceiveMessage", &BatchReceiveMessage},
    {"BatchDeleteMessage", &BatchDeleteMessage},
    {"CreateQueue", &CreateQueue},
    {"ListQueue", &ListQueue},
    {"GetQueueAttributes", &GetQueueAttributes},
    {"SetQueueAttributes", &SetQueueAttributes},
    {"DeleteQueue", &DeleteQueue},
    {"RewindQueue", &RewindQueue},
    {"PublishMessage", &PublishMessage},
    {"BatchPublishMessage", &BatchPublishMessage},
    {"CreateTopic", &CreateTopic},
    {"SetTopicAttributes", &SetTopicAttributes},
    {"ListTopic", &ListTopic},
    {"GetTopicAttributes", &GetTopicAttributes},
    {"DeleteTopic", &DeleteTopic},
    {"Subscribe", &Subscribe},
    {"ListSubscriptionByTopic", &ListSubscriptionByTopic},
    {"GetSubscriptionAttributes", &GetSubscriptionAttributes},
    {"SetSubscriptionAttributes", &SetSubscriptionAttributes},
    {"Unsubscribe", &Unsubscribe},
    {"ClearSubscriptionFilterTags", &ClearSubscriptionFilterTags},
    // The TCP SDK's route lookups (spec/cmq-tcp-protocol.md §4.1).
    {"QueryQueueRoute", &QueryQueueRoute},
    {"QueryTopicRoute", &QueryTopicRoute},
    // OpenCMQ's own (docs/http-api.md "Cluster status"): not a CMQ action.
    {"ClusterStatus", &ClusterStatus},
    {"TransferLeadership", &TransferLeadership},
    {"AddNode", &AddNode},
    {"PromoteNode", &PromoteNode},
    {"RemoveNode", &RemoveNode},
};

std::vector<std::string> TcpRouteOf(const ServerConfig& config) {
  if (!config.tcp_route.empty()) return config.tcp_route;
  if (!config.tcp.empty()) return {config.tcp};
  return {};
}

}  // namespace

Dispatcher::Dispatcher(cluster::QueueService& service, const ServerConfig& config,
                       const Clock& clock)
    : context_{service, clock, nullptr, TcpRouteOf(config)},
      authenticator_(config, clock),
      // Request ids: a counter started from the clock (ms × 1000), so ids stay unique across
      // restarts unless a process averaged over a million requests per second.
      next_request_id_(static_cast<uint64_t>(clock.NowMs()) * 1000) {}

const Dispatcher::Action* Dispatcher::FindAction(std::string_view name) {
  for (const Action& action : kActions) {
    if (EqualsIgnoreCase(action.name, name)) return &action;
  }
  return nullptr;
}

void Dispatcher::Handle(HttpRequest request, ResponseCallback done) {
  // The TCP listener authenticated the connection; the command speaks CMQProto.
  if (request.tcp) return HandleTcpRequest(context_, request, std::move(done));
  Reply reply(next_request_id_.fetch_add(1, std::memory_order_relaxed), request.keep_alive,
              std::move(done));
  if (request.too_large) {
    reply.set_keep_alive(false);
    return reply.Fail(RequestTooLarge());
  }
  if (request.method != "POST" && request.method != "GET") {
    return reply.Fail(MethodNotAllowed(request.method));
  }
  auto params = RequestParams::Parse(request);
  if (!params.ok()) return reply.Fail(params.error());
  params.value().set_origin(request.internal, request.group);
  params.value().set_abandoned(request.abandoned);
  const RequestParams& p = params.value();
  if (const std::string* id = p.Find("clientRequestId")) {
    if (auto n = ParseInt64(*id)) reply.set_client_request_id(*n);
  }
  // Internal requests come from another node over the transport (never from a client)
  // and carry no signature.
  if (!request.internal) {
    if (auto error = authenticator_.Verify(request, p)) return reply.Fail(*error);
  }
  const std::string* action_name = p.Find("Action");
  if (action_name == nullptr || action_name->empty()) return reply.Fail(MissingAction());
  const Action* action = FindAction(*action_name);
  if (action == nullptr || action->fn == nullptr) {
    return reply.Fail(UnknownAction(*action_name));
  }
  action->fn(context_, p, std::move(reply));
}

void Dispatcher::SetGroups(GroupAccess groups) {
  groups_ = std::move(groups);
  context_.groups = &groups_;
}

void Dispatcher::Reject(const HttpRequest& request, const Status& status, ResponseCallback done) {
  if (request.tcp) return done(TcpErrorResponse(request.body, ErrorFromStatus(status)));
  Reply reply(next_request_id_.fetch_add(1, std::memory_order_relaxed), request.keep_alive,
              std::move(done));
  if (auto params = RequestParams::Parse(request); params.ok()) {
    if (const std::string* id = params.value().Find("clientRequestId")) {
      if (auto n = ParseInt64(*id)) reply.set_client_request_id(*n);
    }
  }
  reply.Fail(ErrorFromStatus(status));
}

RequestHandler Dispatcher::AsHandler() {
  return [this](HttpRequest request, ResponseCallback done) {
    Handle(std::move(request), std::move(done));
  };
}

}  // namespace cmq::api
