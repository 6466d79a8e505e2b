#pragma once
// The CMQ actions. Each validates its parameters (answering the documented error on bad
// input), builds an mq::Command or a read, hands it to the QueueService and answers from
// its callback (which may run on another thread). Internal to api/; the Dispatcher routes.

#include <functional>

#include "api/params.h"
#include "api/reply.h"
#include "api/request.h"
#include "cluster/queue_service.h"
#include "common/clock.h"

namespace cmq::api {

// A cluster of several data groups (docs/cluster.md "Data groups"): how an action reaches
// one group's replica here, or runs a request at another group's leader.
struct GroupAccess {
  uint32_t count = 1;
  std::function<cluster::QueueService&(uint32_t group)> replica;
  // Runs request (made internal and pinned to group) where that group's leader is, and
  // answers with its response.
  std::function<void(uint32_t group, HttpRequest request, ResponseCallback done)> run;
};

struct ActionContext {
  cluster::QueueService& service;
  const Clock& clock;
  const GroupAccess* groups = nullptr;  // null: one group
  // What QueryQueueRoute and QueryTopicRoute answer: the CMQ TCP protocol's addresses
  // (ServerConfig::tcp_route, or this node's `tcp`); empty when TCP is off.
  std::vector<std::string> tcp_route = {};
  // The service a request pinned to a group (params.pinned_group()) reads from.
  cluster::QueueService& ServiceFor(const RequestParams& params) const {
    return groups != nullptr && params.pinned_group() != 0 ? groups->replica(params.pinned_group())
                                                           : service;
  }
  // True when the action must ask every group for its part (a List, status).
  bool FansOut(const RequestParams& params) const {
    return groups != nullptr && groups->count > 1 && params.pinned_group() == 0;
  }
};

using ActionFn = void (*)(const ActionContext& ctx, const RequestParams& params, Reply reply);

// Shared validation: `queueName`, required and well-formed (10390 / 10020).
ApiResult<std::string_view> QueueNameParam(const RequestParams& params);
// `topicName` and `subscriptionName`, required (10390) and well-formed like queue names
// (10590).
ApiResult<std::string_view> TopicNameParam(const RequestParams& params);
ApiResult<std::string_view> SubscriptionNameParam(const RequestParams& params);
// Paging of the List* actions: `searchWord` (optional), `offset` (≥ 0, default 0) and
// `limit` (1..50, default 20); out of range → 10350, not a number → 10360.
struct PageParams {
  std::string search_word;
  uint64_t offset = 0;
  uint64_t limit = 20;
};
ApiResult<PageParams> PageParamsOf(const RequestParams& params);
// Answers `totalCount` and `list_key: [{id_key, name_key}...]` (ListQueue, ListTopic).
void SendIdNameList(Reply& reply, uint64_t total_count, std::string_view list_key,
                    std::string_view id_key, std::string_view name_key,
                    const std::vector<std::pair<std::string, std::string>>& items);

// Answers the envelope alone, or the command's error.
cluster::CommandCallback EnvelopeCallback(Reply reply);
// Answers the message ids a send or publish minted: `msgList: [{msgId}]` for a batch,
// `msgId` for one message (ids as decimal strings); or the command's error.
cluster::CommandCallback MsgIdsCallback(Reply reply, bool batch);

// Topic filter types (spec §10.5); the other bounds are in mq/limits.h.
inline constexpr int64_t kFilterTypeTags = 1;
inline constexpr int64_t kFilterTypeRouting = 2;
// A tag (msgTag, filterTag; param names it): 1..16 bytes, else 10350.
std::optional<ApiError> CheckTag(std::string_view tag, std::string_view param);
// A routing key (may be empty: zero words) or a binding key (may not): at most 64 bytes
// (10350) and 15 dots (10691).
std::optional<ApiError> CheckKey(std::string_view key, std::string_view param, bool allow_empty);
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

// OpenCMQ's cluster status (cluster_actions.cc).
void ClusterStatus(const ActionContext& ctx, const RequestParams& params, Reply reply);
void TransferLeadership(const ActionContext& ctx, const RequestParams& params, Reply reply);
void AddNode(const ActionContext& ctx, const RequestParams& params, Reply reply);
void PromoteNode(const ActionContext& ctx, const RequestParams& params, Reply reply);
void RemoveNode(const ActionContext& ctx, const RequestParams& params, Reply reply);

// Where the CMQ TCP protocol serves a queue or topic (route_actions.cc): what the TCP SDK
// asks over HTTP before it connects (spec/cmq-tcp-protocol.md §4.1).
void QueryQueueRoute(const ActionContext& ctx, const RequestParams& params, Reply reply);
void QueryTopicRoute(const ActionContext& ctx, const RequestParams& params, Reply reply);

// Messages (message_actions.cc, receive_actions.cc).
// The validated command of SendMessage (batch: BatchSendMessage), answering the same
// errors; its body views point into params. The TCP protocol's sends use it too.
ApiResult<mq::Command> SendCommandOf(const RequestParams& params, bool batch);
void SendMessage(const ActionContext& ctx, const RequestParams& params, Reply reply);
void BatchSendMessage(const ActionContext& ctx, const RequestParams& params, Reply reply);
void ReceiveMessage(const ActionContext& ctx, const RequestParams& params, Reply reply);
void BatchReceiveMessage(const ActionContext& ctx, const RequestParams& params, Reply reply);
void DeleteMessage(const ActionContext& ctx, const RequestParams& params, Reply reply);
void BatchDeleteMessage(const ActionContext& ctx, const RequestParams& params, Reply reply);

// Topics (topic_actions.cc).
void CreateTopic(const ActionContext& ctx, const RequestParams& params, Reply reply);
void SetTopicAttributes(const ActionContext& ctx, const RequestParams& params, Reply reply);
void ListTopic(const ActionContext& ctx, const RequestParams& params, Reply reply);
void GetTopicAttributes(const ActionContext& ctx, const RequestParams& params, Reply reply);
void DeleteTopic(const ActionContext& ctx, const RequestParams& params, Reply reply);
void PublishMessage(const ActionContext& ctx, const RequestParams& params, Reply reply);
void BatchPublishMessage(const ActionContext& ctx, const RequestParams& params, Reply reply);

// Subscriptions (subscription_actions.cc).
void Subscribe(const ActionContext& ctx, const RequestParams& params, Reply reply);
void ListSubscriptionByTopic(const ActionContext& ctx, const RequestParams& params, Reply reply);
void GetSubscriptionAttributes(const ActionContext& ctx, const RequestParams& params, Reply reply);
void SetSubscriptionAttributes(const ActionContext& ctx, const RequestParams& params, Reply reply);
void Unsubscribe(const ActionContext& ctx, const RequestParams& params, Reply reply);
void ClearSubscriptionFilterTags(const ActionContext& ctx, const RequestParams& params,
                                 Reply reply);

}  // namespace cmq::api
