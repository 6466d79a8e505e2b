#include <gtest/gtest.h>

#include "unit/mq/harness.h"

namespace cmq::mq {
namespace {

using testing::Harness;
using testing::kStartMs;
using testing::Strings;

struct Counts {
  uint64_t active, inactive, delayed, rewind;
  bool operator==(const Counts&) const = default;
};

Counts CountsAt(const Harness& h, int64_t now_ms) {
  QueueInfo i = *h.sm.GetQueue("q", now_ms);
  return Counts{i.active_msg_num, i.inactive_msg_num, i.delay_msg_num, i.rewind_msg_num};
}

TEST(CountersTest, CountersBetweenEvents) {
  Harness h;
  ASSERT_TRUE(h.Create("q").status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"a", "b"})).status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"d"}), 10).status.ok());
  ASSERT_TRUE(h.Receive("q", 1, 20).status.ok());  // a in flight until +20 s
  EXPECT_EQ(CountsAt(h, kStartMs), (Counts{1, 1, 1, 0}));
  EXPECT_EQ(CountsAt(h, kStartMs + 9'999), (Counts{1, 1, 1, 0}));
  EXPECT_EQ(CountsAt(h, kStartMs + 10'000), (Counts{2, 1, 0, 0}));
  EXPECT_EQ(CountsAt(h, kStartMs + 19'999), (Counts{2, 1, 0, 0}));
  EXPECT_EQ(CountsAt(h, kStartMs + 20'000), (Counts{3, 0, 0, 0}));
}

TEST(CountersTest, ReadsDoNotChangeState) {
  Harness h;
  ASSERT_TRUE(h.Create("q").status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"a"}), 5).status.ok());
  // A read far in the future, then one at the present: the present is unchanged.
  EXPECT_EQ(CountsAt(h, kStartMs + 10'000'000'000), (Counts{0, 0, 0, 0}));
  EXPECT_TRUE(h.sm.HasVisibleMessage("q", kStartMs + 5'000));
  EXPECT_EQ(CountsAt(h, kStartMs), (Counts{0, 0, 1, 0}));
  EXPECT_FALSE(h.sm.HasVisibleMessage("q", kStartMs));
  EXPECT_EQ(h.sm.message_count(), 1u);
}

TEST(CountersTest, ReadsBeforeTheLastAppliedTimeAreAnsweredAtIt) {
  Harness h;
  ASSERT_TRUE(h.Create("q").status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  h.now_ms += 1'000;
  ASSERT_TRUE(h.Receive("q", 1, 1).status.ok());
  EXPECT_EQ(CountsAt(h, 0), (Counts{0, 1, 0, 0}));
  EXPECT_EQ(h.sm.last_applied_time_ms(), kStartMs + 1'000);
}

TEST(CountersTest, MinMsgTimeIsTheOldestUndeletedEnqueueSecond) {
  Harness h;
  ASSERT_TRUE(h.Create("q").status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  h.now_ms += 7'000;
  ASSERT_TRUE(h.Send("q", Strings({"b"})).status.ok());
  EXPECT_EQ(h.Info("q").min_msg_time_s, kStartMs / 1000);
  ASSERT_TRUE(h.Delete("q", {h.Receive("q").messages.at(0).receipt_handle}).status.ok());
  EXPECT_EQ(h.Info("q").min_msg_time_s, kStartMs / 1000 + 7);
}

TEST(LongPollHelpersTest, NextDueIsTheEarliestHiddenDeadline) {
  Harness h;
  ASSERT_TRUE(h.Create("q").status.ok());
  EXPECT_FALSE(h.sm.NextDueMs("q").has_value());
  ASSERT_TRUE(h.Send("q", Strings({"d"}), 100).status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  EXPECT_EQ(h.sm.NextDueMs("q"), kStartMs + 100'000);
  ApplyResult got = h.Receive("q", 1, 5);
  EXPECT_EQ(h.sm.NextDueMs("q"), kStartMs + 5'000);
  ASSERT_TRUE(h.Delete("q", {got.messages.at(0).receipt_handle}).status.ok());
  EXPECT_EQ(h.sm.NextDueMs("q"), kStartMs + 100'000);  // the stale deadline is skipped
}

TEST(LongPollHelpersTest, HasVisibleMessageMatchesWhatAReceiveFinds) {
  Harness h;
  ASSERT_TRUE(h.Create("q").status.ok());
  EXPECT_FALSE(h.sm.HasVisibleMessage("q", h.now_ms));
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  EXPECT_TRUE(h.sm.HasVisibleMessage("q", h.now_ms));
  ApplyResult got = h.Receive("q", 1, 3);
  EXPECT_FALSE(h.sm.HasVisibleMessage("q", h.now_ms));
  EXPECT_FALSE(h.sm.HasVisibleMessage("q", h.now_ms + 2'999));
  EXPECT_TRUE(h.sm.HasVisibleMessage("q", h.now_ms + 3'000));
  ASSERT_TRUE(h.Delete("q", {got.messages.at(0).receipt_handle}).status.ok());
  EXPECT_FALSE(h.sm.HasVisibleMessage("q", h.now_ms + 3'000));
}

TEST(LongPollHelpersTest, ExpiredHeadDoesNotHideYoungerVisibleMessages) {
  Harness h;
  QueueAttributeUpdate u;
  u.msg_retention_seconds = 60;
  ASSERT_TRUE(h.Create("q", u).status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"old"})).status.ok());
  h.now_ms += 59'000;
  ASSERT_TRUE(h.Send("q", Strings({"young"})).status.ok());
  EXPECT_TRUE(h.sm.HasVisibleMessage("q", kStartMs + 60'000));    // old expired, young not
  EXPECT_FALSE(h.sm.HasVisibleMessage("q", kStartMs + 119'000));  // both expired
}

TEST(LongPollHelpersTest, ExpiredDueTimerIsNotVisible) {
  Harness h;
  QueueAttributeUpdate u;
  u.msg_retention_seconds = 60;
  ASSERT_TRUE(h.Create("q", u).status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"a"}), 30).status.ok());
  EXPECT_TRUE(h.sm.HasVisibleMessage("q", kStartMs + 59'999));
  EXPECT_FALSE(h.sm.HasVisibleMessage("q", kStartMs + 60'000));
}

}  // namespace
}  // namespace cmq::mq
