#include "raft/quorum.h"

#include <algorithm>
#include <vector>

namespace cmq::raft {

Index MajorityCommitted(const std::set<NodeId>& voters,
                        const std::function<std::optional<Index>(NodeId)>& acked) {
  if (voters.empty()) return 0;
  std::vector<Index> indexes;
  indexes.reserve(voters.size());
  for (NodeId id : voters) indexes.push_back(acked(id).value_or(0));
  // Sorted descending, the majority-th element is held by a majority.
  std::sort(indexes.begin(), indexes.end(), std::greater<Index>());
  return indexes[MajoritySize(voters.size()) - 1];
}

VoteResult MajorityVoteResult(const std::set<NodeId>& voters, const std::map<NodeId, bool>& votes) {
  if (voters.empty()) return VoteResult::kWon;  // by convention, as etcd: nothing to wait for
  size_t granted = 0, rejected = 0;
  for (NodeId id : voters) {
    auto it = votes.find(id);
    if (it == votes.end()) continue;
    (it->second ? granted : rejected)++;
  }
  size_t quorum = MajoritySize(voters.size());
  if (granted >= quorum) return VoteResult::kWon;
  if (voters.size() - rejected < quorum) return VoteResult::kLost;
  return VoteResult::kPending;
}

}  // namespace cmq::raft
