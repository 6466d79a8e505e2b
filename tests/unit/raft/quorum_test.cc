#include "raft/quorum.h"

#include <gtest/gtest.h>

namespace cmq::raft {
namespace {

std::function<std::optional<Index>(NodeId)> Acked(std::map<NodeId, Index> m) {
  return [m](NodeId id) -> std::optional<Index> {
    auto it = m.find(id);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

TEST(MajorityCommitted, IsTheIndexHeldByAMajority) {
  EXPECT_EQ(MajorityCommitted({1}, Acked({{1, 7}})), 7u);
  EXPECT_EQ(MajorityCommitted({1, 2, 3}, Acked({{1, 5}, {2, 3}, {3, 9}})), 5u);
  EXPECT_EQ(MajorityCommitted({1, 2, 3, 4}, Acked({{1, 5}, {2, 3}, {3, 9}, {4, 4}})), 4u);
  EXPECT_EQ(MajorityCommitted({1, 2, 3, 4, 5}, Acked({{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}})),
            3u);
}

TEST(MajorityCommitted, CountsSilentVotersAsZero) {
  EXPECT_EQ(MajorityCommitted({1, 2, 3}, Acked({{1, 5}})), 0u);
  EXPECT_EQ(MajorityCommitted({1, 2, 3}, Acked({{1, 5}, {2, 4}})), 4u);
}

TEST(MajorityCommitted, IgnoresNonVoters) {
  EXPECT_EQ(MajorityCommitted({1, 2, 3}, Acked({{1, 5}, {4, 9}, {5, 9}})), 0u);
}

TEST(MajorityCommitted, EmptyVoterSetIsZero) {
  EXPECT_EQ(MajorityCommitted({}, Acked({})), 0u);
}

TEST(MajorityVoteResult, WonLostPending) {
  EXPECT_EQ(MajorityVoteResult({1, 2, 3}, {{1, true}}), VoteResult::kPending);
  EXPECT_EQ(MajorityVoteResult({1, 2, 3}, {{1, true}, {2, true}}), VoteResult::kWon);
  EXPECT_EQ(MajorityVoteResult({1, 2, 3}, {{1, true}, {2, false}}), VoteResult::kPending);
  EXPECT_EQ(MajorityVoteResult({1, 2, 3}, {{1, true}, {2, false}, {3, false}}), VoteResult::kLost);
  EXPECT_EQ(MajorityVoteResult({1, 2, 3, 4}, {{1, true}, {2, true}, {3, false}, {4, false}}),
            VoteResult::kLost);
  EXPECT_EQ(MajorityVoteResult({1}, {{1, true}}), VoteResult::kWon);
}

TEST(MajorityVoteResult, VotesOfNonVotersDoNotCount) {
  EXPECT_EQ(MajorityVoteResult({1, 2, 3}, {{1, true}, {7, true}, {8, true}}), VoteResult::kPending);
}

}  // namespace
}  // namespace cmq::raft
