#pragma once
// cmq-bench's command line (docs/bench.md "Options"): one Config for every workload, with
// the per-workload defaults filled in after parsing.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/options.h"
#include "client/tcp_options.h"

namespace cmq::bench {

struct Config {
  // options.endpoint is endpoints[0]: set-up requests (create queue, read counts) go there.
  client::ClientOptions options;
  // Connections are spread over these: any node of a cluster accepts any request.
  std::vector<std::string> endpoints{"http://127.0.0.1:8080"};
  std::string queue = "bench";
  std::string workload = "send";
  int clients = 64, size = 1024, batch = 0, wait = 1, threads = 1;
  double duration = 0;
  int64_t messages = 0;

  // Output: --json alone prints the summary as JSON instead of text; --json FILE prints the
  // text and appends the JSON line to FILE (a script collects one line per run there).
  bool json_stdout = false;
  std::string json_file;
  std::vector<int> server_pids;  // their CPU time per message is reported

  // publish and push
  std::string topic = "bench-topic";
  int subscriptions = 1;
  std::string format = "JSON";
  double push_wait = 300;
  bool keep = false;

  // The peer benchmark's workloads (pub, sync, cons, e2e, e2erate).
  int inflight = 256;        // messages sent and not yet acknowledged
  int prefetch = 100;        // messages received and not yet deleted
  int receive_batch = 16;    // numOfMsg of each BatchReceiveMessage
  int64_t backlog = 200000;  // cons: messages in the queue before draining
  double rate = 0;           // messages/s over all senders; 0: as fast as possible
  bool fresh = false;        // delete and recreate the queue first (an empty queue)

  // --protocol tcp: the peer workloads move their messages over the CMQ TCP protocol to
  // these listeners (queue set-up stays on HTTP, at endpoints[0], as the Java SDK does),
  // pipelined over tcp_connections connections per role.
  std::string protocol = "http";
  std::vector<std::string> tcp_addresses;
  int tcp_connections = 4;

  bool topic_workload() const { return workload == "publish" || workload == "push"; }
  bool peer_workload() const {
    return workload == "pub" || workload == "sync" || workload == "cons" || workload == "e2e" ||
           workload == "e2erate";
  }
  // Runs for --duration (the others run until a count is reached, --duration a cap).
  bool timed() const { return workload != "prefill" && workload != "drain" && workload != "cons"; }
  // The options of a connection that should go to endpoint number `slot` (modulo).
  client::ClientOptions OptionsFor(int slot) const;
  bool tcp() const { return protocol == "tcp"; }
  // The options of a TCP connection to --tcp address number `slot` (modulo).
  client::TcpOptions TcpOptionsFor(int slot) const;
};

// Fills *cfg from argv. Returns the exit status when the program should stop instead of
// running (0 after --help, 2 on a usage error, with the message printed).
std::optional<int> ParseCommandLine(int argc, char** argv, Config* cfg);

}  // namespace cmq::bench
