// Transaction (half) messages: hidden until committed, discarded when rolled back, checked
// back with their producer on a schedule, rolled back when nobody answers; kept across
// snapshots.
#include <gtest/gtest.h>

#include <memory>

#include "common/checksum.h"
#include "common/encoding.h"
#include "mq/limits.h"
#include "unit/mq/harness.h"
#include "unit/mq/observe.h"

namespace cmq::mq {
namespace {

using testing::Harness;
using testing::Strings;

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(h.Create("Tq").status.ok()); }

  // The msg ids of the check-backs a Housekeeping at now_ms + advance_ms reports.
  std::vector<uint64_t> ChecksAfter(int64_t advance_ms) {
    h.now_ms += advance_ms;
    ApplyResult r = h.Housekeeping();
    std::vector<uint64_t> ids;
    for (const TransactionCheck& c : r.transaction_checks) ids.push_back(c.msg_id);
    return ids;
  }

  Harness h;
};

TEST_F(TransactionTest, HalfMessagesAreHiddenUntilCommitted) {
  ApplyResult sent = h.SendHalf("Tq", Strings({"a", "b"}));
  ASSERT_TRUE(sent.status.ok());
  ASSERT_EQ(sent.msg_ids.size(), 2u);
  EXPECT_EQ(sent.msg_ids[1], sent.msg_ids[0] + 1);
  EXPECT_EQ(h.Receive("Tq").status.code(), ErrorCode::kNoMessage);
  EXPECT_FALSE(h.sm.HasVisibleMessage("Tq", h.now_ms + 3'600'000));
  QueueInfo info = h.Info("Tq");
  EXPECT_EQ(info.active_msg_num + info.inactive_msg_num + info.delay_msg_num, 0u);
  EXPECT_EQ(info.transaction_msg_num, 2u);
  EXPECT_EQ(info.min_msg_time_s, 0);
  EXPECT_EQ(h.sm.message_count(), 2u);

  ApplyResult confirmed = h.Confirm("Tq", {{sent.msg_ids[1], true}});
  ASSERT_TRUE(confirmed.status.ok());
  EXPECT_EQ(confirmed.msg_ids, std::vector<uint64_t>{sent.msg_ids[1]});
  EXPECT_EQ(h.Info("Tq").active_msg_num, 1u);
  EXPECT_EQ(h.Info("Tq").transaction_msg_num, 1u);
  ApplyResult r = h.Receive("Tq", 16);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].msg_id, sent.msg_ids[1]);
  EXPECT_EQ(h.Body(r.messages[0]), "b");
  EXPECT_EQ(r.messages[0].dequeue_count, 1u);
  EXPECT_TRUE(h.Delete("Tq", {r.messages[0].receipt_handle}).status.ok());
}

TEST_F(TransactionTest, RolledBackMessagesAreGoneForGood) {
  QueueAttributeUpdate rewind;
  rewind.rewind_seconds = 600;
  ASSERT_TRUE(h.SetAttributes("Tq", rewind).status.ok());
  ApplyResult sent = h.SendHalf("Tq", Strings({"a"}));
  ApplyResult rolled = h.Confirm("Tq", {{sent.msg_ids[0], false}});
  ASSERT_TRUE(rolled.status.ok());
  EXPECT_TRUE(rolled.msg_ids.empty());
  EXPECT_EQ(h.sm.message_count(), 0u);
  EXPECT_EQ(h.Info("Tq").transaction_msg_num, 0u);
  // Neither a later commit nor a rewind brings it back, and nobody is asked about it.
  EXPECT_TRUE(h.Confirm("Tq", {{sent.msg_ids[0], true}}).msg_ids.empty());
  ASSERT_TRUE(h.Rewind("Tq", 0).status.ok());
  EXPECT_EQ(h.Receive("Tq").status.code(), ErrorCode::kNoMessage);
  EXPECT_TRUE(ChecksAfter(3'600'000).empty());
}

TEST_F(TransactionTest, ConfirmIgnoresUnknownForeignAndResolvedIds) {
  ApplyResult plain = h.Send("Tq", Strings({"plain"}));
  ApplyResult half = h.SendHalf("Tq", Strings({"half"}));
  const uint64_t foreign =
      (uint64_t{8} << kMessageSeqBits) | (half.msg_ids[0] & ((uint64_t{1} << kMessageSeqBits) - 1));
  ApplyResult r = h.Confirm("Tq", {{plain.msg_ids[0], false},  // not a half message
                                   {foreign, true},            // another group's id
                                   {half.msg_ids[0] + 100, true},
                                   {half.msg_ids[0], true},
                                   {half.msg_ids[0], false}});  // already committed
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.msg_ids, std::vector<uint64_t>{half.msg_ids[0]});
  EXPECT_EQ(h.Info("Tq").active_msg_num, 2u);
}

TEST_F(TransactionTest, ConfirmValidatesItsQueueAndItemCount) {
  EXPECT_EQ(h.Confirm("nope", {{1, true}}).status.code(), ErrorCode::kQueueNotExist);
  EXPECT_EQ(h.Confirm("Tq", {}).status.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.Confirm("Tq", std::vector<TransactionConfirm>(17, {1, true})).status.code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(TransactionTest, SendValidatesCheckIntervalProducerAndHeapLimit) {
  EXPECT_EQ(h.SendHalf("Tq", Strings({"a"}), kTransactionCheckMsMin - 1).status.code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.SendHalf("Tq", Strings({"a"}), kTransactionCheckMsMax + 1).status.code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.SendHalf("Tq", Strings({"a"}), 5'000, std::string(kMaxProducerIdLength + 1, 'p'))
                .status.code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.SendHalf("Tq", {}).status.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.SendHalf("nope", Strings({"a"})).status.code(), ErrorCode::kQueueNotExist);
  EXPECT_EQ(h.sm.message_count(), 0u);
  // Half messages count toward maxMsgHeapNum.
  QueueAttributeUpdate small;
  small.max_msg_heap_num = kMaxMsgHeapNumMin;
  ASSERT_TRUE(h.Create("small", small).status.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(h.SendHalf("small", Strings({"x"})).status.ok());
  EXPECT_EQ(h.sm.message_count(), 3u);
}

TEST_F(TransactionTest, ChecksBackOnScheduleThenRollsBack) {
  ApplyResult sent = h.SendHalf("Tq", Strings({"a"}), 2'000, "client-1");
  const uint64_t id = sent.msg_ids[0];
  EXPECT_TRUE(ChecksAfter(1'999).empty());
  h.now_ms += 1;
  ApplyResult r = h.Housekeeping();
  ASSERT_EQ(r.transaction_checks.size(), 1u);
  EXPECT_EQ(r.transaction_checks[0], (TransactionCheck{"Tq", id, "client-1"}));
  // Gaps double from the first interval (2 s) up to a minute.
  std::vector<int64_t> gaps;
  int64_t since = 0;
  for (int step = 0; gaps.size() < kTransactionMaxChecks - 1 && step < 10'000; ++step) {
    since += 500;
    if (!ChecksAfter(500).empty()) {
      gaps.push_back(since);
      since = 0;
    }
  }
  ASSERT_EQ(gaps.size(), kTransactionMaxChecks - 1);
  EXPECT_EQ(gaps[0], 4'000);
  EXPECT_EQ(gaps[1], 8'000);
  EXPECT_EQ(gaps[2], 16'000);
  EXPECT_EQ(gaps[3], 32'000);
  for (size_t i = 4; i < gaps.size(); ++i) EXPECT_EQ(gaps[i], 60'000) << i;
  // One gap after the last check, unanswered, it is rolled back: a commit comes too late.
  EXPECT_EQ(h.sm.message_count(), 1u);
  EXPECT_TRUE(ChecksAfter(60'000).empty());
  EXPECT_EQ(h.sm.message_count(), 0u);
  EXPECT_TRUE(h.Confirm("Tq", {{id, true}}).msg_ids.empty());
  EXPECT_EQ(h.Receive("Tq").status.code(), ErrorCode::kNoMessage);
}

// Names compare case-insensitively, but the SDK finds its checker by the name it sent.
TEST_F(TransactionTest, CheckBacksNameTheQueueAsTheProducerWroteIt) {
  ApplyResult lower = h.SendHalf("tq", Strings({"a"}), 1'000, "p1");
  ApplyResult exact = h.SendHalf("Tq", Strings({"b"}), 1'000, "p2");
  ASSERT_TRUE(lower.status.ok());
  h.now_ms += 1'000;
  ApplyResult r = h.Housekeeping();
  ASSERT_EQ(r.transaction_checks.size(), 2u);
  EXPECT_EQ(r.transaction_checks[0], (TransactionCheck{"tq", lower.msg_ids[0], "p1"}));
  EXPECT_EQ(r.transaction_checks[1], (TransactionCheck{"Tq", exact.msg_ids[0], "p2"}));
  // And so after a snapshot.
  std::string snapshot = h.sm.Snapshot();
  Result<std::unique_ptr<StateMachine>> restored = StateMachine::Restore(snapshot);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  h.followers = {restored->get()};
  h.now_ms += 2'000;
  ApplyResult again = h.Housekeeping();
  ASSERT_EQ(again.transaction_checks.size(), 2u);
  EXPECT_EQ(testing::DescribeResult(h.follower_results.at(0)), testing::DescribeResult(again));
  EXPECT_EQ(again.transaction_checks[0].queue_name, "tq");
}

TEST_F(TransactionTest, AnyCommandOnTheQueueReportsDueChecks) {
  ApplyResult sent = h.SendHalf("Tq", Strings({"a"}), 1'000);
  h.now_ms += 1'000;
  ApplyResult r = h.Send("Tq", Strings({"b"}));
  ASSERT_EQ(r.transaction_checks.size(), 1u);
  EXPECT_EQ(r.transaction_checks[0].msg_id, sent.msg_ids[0]);
  EXPECT_TRUE(h.Housekeeping().transaction_checks.empty());  // reported once
}

TEST_F(TransactionTest, CommittedAfterAChecksStopChecking) {
  ApplyResult sent = h.SendHalf("Tq", Strings({"a"}), 1'000);
  ASSERT_EQ(ChecksAfter(1'000).size(), 1u);
  ASSERT_EQ(h.Confirm("Tq", {{sent.msg_ids[0], true}}).msg_ids.size(), 1u);
  EXPECT_TRUE(ChecksAfter(3'600'000).empty());
  EXPECT_EQ(h.sm.message_count(), 1u);
}

TEST_F(TransactionTest, RetentionDropsUnresolvedHalfMessages) {
  QueueAttributeUpdate short_retention;
  short_retention.msg_retention_seconds = 60;
  ASSERT_TRUE(h.Create("short", short_retention).status.ok());
  ApplyResult sent = h.SendHalf("short", Strings({"a"}), 50'000);
  ASSERT_EQ(ChecksAfter(50'000).size(), 1u);
  EXPECT_TRUE(ChecksAfter(10'000).empty());  // past retention before the next check
  EXPECT_EQ(h.sm.message_count(), 0u);
  EXPECT_TRUE(h.Confirm("short", {{sent.msg_ids[0], true}}).msg_ids.empty());
}

TEST_F(TransactionTest, HalfMessagesAndTheirSchedulesSurviveASnapshot) {
  ApplyResult a = h.SendHalf("Tq", Strings({"a"}), 1'000, "first");
  ApplyResult b = h.SendHalf("Tq", Strings({"b", "c"}), 7'000, "second");
  ASSERT_EQ(ChecksAfter(1'000).size(), 1u);  // a: one check done
  std::string snapshot = h.sm.Snapshot();
  Result<std::unique_ptr<StateMachine>> restored = StateMachine::Restore(snapshot);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->Snapshot(), snapshot);
  h.followers = {restored->get()};
  // The restored machine asks the same producers at the same times, and commits alike.
  for (int i = 0; i < 40; ++i) {
    h.now_ms += 700;
    ApplyResult r = h.Housekeeping();
    ASSERT_EQ(testing::DescribeResult(h.follower_results.at(0)), testing::DescribeResult(r));
  }
  ApplyResult c = h.Confirm("Tq", {{a.msg_ids[0], true}, {b.msg_ids[1], false}});
  EXPECT_EQ(testing::DescribeResult(h.follower_results.at(0)), testing::DescribeResult(c));
  EXPECT_EQ((*restored)->Snapshot(), h.sm.Snapshot());
}

TEST(TransactionSnapshotTest, OlderSnapshotVersionsCannotHoldHalfMessages) {
  Harness h;
  ASSERT_TRUE(h.Create("q").status.ok());
  ASSERT_TRUE(h.SendHalf("q", Strings({"a"})).status.ok());
  std::string snapshot = h.sm.Snapshot();
  ASSERT_EQ(snapshot[4], 3);
  snapshot[4] = 2;  // as if a version-2 writer had written it: resealed
  std::string_view s = snapshot;
  EncodeFixed32(&snapshot[13], Checksum32(s.substr(0, 13), s.substr(17)));
  Result<std::unique_ptr<StateMachine>> restored = StateMachine::Restore(snapshot);
  EXPECT_EQ(restored.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(restored.status().message().find("record tag"), std::string::npos)
      << restored.status().ToString();
}

}  // namespace
}  // namespace cmq::mq
