#pragma once
// How a client reaches and authenticates to a CMQ TCP listener (spec
// cmq-tcp-protocol.md §2–§3). The credentials are those of the HTTP client (ClientOptions);
// the TCP protocol signs once per connection instead of per request.

#include <chrono>
#include <string>

#include "client/error.h"
#include "client/options.h"

namespace cmq::client {

struct TcpOptions {
  std::string address = "127.0.0.1:8081";  // host:port of the TCP listener
  std::string secret_id;                   // empty: auth is sent with empty strings
  std::string secret_key;
  std::string signature_method = "HmacSHA256";  // or "HmacSHA1" (the Java SDK's default)
  // Sent in the auth and signed: "<ip>@<instance>". Empty: "<local address of the
  // connection>@DEFAULT", as the Java SDK's "<client IP>@DEFAULT".
  std::string client_id;
  std::chrono::milliseconds connect_timeout{5000};  // resolve + connect + auth
  // Per request; a pull adds its poll wait.
  std::chrono::milliseconds request_timeout{10000};
  // A heartbeat (cmd 1040) after this long without reading or writing, as the Java SDK
  // does after 3 s; 0: none. The server does not require them.
  std::chrono::milliseconds heartbeat_interval{3000};
};

// The TCP options with the credentials and timeouts of an HTTP client's options.
TcpOptions TcpOptionsFrom(const ClientOptions& options, std::string address);

// Splits "host:port" ("[v6]:port"); the port is required (the TCP listener has no default).
Result<Endpoint> ParseTcpAddress(const std::string& address);

}  // namespace cmq::client
