// A small randomized cluster run (the full simulator lives in tests/sim/): random ticks,
// proposals, message loss, duplication, reordering, partitions and log compaction, with
// Raft's safety properties checked after every step, then a liveness check once healed.

#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <sstream>

#include "raft/describe.h"
#include "raft/memory_storage.h"
#include "raft/rand.h"
#include "raft/raw_node.h"

namespace cmq::raft {
namespace {

struct SimNode {
  std::unique_ptr<MemoryStorage> storage;
  std::unique_ptr<RawNode> raw;
  std::map<Index, std::string> applied;  // the state machine: index -> data
};

class Cluster {
 public:
  // Nodes 1..voters start as the group; the others up to `nodes` start empty and may join
  // through conf changes.
  Cluster(size_t voters, size_t nodes, uint64_t seed) : prng_(seed) {
    ConfState cs;
    for (NodeId id = 1; id <= voters; ++id) cs.voters.insert(id);
    for (NodeId id = 1; id <= nodes; ++id) {
      SimNode node;
      node.storage = std::make_unique<MemoryStorage>();
      if (id <= voters) {
        EXPECT_TRUE(node.storage->ApplySnapshot(Snapshot{SnapshotMeta{1, 1, cs}, nullptr}).ok());
        node.storage->SetHardState(HardState{1, kNoNode, 1});
      }
      Config c;
      c.id = id;
      c.seed = seed * 100 + id;
      c.max_inflight_msgs = 4;
      c.max_msg_bytes = 64;
      node.raw = std::make_unique<RawNode>(c, node.storage.get());
      nodes_.emplace(id, std::move(node));
    }
  }

  void Step(bool faults) {
    uint64_t dice = prng_.Below(100);
    NodeId id = 1 + prng_.Below(nodes_.size());
    if (dice < 25) {
      nodes_[id].raw->Tick();
    } else if (dice < 34) {
      (void)nodes_[id].raw->Propose(MakePayload("v" + std::to_string(next_value_++)));
    } else if (dice < 35) {
      (void)nodes_[id].raw->TransferLeadership(1 + prng_.Below(nodes_.size()));
    } else if (dice < 36) {
      ConfChange cc{static_cast<ConfChangeType>(prng_.Below(4)), 1 + prng_.Below(nodes_.size())};
      (void)nodes_[id].raw->ProposeConfChange(cc);
    } else if (dice < 60) {
      ProcessReady(id);
    } else if (dice < 97) {
      DeliverOne(faults);
    } else if (dice < 99 && faults) {
      Repartition();
    } else {
      Compact(id);
    }
    CheckSafety();
  }

  void Heal() { group_.clear(); }

  std::string Dump() const {
    std::string out;
    for (const auto& [id, n] : nodes_) {
      NodeStatus st = n.raw->GetStatus();
      out += std::to_string(id) + ": " + DescribeSoftState(st.soft_state) + " " +
             DescribeHardState(st.hard_state) + " applied=" + std::to_string(st.applied) +
             " last=" + std::to_string(st.last_index) + " " + DescribeConfState(st.conf_state) +
             " first=" + std::to_string(n.storage->FirstIndex()) + "\n";
      for (const auto& [pid, pr] : st.progress) {
        out += "   " + std::to_string(pid) + " " + std::string(ProgressStateName(pr.state)) +
               " match=" + std::to_string(pr.match) + " next=" + std::to_string(pr.next) + "\n";
      }
    }
    return out;
  }

  size_t MaxApplied() const {
    size_t m = 0;
    for (const auto& [id, n] : nodes_) m = std::max(m, n.applied.size());
    return m;
  }
  bool Converged() const {
    std::optional<Index> last;
    for (const auto& [id, n] : nodes_) {
      Index l = n.applied.empty() ? 0 : n.applied.rbegin()->first;
      if (last && *last != l) return false;
      last = l;
    }
    return true;
  }

 private:
  void ProcessReady(NodeId id) {
    SimNode& n = nodes_[id];
    if (!n.raw->HasReady()) return;
    Ready rd = n.raw->GetReady();
    if (rd.snapshot) {
      ASSERT_TRUE(n.storage->ApplySnapshot(*rd.snapshot).ok());
      Restore(n, *rd.snapshot);
    }
    n.storage->Append(rd.entries);
    if (rd.hard_state) n.storage->SetHardState(*rd.hard_state);
    for (Message& m : rd.messages) network_.push_back(std::move(m));
    for (const Entry& e : rd.committed_entries) Apply(n, e.index, std::string(e.data_view()));
    n.raw->Advance(rd);
  }

  void Apply(SimNode& n, Index index, const std::string& data) {
    ASSERT_TRUE(n.applied.empty() || n.applied.rbegin()->first + 1 == index) << "gap in apply";
    n.applied[index] = data;
    auto [it, fresh] = committed_.emplace(index, data);
    ASSERT_EQ(it->second, data) << "state machine safety: two values applied at " << index;
  }

  void Restore(SimNode& n, const Snapshot& s) {
    n.applied.clear();
    std::stringstream ss(s.data ? *s.data : "");
    Index index;
    std::string data;
    while (ss >> index) {
      ss.get();
      std::getline(ss, data);
      n.applied[index] = data;
    }
    // A snapshot covers everything up to its index.
    if (n.applied.empty() || n.applied.rbegin()->first != s.meta.index)
      n.applied[s.meta.index] = "";
  }

  void Compact(NodeId id) {
    SimNode& n = nodes_[id];
    if (n.applied.empty()) return;
    Index at = n.applied.rbegin()->first;
    if (at <= n.storage->FirstIndex() || at > n.storage->LastIndex()) return;
    std::string image;
    for (const auto& [i, d] : n.applied) image += std::to_string(i) + " " + d + "\n";
    if (!n.storage->CreateSnapshot(at, n.raw->conf_state(), MakePayload(image)).ok()) return;
    ASSERT_TRUE(n.storage->Compact(at).ok());
  }

  void DeliverOne(bool faults) {
    if (network_.empty()) return;
    size_t i = faults ? prng_.Below(network_.size()) : 0;  // reorder
    Message m = network_[i];
    if (!faults || prng_.Below(100) >= 5) network_.erase(network_.begin() + static_cast<long>(i));
    if (faults && prng_.Below(100) < 10) return;  // lost
    if (group_[m.from] != group_[m.to]) return;   // partitioned
    (void)nodes_[m.to].raw->Step(m);
  }

  void Repartition() {
    group_.clear();
    for (auto& [id, n] : nodes_) group_[id] = static_cast<int>(prng_.Below(2));
  }

  void CheckSafety() {
    for (const auto& [id, n] : nodes_) {
      if (n.raw->soft_state().role != Role::kLeader) continue;
      Term t = n.raw->hard_state().term;
      auto [it, fresh] = leaders_.emplace(t, id);
      ASSERT_EQ(it->second, id) << "election safety: two leaders in term " << t;
    }
  }

  Prng prng_;
  std::map<NodeId, SimNode> nodes_;
  std::deque<Message> network_;
  std::map<NodeId, int> group_;
  std::map<Term, NodeId> leaders_;
  std::map<Index, std::string> committed_;
  uint64_t next_value_ = 0;
};

void RunSeed(uint64_t seed) {
  Cluster cluster(seed % 2 == 0 ? 3 : 5, 6, seed);
  for (int i = 0; i < 3000 && !::testing::Test::HasFatalFailure(); ++i) cluster.Step(true);
  cluster.Heal();
  size_t before = cluster.MaxApplied();
  for (int i = 0; i < 6000 && !::testing::Test::HasFatalFailure(); ++i) cluster.Step(false);
  EXPECT_GT(cluster.MaxApplied(), before) << "no progress after healing, seed " << seed << "\n"
                                          << cluster.Dump();
}

class RandomClusterTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(RandomClusterTest, SafeUnderFaultsAndLiveOnceHealed) {
  RunSeed(GetParam());
}

// CMQ_RAFT_SEEDS=N runs seeds 1000..1000+N as well (a longer soak, off by default).
TEST(RandomClusterSoak, ManySeedsFromEnvironment) {
  const char* env = std::getenv("CMQ_RAFT_SEEDS");
  const uint64_t n = env ? std::strtoull(env, nullptr, 10) : 0;
  for (uint64_t seed = 1000; seed < 1000 + n && !::testing::Test::HasFailure(); ++seed) {
    RunSeed(seed);
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomClusterTest, ::testing::Range<uint64_t>(1, 21));

}  // namespace
}  // namespace cmq::raft
