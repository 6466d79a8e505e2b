#pragma once
// How a client reaches and authenticates to a CMQ endpoint.

#include <chrono>
#include <string>

#include "client/error.h"

namespace cmq::client {

struct ClientOptions {
  std::string endpoint = "http://127.0.0.1:8080";  // http:// only (no TLS in this library yet)
  std::string path = "/v2/index.php";
  std::string secret_id;  // empty secret_key: requests are not signed
  std::string secret_key;
  std::string signature_method = "HmacSHA256";  // or "HmacSHA1"
  std::chrono::milliseconds connect_timeout{5000};
  // Per request; a receive adds its polling wait (30 s when the queue's default is used).
  std::chrono::milliseconds request_timeout{10000};
};

// An endpoint split for connecting and signing.
struct Endpoint {
  std::string host;         // to resolve: "127.0.0.1", "::1", "cmq.example"
  std::string port;         // "8080"; "80" when the endpoint has none
  std::string host_header;  // as sent and signed: the endpoint without scheme and trailing '/'
};

// Accepts "http://host[:port][/]" or "host[:port]"; IPv6 literals in brackets.
Result<Endpoint> ParseEndpoint(const std::string& endpoint);

}  // namespace cmq::client
