#include "api/forwarding.h"

#include <memory>

#include "api/params.h"
#include "cluster/group_router.h"
#include "cluster/node.h"
#include "cluster/peer_network.h"
#include "common/encoding.h"

namespace cmq::api {
namespace {

constexpr uint8_t kForwardVersion = 1;          // responses; requests of one group
constexpr uint8_t kForwardRequestVersion2 = 2;  // requests: + flags, pinned group
constexpr uint8_t kFlagInternal = 1;
constexpr uint8_t kFlagTcp = 2;       // a CMQ TCP protocol request (HttpRequest::tcp)
constexpr uint8_t kFlagClientId = 4;  // tcp_client_id follows the group
constexpr int64_t kLeaderPollMs = 20;

Status Corrupt(const char* what) {
  return Status(ErrorCode::kCorruption, std::string("forwarded request: ") + what);
}

}  // namespace

std::string EncodeForwardedRequest(const HttpRequest& r) {
  std::string out;
  out.reserve(r.body.size() + r.target.size() + r.host.size() + 32);
  if (r.internal || r.group != 0 || r.tcp) {
    out.push_back(static_cast<char>(kForwardRequestVersion2));
    const bool client_id = r.tcp && !r.tcp_client_id.empty();
    out.push_back(static_cast<char>((r.internal ? kFlagInternal : 0) | (r.tcp ? kFlagTcp : 0) |
                                    (client_id ? kFlagClientId : 0)));
    PutVarint64(out, r.group);
    if (client_id) PutLengthPrefixed(out, r.tcp_client_id);
  } else {
    out.push_back(static_cast<char>(kForwardVersion));
  }
  PutLengthPrefixed(out, r.method);
  PutLengthPrefixed(out, r.target);
  PutLengthPrefixed(out, r.host);
  PutLengthPrefixed(out, r.body);
  return out;
}

Result<HttpRequest> DecodeForwardedRequest(std::string_view in) {
  if (in.empty()) return Corrupt("version");
  const uint8_t version = static_cast<uint8_t>(in[0]);
  if (version != kForwardVersion && version != kForwardRequestVersion2) return Corrupt("version");
  Reader r(in.substr(1));
  uint8_t flags = 0;
  uint64_t group = 0;
  std::string_view client_id;
  if (version == kForwardRequestVersion2) {
    std::string_view flag_byte;
    if (!r.Bytes(1, flag_byte) || !r.Varint64(group) || group > UINT32_MAX) {
      return Corrupt("truncated");
    }
    flags = static_cast<uint8_t>(flag_byte[0]);
    if ((flags & ~(kFlagInternal | kFlagTcp | kFlagClientId)) != 0) {
      return Corrupt("unknown flags");
    }
    if ((flags & kFlagClientId) != 0 && !r.LengthPrefixed(client_id)) return Corrupt("truncated");
  }
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
  req.internal = (flags & kFlagInternal) != 0;
  req.tcp = (flags & kFlagTcp) != 0;
  req.tcp_client_id = client_id;
  req.group = static_cast<uint32_t>(group);
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

ForwardingHandler::ForwardingHandler(Dispatcher& dispatcher, cluster::GroupRouter& groups,
                                     cluster::PeerNetwork& network, const Clock& clock,
                                     int64_t leader_wait_ms)
    : dispatcher_(dispatcher),
      groups_(groups),
      network_(network),
      clock_(clock),
      leader_wait_ms_(leader_wait_ms) {
  network_.SetForwardHandler([this](std::string bytes, cluster::PeerNetwork::ReplyFn reply,
                                    cluster::AbandonFlag abandoned) {
    auto request = DecodeForwardedRequest(bytes);
    if (!request.ok()) {
      // The sender times out and tells its client to retry; nothing ran here.
      return;
    }
    if (request->group > groups_.group_count()) return;  // a cluster of another shape
    request->abandoned = std::move(abandoned);           // its client's connection is on the sender
    dispatcher_.Handle(std::move(request).value(), [reply = std::move(reply)](HttpResponse r) {
      reply(EncodeForwardedResponse(r));
    });
  });
  GroupAccess access;
  access.count = groups_.group_count();
  access.replica = [this](uint32_t g) -> cluster::QueueService& { return groups_.group(g); };
  access.run = [this](uint32_t g, HttpRequest request, ResponseCallback done) {
    RunInGroup(g, std::move(request), std::move(done));
  };
  dispatcher_.SetGroups(std::move(access));
}

uint32_t ForwardingHandler::GroupOf(const HttpRequest& request) const {
  if (request.group != 0) return request.group;
  if (groups_.group_count() == 1) return 1;
  if (request.tcp) return request.route_name.empty() ? 0 : groups_.GroupOfName(request.route_name);
  if (request.too_large || (request.method != "POST" && request.method != "GET")) return 0;
  const auto action = FindParam(request, "Action");
  if (!action) return 0;  // answered here
  std::string lower(*action);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto has = [&](std::string_view part) { return lower.find(part) != std::string::npos; };
  if (has("listqueue") || has("listtopic") || has("clusterstatus")) return 0;
  if (has("node") || has("transferleadership")) {
    const auto group = FindParam(request, "groupId");
    if (!group) return 1;
    auto g = ParseInt64(*group);
    return g && *g >= 1 && *g <= static_cast<int64_t>(groups_.group_count())
               ? static_cast<uint32_t>(*g)
               : 0;
  }
  const bool topical = has("topic") || has("subscri") || has("publish");
  const auto name = FindParam(request, topical ? "topicName" : "queueName");
  if (!name) return 0;
  return groups_.GroupOfName(*name);
}

void ForwardingHandler::Handle(HttpRequest request, ResponseCallback done) {
  const uint32_t group = GroupOf(request);
  // The common case first, with no copy: this node leads (or no one group serves it).
  if (group == 0 || network_.LeaderOf(group) == network_.node_id()) {
    return dispatcher_.Handle(std::move(request), std::move(done));
  }
  Route(group, std::make_shared<HttpRequest>(std::move(request)), std::move(done),
        clock_.NowMs() + leader_wait_ms_);
}

void ForwardingHandler::RunInGroup(uint32_t group, HttpRequest request, ResponseCallback done) {
  request.internal = true;
  request.group = group;
  Route(group, std::make_shared<HttpRequest>(std::move(request)), std::move(done),
        clock_.NowMs() + leader_wait_ms_);
}

void ForwardingHandler::Route(uint32_t group, std::shared_ptr<HttpRequest> request,
                              ResponseCallback done, int64_t deadline_ms) {
  const uint64_t leader = network_.LeaderOf(group);
  if (leader == network_.node_id() || clock_.NowMs() >= deadline_ms) {
    // Leading now, or waited long enough: served here (a follower answers "retry").
    return dispatcher_.Handle(std::move(*request), std::move(done));
  }
  if (leader == 0) {
    network_.After(kLeaderPollMs,
                   [this, group, request, done = std::move(done), deadline_ms]() mutable {
                     Route(group, std::move(request), std::move(done), deadline_ms);
                   });
    return;
  }
  network_.Forward(
      leader, group, EncodeForwardedRequest(*request),
      [this, group, request, done = std::move(done), deadline_ms](Result<std::string> reply,
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
          network_.After(kLeaderPollMs,
                         [this, group, request, done = std::move(done), deadline_ms]() mutable {
                           Route(group, std::move(request), std::move(done), deadline_ms);
                         });
          return;
        }
        dispatcher_.Reject(*request, reply.status(), std::move(done));
      },
      request->abandoned);
}

RequestHandler ForwardingHandler::AsHandler() {
  return [this](HttpRequest request, ResponseCallback done) {
    Handle(std::move(request), std::move(done));
  };
}

}  // namespace cmq::api
