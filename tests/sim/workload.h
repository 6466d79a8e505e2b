#pragma once
// The clients: each sends, receives and deletes messages of one queue through whichever
// node it believes leads, with at most one request outstanding. A request is acknowledged
// only by its proposer applying the entry that holds it, at the index and in the term it
// was proposed (node.h Reply); otherwise, or after a timeout, the client retries later,
// maybe elsewhere. Sends retried after a timeout may be applied twice (at-least-once), so
// bodies are unique per attempt and the checker tracks message ids.
//
// Acknowledged sends and receives go to the Checker; a drain mode (no sends) empties the
// queue at the end of a seed.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/checker.h"
#include "sim/node.h"
#include "sim/sim_random.h"
#include "sim/trace.h"

namespace cmq::sim {

inline constexpr int64_t kEpochMs = 1'700'000'000'000;  // sim time 0, in Unix ms
inline constexpr int64_t kTickMs = 100;                 // one tick of sim time
inline constexpr const char* kQueueName = "simqueue";

struct WorkloadOptions {
  int clients = 3;
  uint64_t timeout_ticks = 40;
  double send_weight = 0.45;  // chance that an idle client's next request is a send
  double delay_probability = 0.1;
  uint64_t body_max_bytes = 300;
};

class Workload {
 public:
  Workload(const WorkloadOptions& options, SimRandom* random, Trace* trace, Checker* checker);

  // Idle clients start requests (timed-out ones give up first).
  void Step(uint64_t now, std::vector<std::unique_ptr<SimNode>>& nodes, bool draining);
  void OnReply(const Reply& reply);

  bool queue_ready() const { return queue_ready_; }
  uint64_t acked_requests() const { return acked_; }
  uint64_t requests() const { return requests_; }

 private:
  enum class Op { kCreateQueue, kSend, kReceive, kDelete };
  struct Client {
    int id = 0;
    bool busy = false;
    uint64_t request = 0;
    Op op = Op::kSend;
    uint64_t deadline = 0;
    raft::NodeId leader_hint = 0;
    std::vector<std::string> bodies;                  // kSend in flight
    std::vector<std::pair<uint64_t, uint64_t>> held;  // (receipt handle, msg id)
  };

  std::string NextCommand(Client& c, bool draining);
  SimNode* PickNode(Client& c, std::vector<std::unique_ptr<SimNode>>& nodes);
  std::string RandomBody(const Client& c, size_t i);

  WorkloadOptions options_;
  SimRandom* random_;
  Trace* trace_;
  Checker* checker_;
  std::vector<Client> clients_;
  bool queue_ready_ = false;
  uint64_t acked_ = 0;
  uint64_t requests_ = 0;
};

}  // namespace cmq::sim
