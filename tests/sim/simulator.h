#pragma once
// One seed of the deterministic cluster simulation. Everything (fault rates, timings, every
// random choice) comes from one std::mt19937_64 seeded with the seed: no wall clock, no
// threads, no sockets. A step is one tick of sim time (kTickMs):
//   1. maybe inject faults (crash, partition, heal, disk fault, leader transfer,
//      membership change) and restart nodes whose downtime is over;
//   2. deliver the messages due now, each followed by the receiver's Ready handling;
//   3. tick every running node (a node sometimes skips a tick: clocks drift);
//   4. clients start requests; leaders propose them as one entry (group commit);
//   5. check the invariants (checker.h).
// After `steps` steps: heal everything, let the cluster settle, drain the queue, check that
// every acknowledged send was received, and that all nodes applied the same log.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/checker.h"
#include "sim/disk.h"
#include "sim/network.h"
#include "sim/node.h"
#include "sim/sim_random.h"
#include "sim/trace.h"
#include "sim/workload.h"

namespace cmq::sim {

struct SimOptions {
  uint64_t seed = 1;
  int nodes = 3;
  uint64_t steps = 1000;
  bool print_trace = false;
  bool hash_trace = false;
};

struct SeedResult {
  bool ok = true;
  std::string failure;
  uint64_t step = 0;
  uint64_t trace_hash = 0;
  std::string summary;
};

// The per-seed fault rates (probabilities per step, or per node per step).
struct FaultPlan {
  double crash = 0;
  double partition = 0;
  double heal = 0;
  double transfer = 0;
  double conf_change = 0;
  double tick_skip = 0;
  uint64_t down_ticks_max = 50;
  DiskOptions disk;
  NetworkOptions network;
};

class Simulator {
 public:
  explicit Simulator(const SimOptions& options);
  ~Simulator();
  SeedResult Run();

 private:
  void Setup();
  // faults: inject faults (the storm); clients: run the workload (drain mode without faults).
  void Step(bool faults, bool clients);
  void InjectFaults();
  void Partition();
  void ChangeMembership(SimNode& leader);
  void Crash(SimNode& node, const std::string& why);
  void RestartDue();
  void Restart(SimNode& node);
  void Deliver();
  void Process(SimNode& node);
  bool Settle(uint64_t max_steps);
  bool Drain(uint64_t max_steps);
  void FinalChecks();
  void CheckLeases();
  SimNode* Leader();
  SimNode& Node(raft::NodeId id) { return *nodes_[id - 1]; }
  int64_t NowMs() const { return kEpochMs + static_cast<int64_t>(now_) * kTickMs; }

  SimOptions options_;
  SimRandom random_;
  Trace trace_;
  Checker checker_;
  Network network_;
  FaultPlan plan_;
  NodeParams params_;
  std::unique_ptr<Workload> workload_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::vector<uint64_t> restart_at_;  // per node; 0 when running
  uint64_t now_ = 0;
  uint64_t partition_until_ = 0;
  uint64_t crashes_ = 0;
  uint64_t partitions_ = 0;
  uint64_t transfers_ = 0;
  uint64_t conf_changes_ = 0;
  uint64_t lease_checks_ = 0;
};

}  // namespace cmq::sim
