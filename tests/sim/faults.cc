// The fault schedule of a step: process crashes, partitions, disk faults, leadership
// transfers and membership changes.

#include "raft/conf_change.h"
#include "sim/simulator.h"

namespace cmq::sim {

void Simulator::InjectFaults() {
  if (random_.Chance(plan_.crash)) {
    SimNode& victim = *nodes_[random_.Below(nodes_.size())];
    Crash(victim, "killed");
  }
  if (network_.partitioned()) {
    if (now_ >= partition_until_ || random_.Chance(plan_.heal)) {
      network_.HealAll();
      SIM_TRACE(trace_, "partition healed");
    }
  } else if (random_.Chance(plan_.partition)) {
    Partition();
  }
  for (auto& n : nodes_) {
    if (n->up()) n->disk().MaybeInjectFault(plan_.disk);
  }
  SimNode* leader = Leader();
  if (leader == nullptr) return;
  if (random_.Chance(plan_.transfer)) {
    const auto& voters = leader->raw().conf_state().voters;
    auto it = voters.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(random_.Below(voters.size())));
    if (*it != leader->id()) {
      ++transfers_;
      Status st = leader->raw().TransferLeadership(*it);
      SIM_TRACE(trace_, "transfer leadership {} -> {}: {}", leader->id(), *it, st.ToString());
      Process(*leader);
    }
  }
  if (leader->up() && random_.Chance(plan_.conf_change)) ChangeMembership(*leader);
}

// One of: isolate one node; split the group in two (a minority and a majority); cut a few
// links one way only (a node that can send but not receive, or the reverse).
void Simulator::Partition() {
  ++partitions_;
  partition_until_ = now_ + random_.Between(10, 300);
  const uint64_t n = nodes_.size();
  switch (random_.Below(3)) {
    case 0: {
      raft::NodeId lonely = random_.Between(1, n);
      for (raft::NodeId other = 1; other <= n; ++other) {
        if (other != lonely) network_.CutBoth(lonely, other);
      }
      SIM_TRACE(trace_, "partition: node {} isolated", lonely);
      break;
    }
    case 1: {
      std::vector<bool> side(n + 1);
      for (raft::NodeId id = 1; id <= n; ++id) side[id] = random_.Chance(0.5);
      for (raft::NodeId a = 1; a <= n; ++a) {
        for (raft::NodeId b = a + 1; b <= n; ++b) {
          if (side[a] != side[b]) network_.CutBoth(a, b);
        }
      }
      SIM_TRACE(trace_, "partition: split in two");
      break;
    }
    default: {
      uint64_t cuts = random_.Between(1, n);
      for (uint64_t i = 0; i < cuts; ++i) {
        raft::NodeId from = random_.Between(1, n);
        raft::NodeId to = random_.Between(1, n);
        if (from == to) continue;
        network_.Cut(from, to);
        SIM_TRACE(trace_, "partition: one-way cut {} -> {}", from, to);
      }
      break;
    }
  }
}

// Removes a voter, adds a removed node back (as a voter, or as a learner), or promotes a
// learner. One change at a time (the core refuses a second one while one is pending).
void Simulator::ChangeMembership(SimNode& leader) {
  const raft::ConfState cs = leader.raw().conf_state();
  std::vector<raft::NodeId> outside;
  for (auto& n : nodes_) {
    if (!cs.voters.count(n->id()) && !cs.learners.count(n->id())) outside.push_back(n->id());
  }
  raft::ConfChange cc;
  if (!cs.learners.empty() && random_.Chance(0.7)) {
    cc.type = raft::ConfChangeType::kPromoteLearner;
    cc.node = *cs.learners.begin();
  } else if (!outside.empty() && random_.Chance(0.7)) {
    cc.type =
        random_.Chance(0.5) ? raft::ConfChangeType::kAddVoter : raft::ConfChangeType::kAddLearner;
    cc.node = outside[random_.Below(outside.size())];
  } else if (cs.voters.size() >= 3) {
    cc.type = raft::ConfChangeType::kRemoveNode;
    auto it = cs.voters.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(random_.Below(cs.voters.size())));
    cc.node = *it;
  } else {
    return;
  }
  auto index = leader.raw().ProposeConfChange(cc);
  if (index.ok()) ++conf_changes_;
  SIM_TRACE(trace_, "node {} proposes {}: {}", leader.id(), raft::DescribeConfChange(cc),
            index.ok() ? std::to_string(*index) : index.status().ToString());
  Process(leader);
}

}  // namespace cmq::sim
