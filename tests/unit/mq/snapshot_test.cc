// Snapshot and Restore of the state machine: a restored machine looks and behaves exactly
// like the one snapshotted; OldestReferencedLogIndex. (Random sequences and corrupt
// snapshots: snapshot_random_test.cc.)
#include <gtest/gtest.h>

#include <memory>

#include "unit/mq/harness.h"
#include "unit/mq/observe.h"

namespace cmq::mq {
namespace {

using testing::Harness;
using testing::ObserveMachine;
using testing::Strings;

std::unique_ptr<StateMachine> RestoreOk(const StateMachine& sm) {
  std::string snapshot = sm.Snapshot();
  Result<std::unique_ptr<StateMachine>> restored = StateMachine::Restore(snapshot);
  EXPECT_TRUE(restored.ok()) << restored.status().ToString();
  if (!restored.ok()) return std::make_unique<StateMachine>(0);
  EXPECT_EQ((*restored)->Snapshot(), snapshot);  // restoring loses and adds nothing
  return std::move(*restored);
}

// Handles kept from building the state of EveryStateFixture.
struct Handles {
  uint64_t in_flight = 0;    // plain: its receive's visibility lasts until +201 s
  uint64_t redelivered = 0;  // plain: its visibility expired (not yet advanced): stale
  uint64_t deleted = 0;      // plain: deleted without rewind
  uint64_t rewound = 0;      // Rewind: from before the rewind: stale
};

// Several queues holding messages in every state: visible, delayed, in flight, expired
// in flight (lazily, not yet advanced), deleted, deleted-retained, rewound, past retention
// (not yet dropped), and a deleted queue.
class EveryStateFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    QueueAttributeUpdate rewind;
    rewind.rewind_seconds = 600;
    rewind.msg_retention_seconds = 3600;
    QueueAttributeUpdate short_retention;
    short_retention.msg_retention_seconds = 60;
    for (const char* name : {"plain", "doomed"}) ASSERT_TRUE(h.Create(name).status.ok());
    ASSERT_TRUE(h.Create("Rewind", rewind).status.ok());
    ASSERT_TRUE(h.Create("short", short_retention).status.ok());
    ASSERT_TRUE(h.Send("doomed", Strings({"x", "y"})).status.ok());

    ASSERT_TRUE(h.Send("plain", Strings({"v1", "v2", "v3", "v4", "v5"})).status.ok());
    ASSERT_TRUE(h.Send("plain", Strings({"d1", "d2"}), 30).status.ok());
    ASSERT_TRUE(h.Send("Rewind", Strings({"r1", "r2", "r3", "r4"})).status.ok());
    ASSERT_TRUE(h.Send("short", Strings({"s1", "s2"})).status.ok());
    h.now_ms += 1'000;
    handles.deleted = h.Receive("plain", 1, 20).messages.at(0).receipt_handle;
    ASSERT_TRUE(h.Delete("plain", {handles.deleted}).status.ok());
    handles.in_flight = h.Receive("plain", 1, 200).messages.at(0).receipt_handle;
    handles.redelivered = h.Receive("plain", 1, 1).messages.at(0).receipt_handle;
    ApplyResult r = h.Receive("Rewind", 3, 100);
    ASSERT_EQ(r.messages.size(), 3u);
    for (const ReceivedMessage& m : r.messages) {
      ASSERT_TRUE(h.Delete("Rewind", {m.receipt_handle}).status.ok());
    }
    handles.rewound = r.messages[0].receipt_handle;
    ASSERT_TRUE(h.Rewind("Rewind", 0).status.ok());
    r = h.Receive("Rewind", 1, 100);  // r1 again, then deleted-retained again
    ASSERT_TRUE(h.Delete("Rewind", {r.messages.at(0).receipt_handle}).status.ok());
    ASSERT_TRUE(h.Receive("Rewind", 1, 100).status.ok());  // r2 in flight, dequeue count 2
    h.now_ms += 30'000;
    ASSERT_TRUE(h.Send("short", Strings({"s3"})).status.ok());
    h.now_ms += 40'000;  // s1, s2 past retention, not yet dropped; "plain" not advanced
    ASSERT_TRUE(h.DeleteQueue("doomed").status.ok());
    ASSERT_TRUE(h.Send("Rewind", Strings({"r5"}), 5).status.ok());
  }

  Harness h;
  Handles handles;
};

TEST(SnapshotTest, EmptyMachineRoundTrips) {
  StateMachine sm(5);
  std::unique_ptr<StateMachine> restored = RestoreOk(sm);
  EXPECT_EQ(ObserveMachine(*restored, 0), ObserveMachine(sm, 0));
  EXPECT_EQ(restored->last_applied_index(), 0u);
  EXPECT_EQ(restored->last_applied_time_ms(), 0);
  EXPECT_EQ(restored->message_count(), 0u);
  EXPECT_EQ(restored->ListQueues("", 0, 10).total_count, 0u);
  EXPECT_EQ(restored->OldestReferencedLogIndex(), 1u);
  // The group id survives: ids minted after the restore carry it.
  Harness h(5);
  h.followers = {restored.get()};
  ASSERT_TRUE(h.Create("q").status.ok());
  ApplyResult sent = h.Send("q", Strings({"a"}));
  ASSERT_EQ(h.follower_results.at(0).msg_ids, sent.msg_ids);
  EXPECT_EQ(sent.msg_ids.at(0) >> 48, 5u);
}

TEST_F(EveryStateFixture, EveryMessageStateLooksTheSameAfterRestore) {
  std::unique_ptr<StateMachine> restored = RestoreOk(h.sm);
  for (int64_t later_ms :
       {0, 500, 1'000, 5'000, 19'000, 21'000, 31'000, 61'000, 600'000, 3'600'000, 5'000'000}) {
    EXPECT_EQ(ObserveMachine(*restored, h.now_ms + later_ms),
              ObserveMachine(h.sm, h.now_ms + later_ms))
        << later_ms;
  }
  EXPECT_EQ(restored->message_count(), h.sm.message_count());
  EXPECT_FALSE(restored->QueueExists("doomed"));
  EXPECT_TRUE(restored->QueueExists("rewind"));
  EXPECT_EQ(restored->ListQueues("R", 0, 10).queues, h.sm.ListQueues("R", 0, 10).queues);
  EXPECT_EQ(restored->ListQueues("", 1, 2).queues, h.sm.ListQueues("", 1, 2).queues);
}

TEST_F(EveryStateFixture, ReceiptHandlesStayValidOrInvalidAcrossRestore) {
  std::unique_ptr<StateMachine> restored = RestoreOk(h.sm);
  h.followers = {restored.get()};
  auto same = [&](const ApplyResult& r) {
    EXPECT_EQ(testing::DescribeResult(h.follower_results.at(0)), testing::DescribeResult(r));
    return r;
  };
  EXPECT_EQ(same(h.Delete("plain", {handles.redelivered, handles.deleted, handles.in_flight}))
                .delete_failures.size(),
            2u);
  EXPECT_EQ(same(h.Delete("Rewind", {handles.rewound})).delete_failures.size(), 1u);
  // The next receives serve the same messages with the same handles, which then work.
  ApplyResult r = same(h.Receive("plain", 16, 10));
  EXPECT_EQ(h.Bodies(r), Strings({"v3", "v4", "v5", "d1", "d2"}));
  EXPECT_TRUE(same(h.Delete("plain", {r.messages[0].receipt_handle})).status.ok());
  EXPECT_TRUE(same(h.Rewind("Rewind", 0)).status.ok());
  r = same(h.Receive("Rewind", 16, 10));
  EXPECT_EQ(h.Bodies(r), Strings({"r1", "r3", "r4"}));  // r2 in flight, r5 not yet due
  h.now_ms += 1'000'000;
  same(h.Housekeeping());
  EXPECT_EQ(ObserveMachine(*restored, h.now_ms), ObserveMachine(h.sm, h.now_ms));
  EXPECT_EQ(restored->Snapshot(), h.sm.Snapshot());
}

TEST_F(EveryStateFixture, IdsKeepCountingAfterRestore) {
  std::unique_ptr<StateMachine> restored = RestoreOk(h.sm);
  h.followers = {restored.get()};
  ApplyResult created = h.Create("doomed");
  EXPECT_EQ(h.follower_results.at(0).queue_id, created.queue_id);
  ApplyResult sent = h.Send("doomed", Strings({"a", "b"}));
  EXPECT_EQ(h.follower_results.at(0).msg_ids, sent.msg_ids);
  EXPECT_EQ(restored->Snapshot(), h.sm.Snapshot());
}

TEST_F(EveryStateFixture, LastAppliedIndexAndTimeAreRestored) {
  std::unique_ptr<StateMachine> restored = RestoreOk(h.sm);
  EXPECT_EQ(restored->last_applied_index(), h.index);
  EXPECT_EQ(restored->last_applied_time_ms(), h.now_ms);
  // Reads at an earlier time are answered at the restored last applied time.
  EXPECT_EQ(ObserveMachine(*restored, 0), ObserveMachine(h.sm, h.now_ms));
}

// Tombstones in the middle of a queue (before and after the queue compacts them away) and
// stale index entries are not state: they are not in the snapshot, and a machine restored
// without them behaves the same.
TEST(SnapshotTest, TombstonesAndCompactionDoNotChangeBehaviour) {
  Harness h;
  h.keep_payloads = false;
  ASSERT_TRUE(h.Create("q").status.ok());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(h.Send("q", std::vector<std::string>(16, "m")).status.ok());
  }
  ASSERT_EQ(h.Receive("q", 1, 3600).messages.size(), 1u);  // stays at the front
  std::vector<uint64_t> handles;
  for (int i = 0; i < 195; ++i) {
    for (const ReceivedMessage& m : h.Receive("q", 16, 3600).messages) {
      handles.push_back(m.receipt_handle);
    }
  }
  std::unique_ptr<StateMachine> copy;
  for (size_t i = 0; i < handles.size(); i += 16) {
    if (i == 16 * 40) {  // 640 tombstones behind the front: not yet compacted
      copy = RestoreOk(h.sm);
      h.followers = {copy.get()};
      EXPECT_LT(copy->Snapshot().size(), 12 * h.sm.message_count());
    }
    std::vector<uint64_t> batch(handles.begin() + static_cast<int64_t>(i),
                                handles.begin() + static_cast<int64_t>(i + 16));
    ApplyResult r = h.Delete("q", batch);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    if (copy != nullptr) {
      ASSERT_TRUE(h.follower_results.at(0).status.ok());
    }
  }
  EXPECT_EQ(copy->Snapshot(), h.sm.Snapshot());
  h.now_ms += 3'600'000;  // the front one and the rest come back
  ApplyResult r = h.Receive("q", 16, 30);
  EXPECT_EQ(testing::DescribeResult(h.follower_results.at(0)), testing::DescribeResult(r));
  EXPECT_EQ(r.messages.size(), 16u);
  EXPECT_EQ(ObserveMachine(*copy, h.now_ms), ObserveMachine(h.sm, h.now_ms));
  EXPECT_EQ(copy->Snapshot(), h.sm.Snapshot());
}

TEST(OldestReferencedLogIndexTest, MovesForwardAsMessagesAreDeleted) {
  Harness h;
  ASSERT_TRUE(h.Create("q").status.ok());  // index 1
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), 2u);
  for (const char* body : {"a", "b", "c"}) {  // indexes 2, 3, 4
    ASSERT_TRUE(h.Send("q", Strings({body})).status.ok());
  }
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), 2u);
  ApplyResult r = h.Receive("q", 2, 30);  // index 5
  ASSERT_TRUE(h.Delete("q", {r.messages[1].receipt_handle}).status.ok());
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), 2u);  // "a" is still in flight
  ASSERT_TRUE(h.Delete("q", {r.messages[0].receipt_handle}).status.ok());
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), 4u);
  r = h.Receive("q");
  ASSERT_TRUE(h.Delete("q", {r.messages[0].receipt_handle}).status.ok());
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), h.index + 1);
  EXPECT_EQ(RestoreOk(h.sm)->OldestReferencedLogIndex(), h.index + 1);
}

TEST(OldestReferencedLogIndexTest, StaysBackWhileRewindRetains) {
  Harness h;
  QueueAttributeUpdate u;
  u.rewind_seconds = 60;
  ASSERT_TRUE(h.Create("q", u).status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"a", "b"})).status.ok());  // index 2
  ApplyResult r = h.Receive("q", 2);
  ASSERT_TRUE(
      h.Delete("q", {r.messages[0].receipt_handle, r.messages[1].receipt_handle}).status.ok());
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), 2u);  // retained for rewind
  EXPECT_EQ(RestoreOk(h.sm)->OldestReferencedLogIndex(), 2u);
  h.now_ms += 59'000;
  ASSERT_TRUE(h.Housekeeping().status.ok());
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), 2u);
  h.now_ms += 2'000;  // out of the rewind window
  ASSERT_TRUE(h.Housekeeping().status.ok());
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), h.index + 1);
}

TEST(OldestReferencedLogIndexTest, IsTheMinimumAcrossQueuesAndFollowsExpiry) {
  Harness h;
  QueueAttributeUpdate u;
  u.msg_retention_seconds = 60;
  ASSERT_TRUE(h.Create("short", u).status.ok());             // index 1
  ASSERT_TRUE(h.Create("long").status.ok());                 // index 2
  ASSERT_TRUE(h.Send("short", Strings({"a"})).status.ok());  // index 3
  ASSERT_TRUE(h.Send("long", Strings({"b"})).status.ok());   // index 4
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), 3u);
  h.now_ms += 60'000;
  ASSERT_TRUE(h.Housekeeping().status.ok());
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), 4u);
  ASSERT_TRUE(h.DeleteQueue("long").status.ok());
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), h.index + 1);
}

}  // namespace
}  // namespace cmq::mq
