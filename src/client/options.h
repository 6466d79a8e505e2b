#pragma once
// How a client reaches and authenticates to a CMQ endpoint.

#include <chrono>
#include <string>

#include "client/error.h"

namespace cmq::client {

struct ClientOptions {
  std::string endpoint = "http://127.0.0.1:8080";  // or https:// (TLS)
  // https: the PEM file of the certificate authorities to trust; empty: the system's.
  std::string tls_ca_file;
  // https: check the server's certificate and host name (false: anyone may pose as the
  // server; for tests with self-signed certificates only).
  bool tls_verify = true;
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
  std::string port;         // "8080"; "80" (http) or "443" (https) when the endpoint has none
  std::string host_header;  // as sent and signed: the endpoint without scheme and trailing '/'
  bool tls = false;         // https://
};

// Accepts "http://host[:port][/]", "https://host[:port][/]" or "host[:port]" (http); IPv6
// literals in brackets.
Result<Endpoint> ParseEndpoint(const std::string& endpoint);

}  // namespace cmq::client
