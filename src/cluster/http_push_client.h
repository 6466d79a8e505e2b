#pragma once
// A one-shot HTTP(S) POST for pushing topic messages to subscribers' endpoints. Each push
// opens its own connection (endpoints are arbitrary third-party servers; a dead one must
// cost only its own sockets), with one deadline over resolve + connect + TLS + write + read.
// Success is any 2xx status (spec §10.6). Runs on the io_context it is given.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace cmq::cluster {

struct PushRequest {
  std::string url;  // http://host[:port]/path?query or https://...
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{15'000};
};

// Parses http(s)://host[:port][/target]. False if it is not such a URL.
struct ParsedUrl {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // "/" when absent
};
bool ParsePushUrl(const std::string& url, ParsedUrl& out);

class HttpPushClient {
 public:
  explicit HttpPushClient(boost::asio::io_context& ioc);
  ~HttpPushClient();

  // done(status): ok for a 2xx answer; kUnavailable with the reason otherwise (HTTP status,
  // timeout, refused, TLS failure). Called exactly once, on the io_context.
  void Post(PushRequest request, std::function<void(Status)> done);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace cmq::cluster
