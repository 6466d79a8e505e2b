#pragma once
// Spreads the leadership of a node's data groups evenly over the nodes (docs/cluster.md
// "Data groups"). Every group has a preferred leader: among its voters in id order, the
// one at position (group - 1) mod their number, so with as many groups as nodes each node
// prefers to lead one. The leader of a group whose preferred node is a caught-up voter
// hands leadership to it (Raft's leadership transfer, no downtime): after bootstrap, and
// whenever a node comes back from a crash or a partition, leadership returns to it.
//
// "Caught up" must hold at two checks in a row, so that a node that has just returned
// (or flaps) is not handed a group before it has the log. A transfer is tried at most
// once per group every retry_ms.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "cluster/node_stats.h"

namespace cmq::cluster {

class Node;
class PeerNetwork;

// The preferred leader of group (1..) among voters; 0 if there are none.
uint64_t PreferredLeader(uint32_t group, const std::set<uint64_t>& voters);

// What a group's leader should do at one check: the node to hand leadership to, or 0.
// streak_node: the preferred node that was caught up at the previous check, 0 if none
// (updated here), so that a node must be caught up at two checks in a row.
uint64_t BalanceDecision(const NodeStats& leader_view, uint64_t& streak_node);

class LeaderBalancer {
 public:
  // nodes[i] is this node's replica of group i + 1. All must outlive the balancer.
  LeaderBalancer(std::vector<Node*> nodes, PeerNetwork& network, int64_t interval_ms = 2000,
                 int64_t retry_ms = 10'000);
  ~LeaderBalancer();
  void Start();
  void Stop();  // no check runs after it returns

 private:
  // Everything a check needs, shared with the callbacks so they never touch the balancer
  // (which Stop() may be destroying meanwhile).
  struct State;
  static void Schedule(std::shared_ptr<State> state);
  static void Check(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
};

}  // namespace cmq::cluster
