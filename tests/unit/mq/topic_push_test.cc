// The replicated state of HTTP pushes: pending per subscription, due, delivered, retried,
// given up, expired, and results that raced with an unsubscribe.
#include <gtest/gtest.h>

#include "mq/limits.h"
#include "unit/mq/harness.h"

namespace cmq::mq {
namespace {

using testing::Harness;
using testing::Strings;
using testing::TopicCmd;

class PushTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h.CreateTopic("t");
    ASSERT_TRUE(h.Subscribe("t", "web", "http", "https://example.com/hook").status.ok());
    h.Create("q");
    ASSERT_TRUE(h.Subscribe("t", "inbox", "queue", "q").status.ok());
  }
  std::vector<PendingPush> Due(size_t per_subscription = 100, size_t total = 1000) const {
    return h.sm.DuePushes(h.now_ms, per_subscription, total);
  }
  uint64_t Pending() const { return h.SubInfo("t", "web").msg_count; }

  Harness h;
};

TEST_F(PushTest, APublishIsDueAtOnceWithEverythingFilledIn) {
  int64_t published_ms = h.now_ms;
  ApplyResult r = h.Publish("t", Strings({"a", "b"}), {"x", "y"});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.queues_fed, Strings({"q"}));
  EXPECT_EQ(Pending(), 2u);
  EXPECT_EQ(h.SubInfo("t", "inbox").msg_count, 0u);  // queue subscriptions hold nothing
  EXPECT_EQ(h.sm.GetTopic("t", h.now_ms)->msg_count, 2u);
  EXPECT_EQ(h.sm.NextPushDueMs(), published_ms);
  std::vector<PendingPush> due = Due();
  ASSERT_EQ(due.size(), 2u);
  const PendingPush& p = due[0];
  EXPECT_EQ(p.topic_name, "t");
  EXPECT_EQ(p.subscription_name, "web");
  EXPECT_EQ(p.endpoint, "https://example.com/hook");
  EXPECT_EQ(p.notify_content_format, "JSON");
  EXPECT_EQ(p.notify_strategy, "EXPONENTIAL_DECAY_RETRY");
  EXPECT_EQ(p.msg_id, r.msg_ids[0]);
  EXPECT_EQ(h.Body(p.body), "a");
  EXPECT_EQ(p.msg_tags, Strings({"x", "y"}));
  EXPECT_EQ(p.publish_time_ms, published_ms);
  EXPECT_EQ(p.attempts, 0u);
  EXPECT_EQ(due[1].msg_id, r.msg_ids[1]);  // oldest first
  EXPECT_EQ(h.Body(due[1].body), "b");
}

TEST_F(PushTest, DeliveredRemovesAndTheTopicCountsDistinctMessages) {
  ApplyResult r = h.Publish("t", Strings({"a"}));
  uint64_t first_publish_index = h.index;
  h.Subscribe("t", "web2", "http", "http://other/");
  ApplyResult r2 = h.Publish("t", Strings({"b"}));
  EXPECT_EQ(h.sm.GetTopic("t", h.now_ms)->msg_count, 2u);
  EXPECT_EQ(Due().size(), 3u);
  h.PushResults("t", "web", {{r.msg_ids[0], true, 0}});
  EXPECT_EQ(Pending(), 1u);
  EXPECT_EQ(h.sm.GetTopic("t", h.now_ms)->msg_count, 1u);  // "b" still waits for both
  h.PushResults("t", "web", {{r2.msg_ids[0], true, 0}});
  EXPECT_EQ(h.sm.GetTopic("t", h.now_ms)->msg_count, 1u);
  h.PushResults("t", "web2", {{r2.msg_ids[0], true, 0}});
  EXPECT_EQ(h.sm.GetTopic("t", h.now_ms)->msg_count, 0u);
  EXPECT_TRUE(Due().empty());
  EXPECT_EQ(h.sm.NextPushDueMs(), std::nullopt);
  // Only the copies in queue "q" still need the log.
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), first_publish_index);
}

TEST_F(PushTest, AFailureReschedulesAndCountsTheAttempt) {
  ApplyResult r = h.Publish("t", Strings({"a", "b"}));
  int64_t retry_ms = h.now_ms + 1000;
  h.PushResults("t", "web", {{r.msg_ids[0], false, retry_ms}});
  std::vector<PendingPush> due = Due();
  ASSERT_EQ(due.size(), 1u);  // "a" waits for its retry
  EXPECT_EQ(due[0].msg_id, r.msg_ids[1]);
  EXPECT_EQ(h.sm.NextPushDueMs(), h.now_ms);
  h.PushResults("t", "web", {{r.msg_ids[1], true, 0}});
  EXPECT_EQ(h.sm.NextPushDueMs(), retry_ms);
  h.now_ms = retry_ms;
  due = Due();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].msg_id, r.msg_ids[0]);
  EXPECT_EQ(due[0].attempts, 1u);
  EXPECT_EQ(Pending(), 1u);
}

TEST_F(PushTest, GivingUpDropsAndCounts) {
  ApplyResult r = h.Publish("t", Strings({"a"}));
  h.PushResults("t", "web", {{r.msg_ids[0], false, 0}});
  EXPECT_EQ(Pending(), 0u);
  EXPECT_EQ(h.SubInfo("t", "web").dropped_msg_count, 1u);
  EXPECT_EQ(h.sm.GetTopic("t", h.now_ms)->msg_count, 0u);
}

TEST_F(PushTest, DuePushesKeepsToItsLimitsOldestFirst) {
  h.Subscribe("t", "web2", "http", "http://other/");
  ApplyResult r = h.Publish("t", std::vector<std::string>(5, "m"));
  std::vector<PendingPush> due = Due(2);
  ASSERT_EQ(due.size(), 4u);  // two per subscription
  EXPECT_EQ(due[0].msg_id, r.msg_ids[0]);
  EXPECT_EQ(due[1].msg_id, r.msg_ids[1]);
  EXPECT_EQ(due[2].subscription_name, "web2");
  EXPECT_EQ(Due(100, 3).size(), 3u);
  EXPECT_TRUE(h.sm.DuePushes(h.now_ms - 1, 100, 100).empty());  // not yet due
}

TEST_F(PushTest, UnknownResultsAndResultsAfterUnsubscribeAreIgnored) {
  ApplyResult r = h.Publish("t", Strings({"a"}));
  uint64_t id = r.msg_ids[0];
  uint64_t other_group_id = (id & ((uint64_t{1} << 48) - 1)) | (uint64_t{8} << 48);
  for (PushResult bad : {PushResult{id + 100, true, 0}, PushResult{other_group_id, true, 0}}) {
    EXPECT_TRUE(h.PushResults("t", "web", {bad}).status.ok());
  }
  EXPECT_TRUE(h.PushResults("t", "nope", {{id, true, 0}}).status.ok());
  EXPECT_TRUE(h.PushResults("nope", "web", {{id, true, 0}}).status.ok());
  EXPECT_TRUE(h.PushResults("t", "inbox", {{id, true, 0}}).status.ok());
  EXPECT_EQ(Pending(), 1u);
  // Unsubscribe mid-push: the pending push goes with the subscription, the late result is
  // dropped, and a new subscription of the same name does not inherit anything.
  ASSERT_TRUE(h.Apply(TopicCmd(CommandType::kUnsubscribe, "t", "web")).status.ok());
  EXPECT_EQ(h.sm.GetTopic("t", h.now_ms)->msg_count, 0u);
  h.Subscribe("t", "web", "http", "http://x/");
  EXPECT_TRUE(h.PushResults("t", "web", {{id, false, h.now_ms + 5}}).status.ok());
  EXPECT_EQ(Pending(), 0u);
  EXPECT_TRUE(Due().empty());
}

TEST_F(PushTest, RetentionDropsPendingPushesAtHousekeeping) {
  ApplyResult old = h.Publish("t", Strings({"old"}));
  h.now_ms += 1000;
  ApplyResult fresh = h.Publish("t", Strings({"new"}));
  h.now_ms = h.now_ms - 1000 + kTopicMsgRetentionSeconds * 1000 - 1;
  h.Housekeeping();
  EXPECT_EQ(Pending(), 2u);
  h.now_ms += 1;
  h.Housekeeping();
  EXPECT_EQ(Pending(), 1u);
  EXPECT_EQ(h.SubInfo("t", "web").dropped_msg_count, 1u);
  std::vector<PendingPush> due = Due();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].msg_id, fresh.msg_ids[0]);
  EXPECT_EQ(h.sm.GetTopic("t", h.now_ms)->msg_count, 1u);
  (void)old;
}

TEST_F(PushTest, RetentionIsAlsoAppliedByCommandsOnTheTopic) {
  h.Publish("t", Strings({"old"}));
  h.now_ms += kTopicMsgRetentionSeconds * 1000;
  h.PushResults("t", "web", {});
  EXPECT_EQ(Pending(), 0u);
}

TEST_F(PushTest, PendingPushHoldsBackLogTruncation) {
  h.Apply(TopicCmd(CommandType::kUnsubscribe, "t", "inbox"));
  uint64_t before = h.index;
  ApplyResult r = h.Publish("t", Strings({"a"}));
  uint64_t publish_index = h.index;
  ASSERT_GT(publish_index, before);
  h.Publish("t", Strings({"b"}));
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), publish_index);
  h.PushResults("t", "web", {{r.msg_ids[0], true, 0}});
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), publish_index + 1);
}

TEST_F(PushTest, QueueCopiesHoldBackLogTruncationAsQueueMessages) {
  h.Apply(TopicCmd(CommandType::kUnsubscribe, "t", "web"));
  h.Publish("t", Strings({"a"}));
  uint64_t publish_index = h.index;
  h.Housekeeping();
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), publish_index);
  ApplyResult got = h.Receive("q");
  h.Delete("q", {got.messages.at(0).receipt_handle});
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), h.index + 1);
}

}  // namespace
}  // namespace cmq::mq
