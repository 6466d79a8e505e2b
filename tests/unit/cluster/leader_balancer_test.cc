// The decisions of cluster/leader_balancer.h: each group's preferred leader among its
// voters (PreferredLeader), and when a group's leader hands leadership to it
// (BalanceDecision: only a leader, only to another node, and only once the preferred node
// has been caught up at two checks in a row; learners never count as voters).

#include "cluster/leader_balancer.h"

#include <gtest/gtest.h>

namespace cmq::cluster {
namespace {

TEST(PreferredLeaderTest, OneGroupPerVoterInIdOrderThenWraps) {
  const std::set<uint64_t> voters = {1, 2, 3};
  EXPECT_EQ(PreferredLeader(1, voters), 1u);
  EXPECT_EQ(PreferredLeader(2, voters), 2u);
  EXPECT_EQ(PreferredLeader(3, voters), 3u);
  EXPECT_EQ(PreferredLeader(4, voters), 1u);
  EXPECT_EQ(PreferredLeader(5, voters), 2u);
  EXPECT_EQ(PreferredLeader(7, voters), 1u);
}

TEST(PreferredLeaderTest, UsesIdOrderNotPosition) {
  // Sparse ids: group g prefers the g-th smallest.
  const std::set<uint64_t> voters = {42, 7, 19};
  EXPECT_EQ(PreferredLeader(1, voters), 7u);
  EXPECT_EQ(PreferredLeader(2, voters), 19u);
  EXPECT_EQ(PreferredLeader(3, voters), 42u);
  EXPECT_EQ(PreferredLeader(2, {5}), 5u);  // one voter leads everything
}

TEST(PreferredLeaderTest, NoVotersOrNoGroupIsZero) {
  EXPECT_EQ(PreferredLeader(1, {}), 0u);
  EXPECT_EQ(PreferredLeader(3, {}), 0u);
  EXPECT_EQ(PreferredLeader(0, {1, 2, 3}), 0u);  // groups are 1..
}

class BalanceDecisionTest : public ::testing::Test {
 protected:
  // Node 1 leads group 2 of voters 1, 2, 3: node 2 is preferred.
  BalanceDecisionTest() {
    s.node_id = 1;
    s.group_id = 2;
    s.role = "leader";
    s.leader_id = 1;
    s.commit_index = 100;
    s.last_index = 105;
    s.peers = {{1, 105, 106, "replicate", false},
               {2, 100, 101, "replicate", false},
               {3, 100, 101, "replicate", false}};
  }
  NodeStats::Peer& Peer(uint64_t id) {
    for (auto& p : s.peers) {
      if (p.id == id) return p;
    }
    ADD_FAILURE() << "no peer " << id;
    return s.peers.front();
  }
  uint64_t Check() { return BalanceDecision(s, streak); }

  NodeStats s;
  uint64_t streak = 0;  // the preferred node caught up at the last check
};

TEST_F(BalanceDecisionTest, CaughtUpPreferredNodeGetsLeadershipAtTheSecondCheck) {
  EXPECT_EQ(Check(), 0u);  // first sight: not yet
  EXPECT_EQ(streak, 2u);
  EXPECT_EQ(Check(), 2u);
  EXPECT_EQ(Check(), 2u);  // still due until leadership moves
}

TEST_F(BalanceDecisionTest, NotALeaderDecidesNothing) {
  streak = 2;  // even with a streak from when it led
  for (const char* role : {"follower", "candidate", "pre-candidate"}) {
    s.role = role;
    EXPECT_EQ(Check(), 0u) << role;
    EXPECT_EQ(streak, 0u) << role;
  }
  // Leading again starts a new streak.
  s.role = "leader";
  EXPECT_EQ(Check(), 0u);
  EXPECT_EQ(Check(), 2u);
}

TEST_F(BalanceDecisionTest, ThePreferredLeaderKeepsLeading) {
  s.node_id = 2;
  s.leader_id = 2;
  EXPECT_EQ(Check(), 0u);
  EXPECT_EQ(Check(), 0u);
  EXPECT_EQ(Check(), 0u);
  EXPECT_EQ(streak, 0u);
}

TEST_F(BalanceDecisionTest, AProbingPreferredNodeResetsTheStreak) {
  EXPECT_EQ(Check(), 0u);  // caught up once
  Peer(2).state = "probe";
  EXPECT_EQ(Check(), 0u);
  EXPECT_EQ(streak, 0u);
  Peer(2).state = "replicate";
  EXPECT_EQ(Check(), 0u);  // needs two in a row again
  EXPECT_EQ(Check(), 2u);
  Peer(2).state = "snapshot";
  EXPECT_EQ(Check(), 0u);
}

TEST_F(BalanceDecisionTest, ALaggingPreferredNodeResetsTheStreak) {
  EXPECT_EQ(Check(), 0u);
  Peer(2).match = 99;  // one committed entry short
  EXPECT_EQ(Check(), 0u);
  EXPECT_EQ(streak, 0u);
  EXPECT_EQ(Check(), 0u);  // lagging twice is still no
  Peer(2).match = 100;     // exactly the commit index is enough
  EXPECT_EQ(Check(), 0u);
  EXPECT_EQ(Check(), 2u);
}

TEST_F(BalanceDecisionTest, APreferredNodeWithNoKnownProgressIsNotCaughtUp) {
  Peer(2).state = "";
  Peer(2).match = 0;
  EXPECT_EQ(Check(), 0u);
  EXPECT_EQ(Check(), 0u);
}

TEST_F(BalanceDecisionTest, LearnersAreNotVoters) {
  // A learner with id 2 sits where the preferred voter would be: voters are {1, 3, 4}, so
  // group 2 prefers node 3, never the learner.
  s.peers = {{1, 105, 106, "replicate", false},
             {2, 105, 106, "replicate", true},
             {3, 100, 101, "replicate", false},
             {4, 100, 101, "replicate", false}};
  EXPECT_EQ(Check(), 0u);
  EXPECT_EQ(Check(), 3u);
  // And group 1 prefers node 1, the leader itself: nothing to do.
  s.group_id = 1;
  streak = 0;
  EXPECT_EQ(Check(), 0u);
  EXPECT_EQ(Check(), 0u);
}

// A streak belongs to one node: when membership changes the preferred node, the new one
// must be caught up at two checks of its own.
TEST_F(BalanceDecisionTest, AStreakIsForgottenWhenThePreferredNodeChanges) {
  EXPECT_EQ(Check(), 0u);  // node 2 caught up once
  EXPECT_EQ(streak, 2u);
  // Node 2 is removed and node 4 joins: voters {1, 3, 4}, group 2 now prefers node 3.
  s.peers = {{1, 105, 106, "replicate", false},
             {3, 100, 101, "replicate", false},
             {4, 100, 101, "replicate", false}};
  EXPECT_EQ(Check(), 0u);  // node 3's first check, not node 2's second
  EXPECT_EQ(streak, 3u);
  EXPECT_EQ(Check(), 3u);
}

TEST_F(BalanceDecisionTest, NoVotersIsNothingToDo) {
  s.peers.clear();
  EXPECT_EQ(Check(), 0u);
  EXPECT_EQ(Check(), 0u);
}

}  // namespace
}  // namespace cmq::cluster
