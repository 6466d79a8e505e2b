#pragma once
// The simulated network between the nodes of one group.
//
// Fault model: every message is encoded with the real codec (raft/codec.h) when sent and
// decoded when delivered. A message is dropped with probability drop_probability, and
// otherwise delivered after a delay drawn uniformly from [delay_min_ticks,
// delay_max_ticks]; so messages on one link overtake each other (reordering). With
// probability duplicate_probability a second copy travels with its own delay. Links can be
// cut one way (a -> b) or both ways (a partition); a message on a cut link is lost when it
// would be delivered. A message to a node that is down when it arrives is lost too (its
// connections died with it).

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "raft/message.h"
#include "sim/sim_random.h"
#include "sim/trace.h"

namespace cmq::sim {

struct NetworkOptions {
  double drop_probability = 0;
  double duplicate_probability = 0;
  uint64_t delay_min_ticks = 0;
  uint64_t delay_max_ticks = 0;
};

struct Delivery {
  raft::NodeId from = 0;
  raft::NodeId to = 0;
  raft::MessageType type = raft::MessageType::kApp;
  std::string bytes;  // the encoded message
};

class Network {
 public:
  Network(SimRandom* random, Trace* trace) : random_(random), trace_(trace) {}

  void set_options(const NetworkOptions& options) { options_ = options; }
  const NetworkOptions& options() const { return options_; }

  // Queues m for delivery (or drops it). Returns false if it was dropped at once.
  bool Send(const raft::Message& m, uint64_t now);
  // The messages due at `now` whose link is not cut, in a random order. Those on cut
  // links are dropped and returned in *lost (so a snapshot's sender can be told).
  std::vector<Delivery> TakeDue(uint64_t now, std::vector<Delivery>* lost);

  void Cut(raft::NodeId from, raft::NodeId to) { cut_.insert({from, to}); }
  void CutBoth(raft::NodeId a, raft::NodeId b) {
    Cut(a, b);
    Cut(b, a);
  }
  bool IsCut(raft::NodeId from, raft::NodeId to) const { return cut_.count({from, to}) > 0; }
  void HealAll() { cut_.clear(); }
  bool partitioned() const { return !cut_.empty(); }
  size_t in_flight() const { return queue_.size(); }

  uint64_t sent() const { return sent_; }
  uint64_t dropped() const { return dropped_; }

 private:
  void Enqueue(const raft::Message& m, const std::string& bytes, uint64_t now);

  SimRandom* random_;
  Trace* trace_;
  NetworkOptions options_;
  std::set<std::pair<raft::NodeId, raft::NodeId>> cut_;
  // (delivery tick, sequence) -> message: a total order, so replays are exact.
  std::map<std::pair<uint64_t, uint64_t>, Delivery> queue_;
  uint64_t sequence_ = 0;
  uint64_t sent_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace cmq::sim
