// OpenCMQ's own actions (not CMQ's; docs/http-api.md "Cluster actions").
//
// ClusterStatus, for `cmqctl cluster status`. Answered
// by the leader when there is one (requests are forwarded to it), so the replicas' progress
// is known; by the node asked otherwise. TransferLeadership (nodeId), for `cmqctl cluster
// transfer`: the leader hands leadership to that node.

#include "api/actions.h"
#include "api/group_fanout.h"
#include "api/http_server.h"
#include "api/params.h"
#include "api/reply.h"

namespace cmq::api {

namespace {

// nodeId: a positive integer (10390 missing, 10360 not a number, 10350 out of range).
ApiResult<uint64_t> NodeIdParam(const RequestParams& params) {
  const std::string* node = params.Find("nodeId");
  if (node == nullptr) return MissingParameter("nodeId");
  auto id = ParseInt64(*node);
  if (!id) return WrongType("nodeId");
  if (*id <= 0) return OutOfRange("nodeId");
  return static_cast<uint64_t>(*id);
}

// The group a membership or leadership action is about: `groupId` (default 1), which the
// request was routed by (api/forwarding.h).
ApiResult<cluster::QueueService*> GroupParam(const ActionContext& ctx,
                                             const RequestParams& params) {
  const uint32_t count = ctx.groups != nullptr ? ctx.groups->count : 1;
  auto group = params.IntOr("groupId", 1, count, 1);
  if (!group.ok()) return group.error();
  if (ctx.groups == nullptr) return &ctx.service;
  return &ctx.groups->replica(static_cast<uint32_t>(group.value()));
}

void ProposeMembership(const ActionContext& ctx, const RequestParams& params,
                       raft::ConfChange change, Reply reply) {
  auto service = GroupParam(ctx, params);
  if (!service.ok()) return reply.Fail(service.error());
  service.value()->ChangeMembership(std::move(change), [reply](Status st) mutable {
    if (!st.ok()) return reply.Fail(ErrorFromStatus(st));
    reply.Ok();
  });
}

}  // namespace

void ClusterStatus(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  if (ctx.FansOut(params)) return FanOutStatus(ctx, std::move(reply));
  ctx.ServiceFor(params).GetGroupStatus([reply](Result<cluster::NodeStats> status) mutable {
    if (!status.ok()) return reply.Fail(ErrorFromStatus(status.status()));
    const cluster::NodeStats& s = *status;
    std::string body;
    body.reserve(512);
    JsonWriter w(body);
    reply.BeginEnvelope(w, 0, "");
    w.Field("nodeId", s.node_id);
    w.Key("groups").BeginArray();
    w.BeginObject();
    w.Field("groupId", uint64_t{s.group_id});
    w.Field("reportedBy", s.node_id);
    w.Field("role", s.role);
    w.Field("leaderId", s.leader_id);
    w.Field("term", s.term);
    w.Field("commitIndex", s.commit_index);
    w.Field("appliedIndex", s.applied_index);
    w.Field("lastIndex", s.last_index);
    w.Field("snapshotIndex", s.snapshot_index);
    w.Key("replicas").BeginArray();
    for (const cluster::NodeStats::Peer& p : s.peers) {
      w.BeginObject();
      w.Field("nodeId", p.id);
      w.Key("learner").Bool(p.learner);
      if (!p.state.empty()) {  // known on the leader only
        w.Field("state", p.state);
        w.Field("matchIndex", p.match);
        w.Field("lag", s.last_index > p.match ? s.last_index - p.match : uint64_t{0});
      }
      if (p.stream_target != 0) {  // catching up through a streamed snapshot
        w.Key("stream").BeginObject();
        w.Field("firstIndex", p.stream_first);
        w.Field("snapshotIndex", p.stream_target);
        w.Field("stagedEntries", p.stream_staged_next - p.stream_first);
        w.Field("totalEntries", p.stream_target + 1 - p.stream_first);
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    w.EndArray();
    w.EndObject();
    reply.Send(std::move(body));
  });
}

void TransferLeadership(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto id = NodeIdParam(params);
  if (!id.ok()) return reply.Fail(id.error());
  auto service = GroupParam(ctx, params);
  if (!service.ok()) return reply.Fail(service.error());
  service.value()->TransferLeadership(id.value(), [reply](Status st) mutable {
    if (!st.ok()) return reply.Fail(ErrorFromStatus(st));
    reply.Ok();
  });
}

// AddNode (nodeId, address HOST:PORT): the node joins as a learner (it receives the log
// but does not vote) at the address the other nodes reach it on.
void AddNode(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto id = NodeIdParam(params);
  if (!id.ok()) return reply.Fail(id.error());
  const std::string* address = params.Find("address");
  if (address == nullptr) return reply.Fail(MissingParameter("address"));
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(*address, host, port) || port == 0 || host.empty()) {
    return reply.Fail(OutOfRange("address"));
  }
  ProposeMembership(ctx, params,
                    raft::ConfChange{raft::ConfChangeType::kAddLearner, id.value(), *address},
                    std::move(reply));
}

// PromoteNode (nodeId): a learner becomes a voter (do it once it has caught up).
void PromoteNode(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto id = NodeIdParam(params);
  if (!id.ok()) return reply.Fail(id.error());
  ProposeMembership(ctx, params,
                    raft::ConfChange{raft::ConfChangeType::kPromoteLearner, id.value(), {}},
                    std::move(reply));
}

// RemoveNode (nodeId): the node leaves the group.
void RemoveNode(const ActionContext& ctx, const RequestParams& params, Reply reply) {
  auto id = NodeIdParam(params);
  if (!id.ok()) return reply.Fail(id.error());
  ProposeMembership(ctx, params,
                    raft::ConfChange{raft::ConfChangeType::kRemoveNode, id.value(), {}},
                    std::move(reply));
}

}  // namespace cmq::api
