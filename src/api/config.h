#pragma once
// The server's configuration file (JSON; documented with an example in docs/config.md).
// Unknown keys are refused, so a typo never silently falls back to a default.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace cmq::api {

struct Account {
  std::string secret_id;
  std::string secret_key;
  bool operator==(const Account&) const = default;
};

struct ServerConfig {
  std::string http = "127.0.0.1:8080";  // host:port to listen on; port 0 picks a free one
  std::string data_dir = "./data";
  // With no account, requests are not authenticated at all (tests, trusted networks).
  std::vector<Account> accounts;
  // Accept a request's Timestamp within ±this many seconds of our clock; 0 = no check.
  int64_t timestamp_window_seconds = 300;
  // Largest raw (URL-encoded) request body. Decoded message bodies have their own limits
  // (mq/limits.h); URL-encoding can triple a body, hence 4 MiB (spec §16).
  uint64_t max_body_bytes = 4 * 1024 * 1024;
  // Largest request header block.
  uint32_t max_header_bytes = 16 * 1024;
  // An idle keep-alive connection is closed after this long (spec §16: at least 60 s).
  int64_t idle_timeout_seconds = 75;
  // A response write that takes longer than this closes the connection.
  int64_t write_timeout_seconds = 30;
  // Pipelined requests read ahead of their responses, per connection.
  uint32_t max_pipelined_requests = 16;
  // Threads running the HTTP io_context; 0 = one per core.
  uint32_t io_threads = 0;
  bool operator==(const ServerConfig&) const = default;
};

// Reads and validates a JSON config file. Absent keys keep their defaults.
Result<ServerConfig> LoadServerConfig(const std::string& path);
// The same from JSON text (path only names the source in error messages).
Result<ServerConfig> ParseServerConfig(const std::string& json_text,
                                       const std::string& path = "<config>");

}  // namespace cmq::api
