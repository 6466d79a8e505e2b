#pragma once
// The HTTP request and response as plain values, so that request handling is a function
// with no socket in it (unit-tested directly; STYLE.md "boostorg/beast"). The server fills
// an HttpRequest from the wire and writes the HttpResponse back; nothing else crosses.

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace cmq::api {

struct HttpRequest {
  std::string method;  // as received, e.g. "POST", "GET"
  std::string target;  // path plus optional "?query", as received
  std::string host;    // the Host header as received ("" if absent)
  std::string body;    // the raw (still URL-encoded) body
  bool keep_alive = true;
  // The server could not read the whole request because it exceeds a size limit (header or
  // body); body is empty. The handler answers CMQ error 10420 and the connection closes.
  bool too_large = false;
  // Set only by cmqd itself, never from the wire: a request one node makes of another
  // (api/group_fanout.h), trusted without a signature since it comes over the cluster's
  // transport.
  bool internal = false;
  // A request pinned to one data group (1..): lists and cluster status ask each group's
  // leader for its part this way. 0: the request's queue or topic picks the group.
  uint32_t group = 0;
  // A request of the CMQ TCP protocol (api/tcp_server.h): body is one serialized CMQProto,
  // and so is the answer's body. Its connection has authenticated (or no account is
  // configured), so it carries no signature; like `internal`, it travels between nodes.
  bool tcp = false;
  // Of a TCP request: the queue or topic it names, for routing it to its group's leader.
  // Not forwarded (the leader reads the body).
  std::string route_name;
  // Of a TCP transaction send: the client id its connection authenticated with, kept with
  // the half messages to know whom to ask at check-back. Forwarded with the request.
  std::string tcp_client_id;
  // Of a receive: set once its client is gone (its connection closed), so that a long poll
  // still waiting takes no message (cluster::AbandonFlag). Not on the wire: a forwarded
  // request's flag is set on the serving node when the sender tells it (kForwardCancel,
  // cluster/peer_network.h).
  std::shared_ptr<const std::atomic<bool>> abandoned;
};

struct HttpResponse {
  // CMQ answers every request with HTTP 200 and a JSON body; errors are in the JSON (spec
  // §3). Other statuses are reserved for failures below the CMQ layer.
  int status = 200;
  std::string body;  // JSON
  bool keep_alive = true;
  // An error answer of ApiError::unavailable (Reply::Fail sets it), for the TCP listener.
  // Not on any wire: a TCP answer carries it as status kTcpUnavailableStatus instead.
  bool unavailable = false;
};

// What the HTTP server calls for every request. done must be called exactly once, from any
// thread.
using ResponseCallback = std::function<void(HttpResponse)>;
using RequestHandler = std::function<void(HttpRequest, ResponseCallback)>;

}  // namespace cmq::api
