#include <gtest/gtest.h>

#include "mq/limits.h"
#include "unit/mq/harness.h"

namespace cmq::mq {
namespace {

using testing::Harness;
using testing::kStartMs;
using testing::Strings;

class RewindTest : public ::testing::Test {
 protected:
  void SetUp() override {
    QueueAttributeUpdate u;
    u.rewind_seconds = 600;
    ASSERT_TRUE(h.Create("q", u).status.ok());
  }
  // Receives n and deletes them all.
  void Consume(uint32_t n) {
    while (n > 0) {
      uint32_t batch = std::min<uint32_t>(n, kMaxBatch);
      ApplyResult got = h.Receive("q", batch);
      ASSERT_EQ(got.messages.size(), batch);
      std::vector<uint64_t> handles;
      for (const ReceivedMessage& m : got.messages) handles.push_back(m.receipt_handle);
      ASSERT_TRUE(h.Delete("q", handles).status.ok());
      n -= batch;
    }
  }
  Harness h;
};

TEST(RewindDisabledTest, RewindOnQueueWithoutRewindSecondsIsRefused) {
  Harness h;
  ASSERT_TRUE(h.Create("q").status.ok());
  EXPECT_EQ(h.Rewind("q", kStartMs / 1000).status.code(), ErrorCode::kRewindDisabled);
}

TEST(RewindDisabledTest, DeletedMessagesAreNotRetainedWithoutRewind) {
  Harness h;
  ASSERT_TRUE(h.Create("q").status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  ASSERT_TRUE(h.Delete("q", {h.Receive("q").messages.at(0).receipt_handle}).status.ok());
  EXPECT_EQ(h.Info("q").rewind_msg_num, 0u);
  EXPECT_EQ(h.sm.message_count(), 0u);
}

TEST_F(RewindTest, DeletedMessagesAreRetainedAndCounted) {
  ASSERT_TRUE(h.Send("q", Strings({"a", "b", "c"})).status.ok());
  Consume(2);
  QueueInfo info = h.Info("q");
  EXPECT_EQ(info.rewind_msg_num, 2u);
  EXPECT_EQ(info.active_msg_num, 1u);
  EXPECT_EQ(h.sm.message_count(), 3u);
  EXPECT_EQ(h.Bodies(h.Receive("q", 16)), Strings({"c"}));
}

TEST_F(RewindTest, RewindRedeliversInProductionOrder) {
  ASSERT_TRUE(h.Send("q", Strings({"1", "2"})).status.ok());
  h.now_ms += 10'000;
  ASSERT_TRUE(h.Send("q", Strings({"3", "4"})).status.ok());
  Consume(4);
  ASSERT_TRUE(h.Rewind("q", kStartMs / 1000 + 10).status.ok());
  EXPECT_EQ(h.Info("q").rewind_msg_num, 2u);
  ApplyResult again = h.Receive("q", 16);
  EXPECT_EQ(h.Bodies(again), Strings({"3", "4"}));
  EXPECT_EQ(again.messages[0].dequeue_count, 2u);  // keeps counting
  EXPECT_EQ(again.messages[0].first_dequeue_time_ms, kStartMs + 10'000);
  ASSERT_TRUE(h.Rewind("q", kStartMs / 1000).status.ok());
  EXPECT_EQ(h.Bodies(h.Receive("q", 16)), Strings({"1", "2"}));  // 3, 4 are in flight
}

TEST_F(RewindTest, RewoundMessagesInterleaveWithNewOnesById) {
  ASSERT_TRUE(h.Send("q", Strings({"old"})).status.ok());
  Consume(1);
  ASSERT_TRUE(h.Send("q", Strings({"new"})).status.ok());
  ASSERT_TRUE(h.Rewind("q", 0).status.ok());
  EXPECT_EQ(h.Bodies(h.Receive("q", 16)), Strings({"old", "new"}));
}

TEST_F(RewindTest, InFlightMessagesKeepTheirVisibility) {
  ASSERT_TRUE(h.Send("q", Strings({"a", "b"})).status.ok());
  Consume(1);
  ApplyResult b = h.Receive("q");
  ASSERT_TRUE(h.Rewind("q", 0).status.ok());
  EXPECT_EQ(h.Bodies(h.Receive("q", 16)), Strings({"a"}));
  EXPECT_TRUE(h.Delete("q", {b.messages.at(0).receipt_handle}).status.ok());  // still valid
}

TEST_F(RewindTest, StartBeforeTheWindowIsClamped) {
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  h.now_ms += 300'000;
  ASSERT_TRUE(h.Send("q", Strings({"b"})).status.ok());
  Consume(2);
  h.now_ms += 300'001;  // "a" (enqueued 600.001 s ago) left the window
  EXPECT_EQ(h.Info("q").rewind_msg_num, 1u);
  ASSERT_TRUE(h.Rewind("q", 0).status.ok());
  EXPECT_EQ(h.Bodies(h.Receive("q", 16)), Strings({"b"}));
  EXPECT_EQ(h.sm.message_count(), 1u);
}

TEST_F(RewindTest, StartInTheFutureRewindsNothing) {
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  Consume(1);
  ASSERT_TRUE(h.Rewind("q", kStartMs / 1000 + 1).status.ok());
  EXPECT_EQ(h.Receive("q").status.code(), ErrorCode::kNoMessage);
  EXPECT_EQ(h.Info("q").rewind_msg_num, 1u);
  ASSERT_TRUE(h.Rewind("q", INT64_MIN).status.ok());  // extreme values are safe
  ASSERT_TRUE(h.Rewind("q", INT64_MAX).status.ok());
}

TEST_F(RewindTest, TurningRewindOffDropsRetainedMessages) {
  ASSERT_TRUE(h.Send("q", Strings({"a", "b"})).status.ok());
  Consume(2);
  QueueAttributeUpdate off;
  off.rewind_seconds = 0;
  ASSERT_TRUE(h.SetAttributes("q", off).status.ok());
  EXPECT_EQ(h.Info("q").rewind_msg_num, 0u);
  EXPECT_EQ(h.sm.message_count(), 0u);
  EXPECT_EQ(h.Rewind("q", 0).status.code(), ErrorCode::kRewindDisabled);
}

TEST_F(RewindTest, RetainedMessagesLeaveTheWindowLazilyAndOnHousekeeping) {
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  Consume(1);
  h.now_ms += 599'999;
  EXPECT_EQ(h.Info("q").rewind_msg_num, 1u);
  h.now_ms += 2;
  EXPECT_EQ(h.Info("q").rewind_msg_num, 0u);
  EXPECT_EQ(h.sm.message_count(), 1u);
  ASSERT_TRUE(h.Housekeeping().status.ok());
  EXPECT_EQ(h.sm.message_count(), 0u);
}

TEST_F(RewindTest, CountersAfterRewind) {
  ASSERT_TRUE(h.Send("q", Strings({"a", "b", "c"})).status.ok());
  Consume(3);
  QueueInfo before = h.Info("q");
  EXPECT_EQ(before.min_msg_time_s, 0);  // nothing undeleted
  ASSERT_TRUE(h.Rewind("q", 0).status.ok());
  QueueInfo after = h.Info("q");
  EXPECT_EQ(after.active_msg_num, 3u);
  EXPECT_EQ(after.rewind_msg_num, 0u);
  EXPECT_EQ(after.min_msg_time_s, kStartMs / 1000);
  EXPECT_TRUE(h.sm.HasVisibleMessage("q", h.now_ms));
}

TEST_F(RewindTest, ManyRewindCyclesStayConsistent) {
  for (int round = 0; round < 20; ++round) {
    ASSERT_TRUE(h.Send("q", Strings({"x", "y"})).status.ok());
    Consume(2);
    ASSERT_TRUE(h.Rewind("q", 0).status.ok());
    Consume(static_cast<uint32_t>(2 * (round + 1)));
    h.now_ms += 1'000;
  }
  EXPECT_EQ(h.Info("q").rewind_msg_num, 40u);
  EXPECT_EQ(h.sm.message_count(), 40u);
}

}  // namespace
}  // namespace cmq::mq
