// Several data groups: this machine is group 2 of 3. Creates of names placed elsewhere are
// refused; a queue subscription whose queue is in another group gets its copies as pending
// pushes (protocol "queue") that the leader delivers, while copies for queues of this group
// are still enqueued in the publish itself.
#include <gtest/gtest.h>

#include "mq/limits.h"
#include "mq/placement.h"
#include "unit/mq/harness.h"
#include "unit/mq/observe.h"

namespace cmq::mq {
namespace {

using testing::Harness;
using testing::ObserveMachine;
using testing::Strings;
using testing::TopicCmd;

constexpr uint32_t kGroups = 3;
constexpr uint32_t kGroup = 2;

class GroupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Placement is pinned (placement_test.cc); these names were picked from it.
    ASSERT_EQ(GroupOfName("topic-a", kGroups), kGroup);
    ASSERT_EQ(GroupOfName("q", kGroups), kGroup);
    ASSERT_EQ(GroupOfName("orders", kGroups), 1u);
    ASSERT_EQ(GroupOfName("payments", kGroups), 3u);
    ASSERT_TRUE(h.CreateTopic("topic-a").status.ok());
    ASSERT_TRUE(h.Create("q").status.ok());
    ASSERT_TRUE(h.Subscribe("topic-a", "local", "queue", "q").status.ok());
    ASSERT_TRUE(h.Subscribe("topic-a", "remote", "queue", "orders").status.ok());
    ASSERT_TRUE(h.Subscribe("topic-a", "web", "http", "http://x/").status.ok());
  }
  std::vector<PendingPush> Due(int64_t now_ms) const { return h.sm.DuePushes(now_ms, 100, 1000); }
  std::vector<PendingPush> DueFor(const std::string& subscription) const {
    std::vector<PendingPush> out;
    for (PendingPush& p : Due(h.now_ms)) {
      if (p.subscription_name == subscription) out.push_back(std::move(p));
    }
    return out;
  }

  Harness h{kGroup, kGroups};
};

TEST_F(GroupsTest, MisroutedCreatesAreRefused) {
  EXPECT_EQ(h.sm.group_count(), kGroups);
  ApplyResult r = h.Create("ORDERS");
  EXPECT_EQ(r.status.code(), ErrorCode::kInternal);
  EXPECT_EQ(r.status.message(),
            "queue 'ORDERS' belongs to data group 1, not 2 (misrouted request)");
  r = h.CreateTopic("payments");
  EXPECT_EQ(r.status.code(), ErrorCode::kInternal);
  EXPECT_EQ(r.status.message(),
            "topic 'payments' belongs to data group 3, not 2 (misrouted request)");
  EXPECT_FALSE(h.sm.QueueExists("orders"));
  EXPECT_EQ(h.sm.ListTopics("", 0, 10).total_count, 1u);
  // A bad name is still a bad name first.
  EXPECT_EQ(h.Create("9bad").status.code(), ErrorCode::kInvalidArgument);
}

TEST_F(GroupsTest, SubscribingChecksOnlyQueuesOfThisGroup) {
  EXPECT_FALSE(h.sm.QueueExists("payments"));
  EXPECT_TRUE(h.Subscribe("topic-a", "remote3", "queue", "payments").status.ok());
  // "a" is placed here and does not exist: refused as with one group.
  ASSERT_EQ(GroupOfName("a", kGroups), kGroup);
  EXPECT_EQ(h.Subscribe("topic-a", "missing", "queue", "a").status.code(),
            ErrorCode::kQueueNotExist);
}

TEST_F(GroupsTest, PublishPushesRemoteCopiesAndFeedsLocalQueuesAtOnce) {
  int64_t published_ms = h.now_ms;
  ApplyResult r = h.Publish("topic-a", Strings({"a", "b"}), {"x"});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.queues_fed, Strings({"q"}));
  EXPECT_EQ(h.Info("q").active_msg_num, 2u);
  EXPECT_EQ(h.SubInfo("topic-a", "local").msg_count, 0u);
  EXPECT_EQ(h.SubInfo("topic-a", "remote").msg_count, 2u);
  EXPECT_EQ(h.SubInfo("topic-a", "web").msg_count, 2u);
  EXPECT_EQ(h.sm.GetTopic("topic-a", h.now_ms)->msg_count, 2u);  // distinct messages
  EXPECT_EQ(h.sm.NextPushDueMs(), published_ms);
  std::vector<PendingPush> remote = DueFor("remote");
  ASSERT_EQ(remote.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const PendingPush& p = remote[i];
    EXPECT_EQ(p.protocol, "queue");
    EXPECT_EQ(p.endpoint, "orders");
    EXPECT_EQ(p.topic_name, "topic-a");
    EXPECT_EQ(p.msg_id, r.msg_ids[i]);
    EXPECT_EQ(h.Body(p.body), i == 0 ? "a" : "b");
    EXPECT_EQ(p.msg_tags, Strings({"x"}));
    EXPECT_EQ(p.publish_time_ms, published_ms);
    EXPECT_EQ(p.attempts, 0u);
  }
  std::vector<PendingPush> web = DueFor("web");
  ASSERT_EQ(web.size(), 2u);
  EXPECT_EQ(web[0].protocol, "http");
  EXPECT_TRUE(DueFor("local").empty());
}

TEST_F(GroupsTest, PushResultsDeliverRetryAndGiveUp) {
  h.Apply(TopicCmd(CommandType::kUnsubscribe, "topic-a", "web"));
  ApplyResult r = h.Publish("topic-a", Strings({"a", "b", "c"}));
  int64_t retry_ms = h.now_ms + 5'000;
  h.PushResults(
      "topic-a", "remote",
      {{r.msg_ids[0], true, 0}, {r.msg_ids[1], false, retry_ms}, {r.msg_ids[2], false, 0}});
  SubscriptionInfo info = h.SubInfo("topic-a", "remote");
  EXPECT_EQ(info.msg_count, 1u);
  EXPECT_EQ(info.dropped_msg_count, 1u);
  EXPECT_EQ(h.sm.GetTopic("topic-a", h.now_ms)->msg_count, 1u);
  EXPECT_TRUE(Due(h.now_ms).empty());
  EXPECT_EQ(h.sm.NextPushDueMs(), retry_ms);
  std::vector<PendingPush> due = Due(retry_ms);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].msg_id, r.msg_ids[1]);
  EXPECT_EQ(due[0].attempts, 1u);
  h.now_ms = retry_ms;
  h.PushResults("topic-a", "remote", {{r.msg_ids[1], true, 0}});
  EXPECT_EQ(h.SubInfo("topic-a", "remote").msg_count, 0u);
  EXPECT_EQ(h.sm.GetTopic("topic-a", h.now_ms)->msg_count, 0u);
  EXPECT_EQ(h.sm.NextPushDueMs(), std::nullopt);
  // Only the copies in "q" still need the log.
  EXPECT_EQ(h.Info("q").active_msg_num, 3u);
}

TEST_F(GroupsTest, UnsubscribeAndRetentionDropPendingCopies) {
  h.Apply(TopicCmd(CommandType::kUnsubscribe, "topic-a", "web"));
  h.Publish("topic-a", Strings({"a"}));
  ASSERT_TRUE(h.Apply(TopicCmd(CommandType::kUnsubscribe, "topic-a", "remote")).status.ok());
  EXPECT_EQ(h.sm.GetTopic("topic-a", h.now_ms)->msg_count, 0u);
  EXPECT_EQ(h.sm.NextPushDueMs(), std::nullopt);

  h.Subscribe("topic-a", "remote", "queue", "orders");
  h.Publish("topic-a", Strings({"b"}));
  h.now_ms += kTopicMsgRetentionSeconds * 1000;
  h.Housekeeping();
  EXPECT_EQ(h.SubInfo("topic-a", "remote").msg_count, 0u);
  EXPECT_EQ(h.SubInfo("topic-a", "remote").dropped_msg_count, 1u);
  EXPECT_EQ(h.sm.GetTopic("topic-a", h.now_ms)->msg_count, 0u);
}

TEST_F(GroupsTest, PendingCopiesHoldBackLogTruncation) {
  h.Apply(TopicCmd(CommandType::kUnsubscribe, "topic-a", "web"));
  h.Apply(TopicCmd(CommandType::kUnsubscribe, "topic-a", "local"));
  ApplyResult r = h.Publish("topic-a", Strings({"a"}));
  uint64_t publish_index = h.index;
  h.Housekeeping();
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), publish_index);
  h.PushResults("topic-a", "remote", {{r.msg_ids[0], true, 0}});
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), h.index + 1);
}

TEST_F(GroupsTest, SnapshotKeepsPendingCopies) {
  ApplyResult r = h.Publish("topic-a", Strings({"a", "b"}), {}, "");
  h.PushResults("topic-a", "remote", {{r.msg_ids[0], false, h.now_ms + 7'000}});
  std::string snapshot = h.sm.Snapshot();
  Result<std::unique_ptr<StateMachine>> restored = StateMachine::Restore(snapshot, kGroups);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->group_count(), kGroups);
  EXPECT_EQ((*restored)->Snapshot(), snapshot);
  for (int64_t later_ms : {0, 7'000}) {
    EXPECT_EQ(ObserveMachine(**restored, h.now_ms + later_ms),
              ObserveMachine(h.sm, h.now_ms + later_ms));
  }
  EXPECT_EQ((*restored)->GetSubscription("topic-a", "remote", 0)->msg_count, 2u);
  // The restored machine goes on as the original: placement included.
  h.followers = {restored->get()};
  h.Create("orders");
  EXPECT_EQ(h.follower_results.at(0).status.code(), ErrorCode::kInternal);
  h.Publish("topic-a", Strings({"c"}));
  EXPECT_EQ((*restored)->Snapshot(), h.sm.Snapshot());
}

TEST_F(GroupsTest, RestoreRefusesASnapshotOfAnotherShape) {
  h.Publish("topic-a", Strings({"a"}));
  std::string snapshot = h.sm.Snapshot();
  // With one group "orders" would be a queue of this group: its copies could not be pushes.
  Result<std::unique_ptr<StateMachine>> one = StateMachine::Restore(snapshot);
  EXPECT_EQ(one.status().code(), ErrorCode::kCorruption);
  // With two groups, "q" is placed on group 1.
  ASSERT_EQ(GroupOfName("q", 2), 1u);
  EXPECT_EQ(StateMachine::Restore(snapshot, 2).status().code(), ErrorCode::kCorruption);
  // Group 7 is not a data group of 3.
  Harness seven;
  EXPECT_EQ(StateMachine::Restore(seven.sm.Snapshot(), kGroups).status().code(),
            ErrorCode::kCorruption);
  EXPECT_TRUE(StateMachine::Restore(seven.sm.Snapshot()).ok());
}

TEST(OneGroupTest, QueueSubscriptionsNeedTheirQueueAndNeverPush) {
  Harness h;  // group 7 of 1: holds every name
  EXPECT_EQ(h.sm.group_count(), 1u);
  h.CreateTopic("topic-a");
  ASSERT_TRUE(h.Create("orders").status.ok());
  EXPECT_EQ(h.Subscribe("topic-a", "s", "queue", "payments").status.code(),
            ErrorCode::kQueueNotExist);
  ASSERT_TRUE(h.Subscribe("topic-a", "s", "queue", "orders").status.ok());
  ApplyResult r = h.Publish("topic-a", Strings({"a"}));
  EXPECT_EQ(r.queues_fed, Strings({"orders"}));
  EXPECT_EQ(h.sm.NextPushDueMs(), std::nullopt);
  EXPECT_EQ(h.sm.GetTopic("topic-a", h.now_ms)->msg_count, 0u);
}

}  // namespace
}  // namespace cmq::mq
