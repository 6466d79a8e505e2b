#pragma once
// The server's configuration file (JSON; documented with an example in docs/config.md).
// Unknown keys are refused, so a typo never silently falls back to a default.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
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
  // HTTPS (the same API over TLS): host:port to listen on, empty: off; then the PEM files
  // of the certificate chain and of its private key are required.
  std::string https;
  std::string tls_cert_file;
  std::string tls_key_file;
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
  // The CMQ TCP protocol (docs/tcp-protocol.md): host:port to listen on; empty: off.
  std::string tcp;
  // What QueryQueueRoute and QueryTopicRoute answer (the TCP SDK connects there): a list
  // of host:port. Empty: this node's own `tcp` address as given (cmqd warns when that is a
  // wildcard such as 0.0.0.0). In a cluster, list every node's TCP address.
  std::vector<std::string> tcp_route;
  // The TCP listener closes a connection that has been silent this long (the SDK sends a
  // heartbeat after 3 s of quiet).
  int64_t tcp_idle_timeout_seconds = 60;
  // Requests one TCP connection may have in flight before the server stops reading it.
  uint32_t tcp_max_inflight = 4096;
  // Of them, pulls (whose answers may be large) that run at once; more wait for a turn.
  uint32_t tcp_max_inflight_pulls = 256;
  // Threads running the HTTP io_context; 0 = one per core.
  uint32_t io_threads = 0;
  // Cluster (docs/cluster.md). node_id 0: a standalone node (a group of one).
  uint64_t node_id = 0;
  // Every node's node-to-node address: "1=10.0.0.1:7001,2=10.0.0.2:7001,3=10.0.0.3:7001".
  std::string peers;
  // Where this node listens for the others; empty: its own entry in peers.
  std::string listen;
  uint64_t cluster_id = 1;  // nodes of different clusters refuse to talk
  // Data groups (docs/cluster.md "Data groups"), fixed when the cluster is created; 0: the
  // default (1 for a standalone node, 3 in a cluster).
  uint32_t groups = 0;
  // The leader of a group hands leadership to the group's preferred node when it can.
  bool balance_leaders = true;
  // A Raft message for an idle peer connection is written by the sending thread (saves the
  // transport thread's wake-up); false: always by the transport thread.
  bool peer_direct_writes = true;
  // Mutual TLS between nodes (docs/cluster.md "TLS between nodes"): this node's certificate,
  // its key and the CA that signs every node's certificate; all three or none.
  std::string peer_tls_cert_file;
  std::string peer_tls_key_file;
  std::string peer_tls_ca_file;
  bool operator==(const ServerConfig&) const = default;
};

// Parses a peers list ("1=host:port,2=host:port"): ids 1.. unique, ports 1..65535.
Result<std::map<uint64_t, std::pair<std::string, uint16_t>>> ParsePeerList(std::string_view list);

// Reads and validates a JSON config file. Absent keys keep their defaults.
Result<ServerConfig> LoadServerConfig(const std::string& path);
// The same from JSON text (path only names the source in error messages).
Result<ServerConfig> ParseServerConfig(const std::string& json_text,
                                       const std::string& path = "<config>");

}  // namespace cmq::api
