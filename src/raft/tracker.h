#pragma once
// ProgressTracker: the group's configuration, the leader's Progress for every member, and
// the votes of the current election.

#include <map>

#include "raft/progress.h"
#include "raft/quorum.h"
#include "raft/types.h"

namespace cmq::raft {

class ProgressTracker {
 public:
  explicit ProgressTracker(size_t max_inflight) : max_inflight_(max_inflight) {}

  const ConfState& config() const { return config_; }
  // Replaces the configuration. New members get a Progress probing from `next`; removed
  // members lose theirs; promoted learners keep theirs.
  void SetConfig(const ConfState& cs, Index next);
  // Resets every Progress (on becoming leader, or on a term change).
  void ResetProgress(Index next);

  bool IsVoter(NodeId id) const { return config_.voters.count(id) > 0; }
  bool IsMember(NodeId id) const { return IsVoter(id) || config_.learners.count(id) > 0; }
  Progress* Get(NodeId id);
  const std::map<NodeId, Progress>& progress() const { return progress_; }
  std::map<NodeId, Progress>& mutable_progress() { return progress_; }

  // The largest index acknowledged by a majority of voters.
  Index Committed() const;
  // Were a majority of voters recently active (self counts as active)?
  bool QuorumActive(NodeId self) const;
  // The largest lease stamp a majority of voters acknowledged (self: `self_tick`).
  uint64_t QuorumLeaseTick(NodeId self, uint64_t self_tick) const;

  void ResetVotes() { votes_.clear(); }
  void RecordVote(NodeId id, bool granted) { votes_.emplace(id, granted); }
  VoteResult TallyVotes() const { return MajorityVoteResult(config_.voters, votes_); }
  const std::map<NodeId, bool>& votes() const { return votes_; }

 private:
  size_t max_inflight_;
  ConfState config_;
  std::map<NodeId, Progress> progress_;
  std::map<NodeId, bool> votes_;
};

}  // namespace cmq::raft
