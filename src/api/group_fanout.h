#pragma once
// Actions that span the data groups of a cluster (docs/cluster.md "Data groups"): a
// queue or topic lives in one group, so ListQueue and ListTopic ask every group's leader
// for its part and merge the pages; ClusterStatus gathers each group's status from its
// leader; a subscription to a queue of another group checks that queue there first; and a
// topic's copy for such a queue is sent there as a SendMessage (cluster::Node's
// RemoteEnqueue). Each part is an internal request pinned to its group
// (GroupAccess::run), answered in the same JSON a client would get.

#include <functional>
#include <string>
#include <string_view>

#include "api/actions.h"
#include "api/reply.h"

namespace cmq::api {

// ListQueue / ListTopic over every group: each group's leader is asked for the first
// offset + limit items matching search_word, and the page is cut from their union.
void FanOutList(const ActionContext& ctx, std::string_view action, const PageParams& page,
                std::string_view list_key, std::string_view id_key, std::string_view name_key,
                Reply reply);

// ClusterStatus over every group, each from its leader (or, without one, from whichever
// node answers: its view then has no replica progress).
void FanOutStatus(const ActionContext& ctx, Reply reply);

// Runs `then` if queue_name exists in its group (asked at that group's leader); otherwise
// answers its error (e.g. 10100 queue is not existed) on reply.
void CheckQueueElsewhere(const ActionContext& ctx, std::string queue_name, Reply reply,
                         std::function<void(Reply)> then);

// Sends body to queue_name as a SendMessage in that queue's group. done(ok) once sent;
// kUnavailable when worth retrying (no leader, a failover, the link broke); any other
// error is the queue's final refusal (gone, full, message too large).
void EnqueueInGroup(const GroupAccess& groups, uint32_t group, std::string queue_name,
                    std::string body, std::function<void(Status)> done);

// The error in a CMQ JSON answer ("code", "message": "(module)text"); nullopt if code is 0.
// A body that is not a CMQ answer reads as 6000 (retry).
std::optional<ApiError> ErrorInAnswer(std::string_view json_body);

}  // namespace cmq::api
