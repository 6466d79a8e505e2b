#pragma once
// Any node accepts any request (DESIGN.md "The path of one message"): a node that does not
// lead the group hands the whole HTTP request, as received, to the leader over the
// transport (cluster/peer_network.h) and relays the leader's answer. The leader checks the
// signature itself (the request is unchanged, Host header included), so forwarding needs
// no trust between the nodes beyond the transport's. A forwarded request is always served
// where it arrives, never forwarded again, so a request takes at most one hop.
//
// With several data groups (docs/cluster.md "Data groups") the leader is that of the
// group the request's queue or topic lives in; requests of no one group (ListQueue,
// ListTopic, ClusterStatus) are served where they arrive and ask each group's leader for
// its part (RunInGroup).
//
// With no leader known (an election is under way), the request waits up to
// leader_wait_ms for one; then it is served locally, which answers a retryable error.
// A request that could not be sent to the leader (the connection is down) is retried the
// same way; one that was sent but got no answer (the leader died or the connection broke)
// is answered with an error that tells the client to retry, because it may have run.

#include <cstdint>
#include <string>

#include "api/dispatcher.h"
#include "api/request.h"
#include "common/clock.h"
#include "common/result.h"

namespace cmq::cluster {
class GroupRouter;
class PeerNetwork;
}  // namespace cmq::cluster

namespace cmq::api {

// Wire form of a forwarded request and of its answer (length-prefixed fields, a version
// byte first; version 2 adds flags, internal and tcp, and the pinned group; a node that
// predates a flag refuses the request, and its sender answers "retry"). Decoding never
// trusts its input.
std::string EncodeForwardedRequest(const HttpRequest& request);
Result<HttpRequest> DecodeForwardedRequest(std::string_view in);
std::string EncodeForwardedResponse(const HttpResponse& response);
Result<HttpResponse> DecodeForwardedResponse(std::string_view in);

class ForwardingHandler {
 public:
  // All must outlive the handler. Registers itself as network's forward handler and as the
  // dispatcher's way to other groups (Dispatcher::SetGroups).
  ForwardingHandler(Dispatcher& dispatcher, cluster::GroupRouter& groups,
                    cluster::PeerNetwork& network, const Clock& clock,
                    int64_t leader_wait_ms = 3000);

  void Handle(HttpRequest request, ResponseCallback done);
  RequestHandler AsHandler();
  // Runs request at the leader of group g, as an internal request pinned to that group.
  void RunInGroup(uint32_t group, HttpRequest request, ResponseCallback done);
  // The group whose leader serves request; 0: none (served where it arrives).
  uint32_t GroupOf(const HttpRequest& request) const;

 private:
  void Route(uint32_t group, std::shared_ptr<HttpRequest> request, ResponseCallback done,
             int64_t deadline_ms);

  Dispatcher& dispatcher_;
  cluster::GroupRouter& groups_;
  cluster::PeerNetwork& network_;
  const Clock& clock_;
  int64_t leader_wait_ms_;
};

}  // namespace cmq::api
