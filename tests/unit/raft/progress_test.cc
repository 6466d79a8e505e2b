#include "raft/progress.h"

#include <gtest/gtest.h>

namespace cmq::raft {
namespace {

TEST(Progress, ProbeSendsOneAtATime) {
  Progress pr(5, 4, false);
  EXPECT_EQ(pr.state(), ProgressState::kProbe);
  EXPECT_FALSE(pr.IsPaused());
  pr.SentEntries(2, 10, 6);
  EXPECT_TRUE(pr.IsPaused());
  EXPECT_EQ(pr.next(), 5u);  // probing does not move next optimistically
  pr.Unpause();              // a heartbeat response arrived
  EXPECT_FALSE(pr.IsPaused());
}

TEST(Progress, ProbeToReplicateOnAck) {
  Progress pr(5, 4, false);
  EXPECT_TRUE(pr.MaybeUpdate(6));
  pr.BecomeReplicate();
  EXPECT_EQ(pr.match(), 6u);
  EXPECT_EQ(pr.next(), 7u);
  EXPECT_FALSE(pr.MaybeUpdate(6));  // nothing new
  EXPECT_FALSE(pr.MaybeUpdate(3));  // stale
}

TEST(Progress, ReplicatePipelinesUpToTheWindow) {
  Progress pr(1, 2, false);
  pr.BecomeReplicate();
  pr.SentEntries(1, 5, 1);
  EXPECT_EQ(pr.next(), 2u);
  EXPECT_FALSE(pr.IsPaused());
  pr.SentEntries(3, 5, 4);
  EXPECT_EQ(pr.next(), 5u);
  EXPECT_TRUE(pr.IsPaused());  // window of 2 is full
  pr.MaybeUpdate(1);
  pr.FreeInflightsUpTo(1);
  EXPECT_FALSE(pr.IsPaused());
  EXPECT_EQ(pr.inflights().Count(), 1u);
}

TEST(Progress, RejectInReplicateFallsBackToMatch) {
  Progress pr(1, 8, false);
  pr.MaybeUpdate(3);
  pr.BecomeReplicate();
  pr.SentEntries(2, 0, 5);
  EXPECT_FALSE(pr.MaybeDecrTo(2, 0));  // stale: at or below match
  EXPECT_TRUE(pr.MaybeDecrTo(5, 0));
  EXPECT_EQ(pr.next(), 4u);
}

TEST(Progress, RejectInProbeUsesTheHint) {
  Progress pr(10, 8, false);
  EXPECT_FALSE(pr.MaybeDecrTo(5, 2));  // not the index we probed (next - 1 == 9)
  EXPECT_TRUE(pr.MaybeDecrTo(9, 2));
  EXPECT_EQ(pr.next(), 3u);  // hint + 1
  EXPECT_TRUE(pr.MaybeDecrTo(2, 7));
  EXPECT_EQ(pr.next(), 2u);  // never above the rejected index
}

TEST(Progress, SnapshotStateIsPausedAndProbesPastTheSnapshot) {
  Progress pr(3, 8, false);
  pr.BecomeSnapshot(20);
  EXPECT_TRUE(pr.IsPaused());
  EXPECT_EQ(pr.pending_snapshot(), 20u);
  pr.BecomeProbe();
  EXPECT_EQ(pr.next(), 21u);
  EXPECT_FALSE(pr.IsPaused());
}

TEST(Progress, CommitBumpTracking) {
  Progress pr(3, 8, false);
  EXPECT_TRUE(pr.CanBumpCommit(1));
  pr.SentCommit(5);
  EXPECT_FALSE(pr.CanBumpCommit(5));
  EXPECT_TRUE(pr.CanBumpCommit(6));
}

TEST(Inflights, FreesInOrderAndTracksBytes) {
  Inflights in(3);
  in.Add(2, 10);
  in.Add(4, 20);
  in.Add(9, 30);
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(in.Bytes(), 60u);
  in.FreeLE(4);
  EXPECT_EQ(in.Count(), 1u);
  EXPECT_EQ(in.Bytes(), 30u);
  in.FreeFirstOne();
  EXPECT_EQ(in.Count(), 0u);
}

}  // namespace
}  // namespace cmq::raft
