#pragma once
// Routes one CMQ request to its action: checks the method, the size, the parameters and
// the signature, then runs the action against the QueueService. No socket here: the HTTP
// server (or a test) hands in an HttpRequest and gets one HttpResponse back.
//
// Thread safety: Handle may be called from many threads at once. done runs exactly once,
// on the calling thread (errors found before the service is involved) or on a
// QueueService thread.

#include <atomic>
#include <cstdint>
#include <string_view>

#include "api/actions.h"
#include "api/auth.h"
#include "api/config.h"
#include "api/request.h"
#include "cluster/queue_service.h"
#include "common/clock.h"

namespace cmq::api {

class Dispatcher {
 public:
  // service and clock must outlive the Dispatcher; config is copied where needed.
  Dispatcher(cluster::QueueService& service, const ServerConfig& config, const Clock& clock);

  void Handle(HttpRequest request, ResponseCallback done);
  // Answers request with the CMQ error for status (with its clientRequestId, if any),
  // without running it: for failures around the request, such as forwarding.
  void Reject(const HttpRequest& request, const Status& status, ResponseCallback done);

  // Before serving, in a cluster of several groups: how actions reach other groups.
  void SetGroups(GroupAccess groups);

  // A RequestHandler for HttpServer that calls Handle. The Dispatcher must outlive it.
  RequestHandler AsHandler();

  // The action table entry for name (case-insensitive), or nullptr if unknown. An entry
  // with a null fn is a known CMQ action this server does not implement yet (answered as
  // unknown, 10430, as the legacy queue endpoint did for topic actions).
  struct Action {
    std::string_view name;
    ActionFn fn;
  };
  static const Action* FindAction(std::string_view name);

 private:
  GroupAccess groups_;
  ActionContext context_;
  Authenticator authenticator_;
  std::atomic<uint64_t> next_request_id_;
};

}  // namespace cmq::api
