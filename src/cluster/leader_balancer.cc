#include "cluster/leader_balancer.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "cluster/node.h"
#include "cluster/peer_network.h"

namespace cmq::cluster {

uint64_t PreferredLeader(uint32_t group, const std::set<uint64_t>& voters) {
  if (voters.empty() || group == 0) return 0;
  auto it = voters.begin();
  std::advance(it, static_cast<ptrdiff_t>((group - 1) % voters.size()));
  return *it;
}

uint64_t BalanceDecision(const NodeStats& s, uint64_t& streak_node) {
  const uint64_t before = streak_node;
  streak_node = 0;
  if (s.role != "leader") return 0;
  std::set<uint64_t> voters;
  for (const NodeStats::Peer& p : s.peers) {
    if (!p.learner) voters.insert(p.id);
  }
  const uint64_t preferred = PreferredLeader(s.group_id, voters);
  if (preferred == 0 || preferred == s.node_id) return 0;
  bool caught_up = false;
  for (const NodeStats::Peer& p : s.peers) {
    // Replicating (not probing or being sent a snapshot) and holding all that is committed.
    if (p.id == preferred) caught_up = p.state == "replicate" && p.match >= s.commit_index;
  }
  if (!caught_up) return 0;
  streak_node = preferred;
  return before == preferred ? preferred : 0;
}

struct LeaderBalancer::State {
  std::vector<Node*> nodes;
  PeerNetwork* network = nullptr;
  int64_t interval_ms = 0;
  int64_t retry_ms = 0;
  std::mutex mu;
  bool stopped = false;
  std::map<uint32_t, uint64_t> streak;      // by group
  std::map<uint32_t, int64_t> last_try_ms;  // by group
};

namespace {
int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

LeaderBalancer::LeaderBalancer(std::vector<Node*> nodes, PeerNetwork& network, int64_t interval_ms,
                               int64_t retry_ms)
    : state_(std::make_shared<State>()) {
  state_->nodes = std::move(nodes);
  state_->network = &network;
  state_->interval_ms = interval_ms;
  state_->retry_ms = retry_ms;
}

LeaderBalancer::~LeaderBalancer() {
  Stop();
}

void LeaderBalancer::Start() {
  Schedule(state_);
}

void LeaderBalancer::Stop() {
  std::lock_guard lock(state_->mu);
  state_->stopped = true;
}

void LeaderBalancer::Schedule(std::shared_ptr<State> state) {
  PeerNetwork* network = state->network;
  const int64_t interval_ms = state->interval_ms;  // read before state moves
  network->After(interval_ms, [state = std::move(state)] { Check(state); });
}

// Runs on the network's timer thread; each group's status comes back on its strand. The
// nodes and the network outlive the balancer's Stop() (cmqd stops it first), and a check
// or callback that starts after Stop() does nothing.
void LeaderBalancer::Check(std::shared_ptr<State> state) {
  {
    std::lock_guard lock(state->mu);
    if (state->stopped) return;
  }
  for (Node* node : state->nodes) {
    node->GetGroupStatus([node, state](Result<NodeStats> status) {
      if (!status.ok()) return;
      uint64_t to = 0;
      {
        std::lock_guard lock(state->mu);
        if (state->stopped) return;
        const uint32_t g = status->group_id;
        to = BalanceDecision(*status, state->streak[g]);
        if (to == 0) return;
        const int64_t now = SteadyMs();
        int64_t& last = state->last_try_ms[g];
        if (last != 0 && now - last < state->retry_ms) return;
        last = now;
      }
      spdlog::info("group {}: handing leadership to node {}, its preferred leader",
                   status->group_id, to);
      node->TransferLeadership(to, [g = status->group_id, to](Status st) {
        if (!st.ok()) spdlog::info("group {}: transfer to node {}: {}", g, to, st.ToString());
      });
    });
  }
  Schedule(state);
}

}  // namespace cmq::cluster
