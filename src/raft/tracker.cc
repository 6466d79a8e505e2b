#include "raft/tracker.h"

#include <algorithm>
#include <array>
#include <functional>
#include <vector>

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
  // MajorityCommitted over the voters' matches, without a std::function and, for groups of
  // up to kStack voters, without the heap: this runs for every MsgAppResp.
  constexpr size_t kStack = 16;
  const size_t n = config_.voters.size();
  if (n == 0) return 0;
  std::array<Index, kStack> stack;
  std::vector<Index> heap;
  Index* indexes = stack.data();
  if (n > kStack) {
    heap.resize(n);
    indexes = heap.data();
  }
  // Both maps are ordered by id, so one merged pass finds each voter's Progress.
  size_t k = 0;
  auto it = progress_.begin();
  for (NodeId id : config_.voters) {
    while (it != progress_.end() && it->first < id) ++it;
    indexes[k++] = (it != progress_.end() && it->first == id) ? it->second.match() : 0;
  }
  // Sorted descending, the majority-th element is held by a majority.
  Index* nth = indexes + (MajoritySize(n) - 1);
  std::nth_element(indexes, nth, indexes + n, std::greater<Index>());
  return *nth;
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
