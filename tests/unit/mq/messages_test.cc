#include <gtest/gtest.h>

#include "mq/limits.h"
#include "unit/mq/harness.h"

namespace cmq::mq {
namespace {

using testing::Harness;
using testing::Strings;

class MessagesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(h.Create("q").status.ok()); }
  Harness h;
};

TEST_F(MessagesTest, SendReturnsIncreasingIdsInBodyOrder) {
  ApplyResult r = h.Send("q", Strings({"a", "b", "c"}));
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.msg_ids.size(), 3u);
  EXPECT_EQ(r.msg_ids[0], (uint64_t{7} << kMessageSeqBits) | 1);
  EXPECT_EQ(r.msg_ids[1], r.msg_ids[0] + 1);
  EXPECT_EQ(r.msg_ids[2], r.msg_ids[0] + 2);
}

TEST_F(MessagesTest, ReceiveServesFifoAcrossSends) {
  ASSERT_TRUE(h.Send("q", Strings({"1", "2"})).status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"3"})).status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"4", "5"})).status.ok());
  EXPECT_EQ(h.Bodies(h.Receive("q", 3)), Strings({"1", "2", "3"}));
  EXPECT_EQ(h.Bodies(h.Receive("q", 16)), Strings({"4", "5"}));
  EXPECT_EQ(h.Receive("q").status.code(), ErrorCode::kNoMessage);
}

TEST_F(MessagesTest, ReceivedMessageCarriesTimesCountAndLocation) {
  ApplyResult sent = h.Send("q", Strings({"hello"}));
  h.now_ms += 1'500;
  ApplyResult r = h.Receive("q");
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.messages.size(), 1u);
  const ReceivedMessage& m = r.messages[0];
  EXPECT_EQ(m.msg_id, sent.msg_ids[0]);
  EXPECT_EQ(m.enqueue_time_ms, testing::kStartMs);
  EXPECT_EQ(m.first_dequeue_time_ms, testing::kStartMs + 1'500);
  EXPECT_EQ(m.next_visible_time_ms, testing::kStartMs + 1'500 + 30'000);
  EXPECT_EQ(m.dequeue_count, 1u);
  EXPECT_EQ(m.receipt_handle, (uint64_t{1} << kReceiptCountBits) | 1);
  EXPECT_EQ(m.body.log_index, 2u);  // entry 1 created the queue
  EXPECT_EQ(h.Body(m), "hello");
}

TEST_F(MessagesTest, ReceiveOverrideOfVisibilityTimeout) {
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  ApplyResult r = h.Receive("q", 1, 5);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].next_visible_time_ms, h.now_ms + 5'000);
  EXPECT_EQ(h.Receive("q", 1, 0).status.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.Receive("q", 1, kVisibilityTimeoutMax + 1).status.code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(MessagesTest, ReceiveCountOutOfRangeIsRefused) {
  EXPECT_EQ(h.Receive("q", 0).status.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.Receive("q", 17).status.code(), ErrorCode::kInvalidArgument);
}

TEST_F(MessagesTest, SendValidatesBatchBodiesAndDelay) {
  EXPECT_EQ(h.Send("q", {}).status.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.Send("q", std::vector<std::string>(17, "x")).status.code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.Send("q", Strings({"a", ""})).status.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.Send("q", {std::string(kMaxMsgSizeDefault + 1, 'x')}).status.code(),
            ErrorCode::kMessageTooLarge);
  EXPECT_TRUE(h.Send("q", {std::string(kMaxMsgSizeDefault, 'x')}).status.ok());
  EXPECT_EQ(h.Send("q", Strings({"a"}), -1).status.code(), ErrorCode::kDelayOutOfRange);
  EXPECT_EQ(h.Send("q", Strings({"a"}), kDelaySecondsMax + 1).status.code(),
            ErrorCode::kDelayOutOfRange);
  EXPECT_EQ(h.Info("q").active_msg_num, 1u);  // refused batches left nothing behind
}

TEST_F(MessagesTest, BatchTotalOverOneMebibyteIsRefused) {
  QueueAttributeUpdate u;
  u.max_msg_size = kMaxMsgSizeMax;
  ASSERT_TRUE(h.SetAttributes("q", u).status.ok());
  std::vector<std::string> bodies(2, std::string(kMaxBatchBytes / 2, 'x'));
  EXPECT_TRUE(h.Send("q", bodies).status.ok());
  bodies[1].push_back('y');
  EXPECT_EQ(h.Send("q", bodies).status.code(), ErrorCode::kBatchTooLarge);
}

TEST_F(MessagesTest, InFlightMessageIsHiddenFromOtherReceivers) {
  ASSERT_TRUE(h.Send("q", Strings({"a", "b"})).status.ok());
  EXPECT_EQ(h.ReceiveBody("q"), "a");
  EXPECT_EQ(h.ReceiveBody("q"), "b");
  EXPECT_EQ(h.Receive("q").status.code(), ErrorCode::kNoMessage);
}

TEST_F(MessagesTest, VisibilityExpiryRedeliversAndInvalidatesOldHandle) {
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  ApplyResult first = h.Receive("q");
  h.now_ms += 29'999;
  EXPECT_EQ(h.Receive("q").status.code(), ErrorCode::kNoMessage);
  h.now_ms += 1;
  ApplyResult second = h.Receive("q");
  ASSERT_EQ(second.messages.size(), 1u);
  EXPECT_EQ(second.messages[0].msg_id, first.messages[0].msg_id);
  EXPECT_EQ(second.messages[0].dequeue_count, 2u);
  EXPECT_EQ(second.messages[0].first_dequeue_time_ms, testing::kStartMs);
  EXPECT_NE(second.messages[0].receipt_handle, first.messages[0].receipt_handle);
  ApplyResult stale = h.Delete("q", {first.messages[0].receipt_handle});
  EXPECT_EQ(stale.status.code(), ErrorCode::kReceiptHandleInvalid);
  EXPECT_TRUE(h.Delete("q", {second.messages[0].receipt_handle}).status.ok());
  EXPECT_EQ(h.sm.message_count(), 0u);
}

TEST_F(MessagesTest, DeleteAfterVisibilityExpiryIsRefused) {
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  uint64_t handle = h.Receive("q").messages.at(0).receipt_handle;
  h.now_ms += 30'000;  // exactly at nextVisibleTime: already too late
  EXPECT_EQ(h.Delete("q", {handle}).status.code(), ErrorCode::kReceiptHandleInvalid);
  EXPECT_EQ(h.ReceiveBody("q"), "a");
}

TEST_F(MessagesTest, DeleteJustBeforeExpirySucceeds) {
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  uint64_t handle = h.Receive("q").messages.at(0).receipt_handle;
  h.now_ms += 29'999;
  EXPECT_TRUE(h.Delete("q", {handle}).status.ok());
  h.now_ms += 60'000;
  EXPECT_EQ(h.Receive("q").status.code(), ErrorCode::kNoMessage);
}

TEST_F(MessagesTest, DeleteTwiceFailsTheSecondTime) {
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  uint64_t handle = h.Receive("q").messages.at(0).receipt_handle;
  ApplyResult r = h.Delete("q", {handle, handle});
  EXPECT_EQ(r.status.code(), ErrorCode::kReceiptHandleInvalid);
  ASSERT_EQ(r.delete_failures.size(), 1u);
  EXPECT_EQ(r.delete_failures[0].receipt_handle, handle);
}

TEST_F(MessagesTest, BatchDeleteReportsOnlyTheFailedHandles) {
  ASSERT_TRUE(h.Send("q", Strings({"a", "b", "c"})).status.ok());
  ApplyResult got = h.Receive("q", 3);
  ASSERT_EQ(got.messages.size(), 3u);
  uint64_t unknown = (uint64_t{999} << kReceiptCountBits) | 1;
  uint64_t wrong_count = got.messages[2].receipt_handle + 1;
  ApplyResult r = h.Delete(
      "q", {got.messages[0].receipt_handle, unknown, got.messages[1].receipt_handle, wrong_count});
  EXPECT_EQ(r.status.code(), ErrorCode::kReceiptHandleInvalid);
  ASSERT_EQ(r.delete_failures.size(), 2u);
  EXPECT_EQ(r.delete_failures[0].receipt_handle, unknown);
  EXPECT_EQ(r.delete_failures[1].receipt_handle, wrong_count);
  EXPECT_EQ(r.delete_failures[0].status.code(), ErrorCode::kReceiptHandleInvalid);
  EXPECT_EQ(h.Info("q").inactive_msg_num, 1u);  // c is still in flight
}

TEST_F(MessagesTest, DeleteAllOkHasNoFailures) {
  ASSERT_TRUE(h.Send("q", Strings({"a", "b"})).status.ok());
  ApplyResult got = h.Receive("q", 2);
  ApplyResult r = h.Delete("q", {got.messages[0].receipt_handle, got.messages[1].receipt_handle});
  EXPECT_TRUE(r.status.ok());
  EXPECT_TRUE(r.delete_failures.empty());
}

TEST_F(MessagesTest, DeleteHandleCountOutOfRangeIsRefused) {
  EXPECT_EQ(h.Delete("q", {}).status.code(), ErrorCode::kInvalidArgument);
  ApplyResult r = h.Delete("q", std::vector<uint64_t>(17, 1));
  EXPECT_EQ(r.status.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(r.delete_failures.empty());
}

TEST_F(MessagesTest, HandleOfAnotherQueueIsInvalid) {
  ASSERT_TRUE(h.Create("other").status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  uint64_t handle = h.Receive("q").messages.at(0).receipt_handle;
  EXPECT_EQ(h.Delete("other", {handle}).status.code(), ErrorCode::kReceiptHandleInvalid);
  EXPECT_TRUE(h.Delete("q", {handle}).status.ok());
}

TEST_F(MessagesTest, DelayHidesUntilExactlyEnqueuePlusDelay) {
  ASSERT_TRUE(h.Send("q", Strings({"late"}), 12).status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"now"})).status.ok());
  EXPECT_EQ(h.ReceiveBody("q"), "now");
  EXPECT_EQ(h.sm.NextDueMs("q"), testing::kStartMs + 12'000);
  h.now_ms = testing::kStartMs + 11'999;
  EXPECT_FALSE(h.sm.HasVisibleMessage("q", h.now_ms));
  EXPECT_EQ(h.Receive("q").status.code(), ErrorCode::kNoMessage);
  h.now_ms += 1;
  EXPECT_TRUE(h.sm.HasVisibleMessage("q", h.now_ms));
  ApplyResult r = h.Receive("q");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(h.Body(r.messages[0]), "late");
  EXPECT_EQ(r.messages[0].enqueue_time_ms, testing::kStartMs);
}

TEST_F(MessagesTest, DueDelayedAndExpiredInFlightInterleaveById) {
  ASSERT_TRUE(h.Send("q", Strings({"1"})).status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"2"}), 5).status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"3"})).status.ok());
  EXPECT_EQ(h.Bodies(h.Receive("q", 1, 1)), Strings({"1"}));  // back in 1 s
  h.now_ms += 10'000;
  ASSERT_TRUE(h.Send("q", Strings({"4"})).status.ok());
  EXPECT_EQ(h.Bodies(h.Receive("q", 16)), Strings({"1", "2", "3", "4"}));
}

TEST_F(MessagesTest, RetentionDropsMessagesInEveryState) {
  QueueAttributeUpdate u;
  u.msg_retention_seconds = 60;
  ASSERT_TRUE(h.SetAttributes("q", u).status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"visible", "inflight"})).status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"delayed"}), 3600).status.ok());
  ApplyResult got = h.Receive("q", 1, 43'200);
  ASSERT_EQ(got.messages.size(), 1u);
  h.now_ms += 59'999;
  QueueInfo before = h.Info("q");
  EXPECT_EQ(before.active_msg_num + before.inactive_msg_num + before.delay_msg_num, 3u);
  h.now_ms += 1;
  QueueInfo after = h.Info("q");  // a pure read already sees them gone
  EXPECT_EQ(after.active_msg_num + after.inactive_msg_num + after.delay_msg_num, 0u);
  EXPECT_EQ(after.min_msg_time_s, 0);
  EXPECT_FALSE(h.sm.HasVisibleMessage("q", h.now_ms));
  EXPECT_EQ(h.sm.message_count(), 3u);  // not yet dropped from the state
  EXPECT_TRUE(h.Housekeeping().status.ok());
  EXPECT_EQ(h.sm.message_count(), 0u);
  EXPECT_EQ(h.Delete("q", {got.messages[0].receipt_handle}).status.code(),
            ErrorCode::kReceiptHandleInvalid);
  EXPECT_EQ(h.Receive("q").status.code(), ErrorCode::kNoMessage);
}

TEST_F(MessagesTest, RetentionKeepsYoungerMessages) {
  QueueAttributeUpdate u;
  u.msg_retention_seconds = 60;
  ASSERT_TRUE(h.SetAttributes("q", u).status.ok());
  ASSERT_TRUE(h.Send("q", Strings({"old"})).status.ok());
  h.now_ms += 30'000;
  ASSERT_TRUE(h.Send("q", Strings({"young"})).status.ok());
  h.now_ms += 30'000;
  EXPECT_TRUE(h.sm.HasVisibleMessage("q", h.now_ms));
  EXPECT_EQ(h.Info("q").active_msg_num, 1u);
  EXPECT_EQ(h.Info("q").min_msg_time_s, (testing::kStartMs + 30'000) / 1000);
  EXPECT_EQ(h.Bodies(h.Receive("q", 16)), Strings({"young"}));
}

TEST_F(MessagesTest, HeapLimitRefusesTheWholeBatch) {
  Harness big;
  big.keep_payloads = false;
  QueueAttributeUpdate u;
  u.max_msg_heap_num = kMaxMsgHeapNumMin;
  ASSERT_TRUE(big.Create("q", u).status.ok());
  std::vector<std::string> batch(kMaxBatch, "x");
  for (int64_t sent = 0; sent < kMaxMsgHeapNumMin; sent += kMaxBatch) {
    ASSERT_TRUE(big.Send("q", batch).status.ok()) << sent;
  }
  EXPECT_EQ(big.Info("q").active_msg_num, static_cast<uint64_t>(kMaxMsgHeapNumMin));
  EXPECT_EQ(big.Send("q", Strings({"x"})).status.code(), ErrorCode::kHeapFull);
  // Receiving does not make room; deleting does.
  ApplyResult got = big.Receive("q", 2);
  EXPECT_EQ(big.Send("q", Strings({"x"})).status.code(), ErrorCode::kHeapFull);
  ASSERT_TRUE(big.Delete("q", {got.messages[0].receipt_handle}).status.ok());
  EXPECT_EQ(big.Send("q", Strings({"x", "y"})).status.code(), ErrorCode::kHeapFull);
  EXPECT_TRUE(big.Send("q", Strings({"x"})).status.ok());
}

TEST_F(MessagesTest, TooManyDelayedIsRefused) {
  Harness big;
  big.keep_payloads = false;
  ASSERT_TRUE(big.Create("q").status.ok());
  std::vector<std::string> batch(kMaxBatch, "x");
  for (uint64_t sent = 0; sent < kMaxInflightAndDelayedPerQueue; sent += kMaxBatch) {
    ASSERT_TRUE(big.Send("q", batch, 60).status.ok()) << sent;
  }
  EXPECT_EQ(big.Send("q", Strings({"x"}), 60).status.code(), ErrorCode::kTooManyUnacked);
  ASSERT_TRUE(big.Send("q", Strings({"x"})).status.ok());  // no delay: fine
  EXPECT_EQ(big.Receive("q").status.code(), ErrorCode::kTooManyUnacked);
  big.now_ms += 60'000;  // all due: room again
  EXPECT_EQ(big.Receive("q", 16).messages.size(), 16u);
}

TEST_F(MessagesTest, MessageIdsAreUniqueAndIncreasingAcrossQueues) {
  ASSERT_TRUE(h.Create("other").status.ok());
  uint64_t last = 0;
  for (int i = 0; i < 50; ++i) {
    ApplyResult r = h.Send(i % 3 == 0 ? "other" : "q", Strings({"a", "b"}));
    ASSERT_TRUE(r.status.ok());
    for (uint64_t id : r.msg_ids) {
      EXPECT_GT(id, last);
      EXPECT_EQ(id >> kMessageSeqBits, 7u);
      last = id;
    }
  }
  ASSERT_TRUE(h.DeleteQueue("other").status.ok());
  ASSERT_TRUE(h.Create("other").status.ok());
  EXPECT_GT(h.Send("other", Strings({"a"})).msg_ids.at(0), last);  // never reused
}

TEST_F(MessagesTest, RefusedSendMintsNoIds) {
  uint64_t first = h.Send("q", Strings({"a"})).msg_ids.at(0);
  EXPECT_FALSE(h.Send("q", Strings({"a"}), -1).status.ok());
  EXPECT_EQ(h.Send("q", Strings({"b"})).msg_ids.at(0), first + 1);
}

}  // namespace
}  // namespace cmq::mq
