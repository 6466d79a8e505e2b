#pragma once
// Majority arithmetic over one set of voters (one server at a time never needs joint
// quorums). Pure functions, no state.

#include <functional>
#include <map>
#include <optional>
#include <set>

#include "raft/types.h"

namespace cmq::raft {

enum class VoteResult : uint8_t { kPending, kWon, kLost };

// The largest index that a majority of `voters` has (per `acked`, which returns nullopt for a
// voter that has acknowledged nothing, counted as 0). 0 for an empty voter set.
Index MajorityCommitted(const std::set<NodeId>& voters,
                        const std::function<std::optional<Index>(NodeId)>& acked);

// Won when a majority granted, lost when a majority can no longer grant, else pending.
// `votes` maps voter -> granted; absent voters have not answered; non-voters are ignored.
VoteResult MajorityVoteResult(const std::set<NodeId>& voters, const std::map<NodeId, bool>& votes);

inline size_t MajoritySize(size_t voters) {
  return voters / 2 + 1;
}

}  // namespace cmq::raft
