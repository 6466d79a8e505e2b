#include "api/forwarding.h"

#include <memory>

#include "cluster/node.h"
#include "cluster/peer_network.h"
#include "common/encoding.h"

namespace cmq::api {
namespace {

constexpr uint8_t kForwardVersion = 1;
constexpr int64_t kLeaderPollMs = 20;

Status Corrupt(const char* what) {
  return Status(ErrorCode::kCorruption, std::string("forwarded request: ") + what);
}

}  // namespace

std::string EncodeForwardedRequest(const HttpRequest& r) {
  std::string out;
  out.reserve(r.body.size() + r.target.size() + r.host.size() + 32);
  out.push_back(static_cast<char>(kForwardVersion));
  PutLengthPrefixed(out, r.method);
  PutLengthPrefixed(out, r.target);
  PutLengthPrefixed(out, r.host);
  PutLengthPrefixed(out, r.body);
  return out;
}

Result<HttpRequest> DecodeForwardedRequest(std::string_view in) {
  if (in.empty() || static_cast<uint8_t>(in[0]) != kForwardVersion) return Corrupt("version");
  Reader r(in.substr(1));
  std::string_view method, target, host, body;
  if (!r.LengthPrefixed(method) || !r.LengthPrefixed(target) || !r.LengthPrefixed(host) ||
      !r.LengthPrefixed(body) || !r.empty()) {
    return Corrupt("truncated");
  }
  HttpRequest req;
  req.method = method;
  req.target = target;
  req.host = host;
  req.body = body;
  return req;
}

std::string EncodeForwardedResponse(const HttpResponse& r) {
  std::string out;
  out.reserve(r.body.size() + 16);
  out.push_back(static_cast<char>(kForwardVersion));
  PutVarint64(out, static_cast<uint64_t>(r.status));
  PutLengthPrefixed(out, r.body);
  return out;
}

Result<HttpResponse> DecodeForwardedResponse(std::string_view in) {
  if (in.empty() || static_cast<uint8_t>(in[0]) != kForwardVersion) return Corrupt("version");
  Reader r(in.substr(1));
  uint64_t status = 0;
  std::string_view body;
  if (!r.Varint64(status) || status < 100 || status > 599 || !r.LengthPrefixed(body) ||
      !r.empty()) {
    return Corrupt("truncated response");
  }
  HttpResponse resp;
  resp.status = static_cast<int>(status);
  resp.body = body;
  return resp;
}

ForwardingHandler::ForwardingHandler(Dispatcher& dispatcher, cluster::Node& node,
                                     cluster::PeerNetwork& network, const Clock& clock,
                                     int64_t leader_wait_ms)
    : dispatcher_(dispatcher),
      node_(node),
      network_(network),
      clock_(clock),
      leader_wait_ms_(leader_wait_ms) {
  network_.SetForwardHandler([this](std::string bytes, cluster::PeerNetwork::ReplyFn reply) {
    auto request = DecodeForwardedRequest(bytes);
    if (!request.ok()) {
      // The sender times out and tells its client to retry; nothing ran here.
      return;
    }
    dispatcher_.Handle(std::move(request).value(), [reply = std::move(reply)](HttpResponse r) {
      reply(EncodeForwardedResponse(r));
    });
  });
}

void ForwardingHandler::Handle(HttpRequest request, ResponseCallback done) {
  const uint64_t leader = node_.leader_id();
  // The common case first, with no copy: this node leads (or a request too large to read).
  if (leader == node_.node_id() || request.too_large) {
    return dispatcher_.Handle(std::move(request), std::move(done));
  }
  Route(std::make_shared<HttpRequest>(std::move(request)), std::move(done),
        clock_.NowMs() + leader_wait_ms_);
}

void ForwardingHandler::Route(std::shared_ptr<HttpRequest> request, ResponseCallback done,
                              int64_t deadline_ms) {
  const uint64_t leader = node_.leader_id();
  if (leader == node_.node_id() || clock_.NowMs() >= deadline_ms) {
    // Leading now, or waited long enough: served here (a follower answers "retry").
    return dispatcher_.Handle(std::move(*request), std::move(done));
  }
  if (leader == 0) {
    network_.After(kLeaderPollMs, [this, request, done = std::move(done), deadline_ms]() mutable {
      Route(std::move(request), std::move(done), deadline_ms);
    });
    return;
  }
  network_.Forward(leader, EncodeForwardedRequest(*request),
                   [this, request, done = std::move(done), deadline_ms](Result<std::string> reply,
                                                                        bool sent) mutable {
                     if (reply.ok()) {
                       auto response = DecodeForwardedResponse(*reply);
                       if (response.ok()) {
                         response->keep_alive = request->keep_alive;
                         return done(std::move(response).value());
                       }
                       return dispatcher_.Reject(*request, response.status(), std::move(done));
                     }
                     if (!sent) {
                       // It never left this node: safe to try again once a leader is reachable.
                       network_.After(kLeaderPollMs, [this, request, done = std::move(done),
                                                      deadline_ms]() mutable {
                         Route(std::move(request), std::move(done), deadline_ms);
                       });
                       return;
                     }
                     dispatcher_.Reject(*request, reply.status(), std::move(done));
                   });
}

RequestHandler ForwardingHandler::AsHandler() {
  return [this](HttpRequest request, ResponseCallback done) {
    Handle(std::move(request), std::move(done));
  };
}

}  // namespace cmq::api
