#include "raft/tracker.h"

namespace cmq::raft {

void ProgressTracker::SetConfig(const ConfState& cs, Index next) {
  for (auto it = progress_.begin(); it != progress_.end();) {
    bool member = cs.voters.count(it->first) || cs.learners.count(it->first);
    it = member ? std::next(it) : progress_.erase(it);
  }
  auto add = [&](NodeId id, bool learner) {
    auto it = progress_.find(id);
    if (it == progress_.end()) {
      Progress pr(next, max_inflight_, learner);
      // A new member is assumed active so that the leader may send it a snapshot at once.
      pr.set_recent_active(true);
      progress_.emplace(id, std::move(pr));
    } else {
      it->second.set_learner(learner);
    }
  };
  for (NodeId id : cs.voters) add(id, false);
  for (NodeId id : cs.learners) add(id, true);
  config_ = cs;
}

void ProgressTracker::ResetProgress(Index next) {
  for (auto& [id, pr] : progress_) {
    Progress fresh(next, max_inflight_, pr.is_learner());
    pr = std::move(fresh);
  }
}

Progress* ProgressTracker::Get(NodeId id) {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

Index ProgressTracker::Committed() const {
  return MajorityCommitted(config_.voters, [this](NodeId id) -> std::optional<Index> {
    auto it = progress_.find(id);
    if (it == progress_.end()) return std::nullopt;
    return it->second.match();
  });
}

bool ProgressTracker::QuorumActive(NodeId self) const {
  std::map<NodeId, bool> active;
  for (const auto& [id, pr] : progress_) {
    if (!pr.is_learner()) active[id] = id == self || pr.recent_active();
  }
  return MajorityVoteResult(config_.voters, active) == VoteResult::kWon;
}

uint64_t ProgressTracker::QuorumLeaseTick(NodeId self, uint64_t self_tick) const {
  return MajorityCommitted(config_.voters, [&](NodeId id) -> std::optional<Index> {
    if (id == self) return self_tick;
    auto it = progress_.find(id);
    if (it == progress_.end()) return std::nullopt;
    return it->second.lease_ack_tick();
  });
}

}  // namespace cmq::raft
