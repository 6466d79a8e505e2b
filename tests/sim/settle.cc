// The end of a seed: with every fault healed, the cluster must elect a leader, bring every
// node back into the configuration and up to date, and hand every acknowledged message to
// a consumer.

#include "raft/conf_change.h"
#include "raft/describe.h"
#include "sim/simulator.h"

namespace cmq::sim {

// Runs fault-free steps until one leader has every node as a voter and every node has
// applied all of the leader's log, for a few steps in a row.
bool Simulator::Settle(uint64_t max_steps) {
  for (auto& n : nodes_) {
    if (!n->up()) Restart(*n);
  }
  uint64_t stable = 0;
  for (uint64_t i = 0; i < max_steps && !checker_.failed(); ++i) {
    Step(false, false);
    SimNode* leader = Leader();
    if (leader == nullptr) {
      stable = 0;
      continue;
    }
    const raft::ConfState cs = leader->raw().conf_state();
    for (auto& n : nodes_) {
      raft::ConfChange cc{raft::ConfChangeType::kAddVoter, n->id()};
      if (cs.learners.count(n->id())) cc.type = raft::ConfChangeType::kPromoteLearner;
      if (cs.voters.count(n->id())) continue;
      auto index = leader->raw().ProposeConfChange(cc);
      if (index.ok()) {
        SIM_TRACE(trace_, "settle: node {} proposes {}", leader->id(),
                  raft::DescribeConfChange(cc));
      }
      Process(*leader);
      break;
    }
    const raft::RaftLog& log = leader->raw().raft().log();
    bool done = cs.voters.size() == nodes_.size() && log.committed() == log.LastIndex();
    for (auto& n : nodes_) done = done && n->up() && n->applied_index() == log.committed();
    stable = done ? stable + 1 : 0;
    if (stable >= 5) return true;
  }
  if (checker_.failed()) return false;
  std::string state;
  for (auto& n : nodes_) {
    state += fmt::format(" [node {}: {}", n->id(), n->up() ? "up" : "down");
    if (n->up()) {
      const raft::RaftLog& log = n->raw().raft().log();
      state += fmt::format(" {} term {} last {} commit {} applied {} voters {}",
                           raft::RoleName(n->raw().soft_state().role), n->raw().raft().term(),
                           log.LastIndex(), log.committed(), n->applied_index(),
                           raft::DescribeIds(n->raw().conf_state().voters));
    }
    state += "]";
  }
  checker_.Fail(fmt::format("liveness: the healed cluster did not settle within {} steps:{}",
                            max_steps, state));
  return false;
}

// Consumers receive and delete until every acknowledged send was received.
bool Simulator::Drain(uint64_t max_steps) {
  for (uint64_t i = 0; i < max_steps && !checker_.failed(); ++i) {
    Step(false, true);
    if (checker_.Unreceived().empty()) return true;
  }
  if (checker_.failed()) return false;
  std::vector<uint64_t> missing = checker_.Unreceived();
  std::string ids;
  for (size_t i = 0; i < missing.size() && i < 10; ++i) ids += " " + std::to_string(missing[i]);
  checker_.Fail(
      fmt::format("queue: {} acknowledged messages never received after draining "
                  "{} steps:{}",
                  missing.size(), max_steps, ids));
  return false;
}

void Simulator::FinalChecks() {
  const SimNode& first = *nodes_.front();
  for (auto& n : nodes_) {
    if (n->applied_index() != first.applied_index() || n->applied_hash() != first.applied_hash()) {
      checker_.Fail(
          fmt::format("state machine safety: node {} applied {} (hash {:x}), node {} "
                      "applied {} (hash {:x})",
                      n->id(), n->applied_index(), n->applied_hash(), first.id(),
                      first.applied_index(), first.applied_hash()));
      return;
    }
  }
}

}  // namespace cmq::sim
