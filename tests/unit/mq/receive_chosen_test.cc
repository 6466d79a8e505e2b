// Receives answered before their commit (docs/queue-model.md): the leader reserves the
// messages of a receive and proposes a kReceiveChosen naming them; every replica puts the
// same ones in flight, with the handles and times the leader already answered with.
#include <gtest/gtest.h>

#include "mq/limits.h"
#include "unit/mq/harness.h"

namespace cmq::mq {
namespace {

using testing::Cmd;
using testing::Harness;
using testing::Strings;

Command ReceiveCmd(const std::string& queue, uint32_t n,
                   std::optional<int64_t> visibility_s = std::nullopt) {
  Command cmd = Cmd(CommandType::kReceiveMessages, queue);
  cmd.num_messages = n;
  cmd.visibility_timeout_s = visibility_s;
  return cmd;
}

QueueAttributeUpdate ShortRetention() {
  QueueAttributeUpdate attributes;
  attributes.msg_retention_seconds = kMsgRetentionSecondsMin;  // 60
  return attributes;
}

void ExpectSame(const ReceivedMessage& a, const ReceivedMessage& b) {
  EXPECT_EQ(a.msg_id, b.msg_id);
  EXPECT_EQ(a.receipt_handle, b.receipt_handle);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.enqueue_time_ms, b.enqueue_time_ms);
  EXPECT_EQ(a.next_visible_time_ms, b.next_visible_time_ms);
  EXPECT_EQ(a.first_dequeue_time_ms, b.first_dequeue_time_ms);
  EXPECT_EQ(a.dequeue_count, b.dequeue_count);
}

class ReceiveChosenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h.followers.push_back(&follower);
    QueueAttributeUpdate attributes;
    attributes.visibility_timeout = 30;
    ASSERT_TRUE(h.Create("q", attributes).status.ok());
  }

  StateMachine::Reservation Reserve(uint32_t n, std::optional<int64_t> visibility_s = {}) {
    auto r = h.sm.ReserveReceive(ReceiveCmd("q", n, visibility_s), h.now_ms);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : StateMachine::Reservation{};
  }

  Harness h;
  StateMachine follower{7};
};

TEST_F(ReceiveChosenTest, TheAnswerGivenAtReservationIsWhatEveryReplicaApplies) {
  ASSERT_TRUE(h.Send("q", Strings({"a", "b", "c"})).status.ok());
  h.now_ms += 5;
  StateMachine::Reservation res = Reserve(2, 60);
  ASSERT_EQ(res.messages.size(), 2u);
  EXPECT_EQ(h.Body(res.messages[0]), "a");
  EXPECT_EQ(h.Body(res.messages[1]), "b");
  EXPECT_EQ(res.messages[0].dequeue_count, 1u);
  EXPECT_EQ(res.messages[0].next_visible_time_ms, h.now_ms + 60'000);
  EXPECT_EQ(res.messages[0].first_dequeue_time_ms, h.now_ms);
  EXPECT_EQ(res.command.chosen_keys.size(), 2u);

  h.now_ms += 3;  // the entry is stamped later than the choice
  ApplyResult applied = h.Apply(res.command);
  ASSERT_TRUE(applied.status.ok()) << applied.status.ToString();
  ASSERT_EQ(applied.messages.size(), 2u);
  ASSERT_EQ(h.follower_results.size(), 1u);
  ASSERT_EQ(h.follower_results[0].messages.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    ExpectSame(applied.messages[i], res.messages[i]);
    ExpectSame(h.follower_results[0].messages[i], res.messages[i]);
  }
  EXPECT_EQ(h.sm.Snapshot(), follower.Snapshot()) << "the leader and a follower differ";

  // The handles answered early delete the messages.
  EXPECT_TRUE(
      h.Delete("q", {res.messages[0].receipt_handle, res.messages[1].receipt_handle}).status.ok());
  EXPECT_EQ(h.ReceiveBody("q"), "c");
}

TEST_F(ReceiveChosenTest, AReservedMessageIsNotChosenTwice) {
  ASSERT_TRUE(h.Send("q", Strings({"a", "b"})).status.ok());
  StateMachine::Reservation first = Reserve(1);
  StateMachine::Reservation second = Reserve(16);
  ASSERT_EQ(first.messages.size(), 1u);
  ASSERT_EQ(second.messages.size(), 1u);
  EXPECT_EQ(h.Body(first.messages[0]), "a");
  EXPECT_EQ(h.Body(second.messages[0]), "b");
  EXPECT_FALSE(h.sm.HasVisibleMessage("q", h.now_ms)) << "both are taken";
  auto third = h.sm.ReserveReceive(ReceiveCmd("q", 1), h.now_ms);
  EXPECT_EQ(third.status().code(), ErrorCode::kNoMessage);
  // In flight for GetQueueAttributes from the moment they are reserved (the leader serves
  // reads, and its client may read right after its answer), before the apply...
  EXPECT_EQ(h.Info("q").active_msg_num, 0u);
  EXPECT_EQ(h.Info("q").inactive_msg_num, 2u);
  Result<QueueInfo> on_follower = follower.GetQueue("q", h.now_ms);
  ASSERT_TRUE(on_follower.ok());
  EXPECT_EQ(on_follower->active_msg_num, 2u) << "a follower knows nothing of reservations";
  ASSERT_TRUE(h.Apply(second.command).status.ok());
  ASSERT_TRUE(h.Apply(first.command).status.ok());
  // ...and after it, on every replica.
  EXPECT_EQ(h.Info("q").inactive_msg_num, 2u);
  EXPECT_EQ(h.Info("q").active_msg_num, 0u);
  EXPECT_EQ(follower.GetQueue("q", h.now_ms)->inactive_msg_num, 2u);
  EXPECT_EQ(h.sm.Snapshot(), follower.Snapshot());
}

TEST_F(ReceiveChosenTest, ReleasedMessagesAreChosenAgain) {
  ASSERT_TRUE(h.Send("q", Strings({"a", "b", "c"})).status.ok());
  StateMachine::Reservation one = Reserve(1);
  StateMachine::Reservation two = Reserve(2);
  h.sm.ReleaseReservation(one.command);  // its proposal was refused
  StateMachine::Reservation again = Reserve(16);
  ASSERT_EQ(again.messages.size(), 1u);
  EXPECT_EQ(h.Body(again.messages[0]), "a");

  h.sm.ReleaseReservations();  // leadership lost
  EXPECT_TRUE(h.sm.HasVisibleMessage("q", h.now_ms));
  StateMachine::Reservation all = Reserve(16);
  ASSERT_EQ(all.messages.size(), 3u);
  EXPECT_EQ(h.Body(all.messages[0]), "a");
  EXPECT_EQ(h.Body(all.messages[2]), "c");
  // Once applied, a chosen receive has nothing left to give back.
  ASSERT_EQ(h.Apply(all.command).messages.size(), 3u);
  h.sm.ReleaseReservation(all.command);
  EXPECT_FALSE(h.sm.HasVisibleMessage("q", h.now_ms));
  EXPECT_EQ(h.sm.ReserveReceive(ReceiveCmd("q", 1), h.now_ms).status().code(),
            ErrorCode::kNoMessage);
  (void)two;
}

TEST_F(ReceiveChosenTest, AChosenMessageThatChangedSinceIsSkipped) {
  ASSERT_TRUE(h.Send("q", Strings({"a", "b"})).status.ok());
  StateMachine::Reservation res = Reserve(2);
  // A replica that never saw the reservation (a new leader's old log entry, say) received
  // "a" first: the chosen receive then takes only "b".
  h.sm.ReleaseReservations();
  ApplyResult other = h.Receive("q");
  ASSERT_EQ(h.Bodies(other), Strings({"a"}));
  ApplyResult applied = h.Apply(res.command);
  ASSERT_TRUE(applied.status.ok());
  ASSERT_EQ(h.Bodies(applied), Strings({"b"}));
  EXPECT_EQ(h.sm.Snapshot(), follower.Snapshot());

  // Applied again (nothing left of it): kNoMessage, and both stay in flight once.
  EXPECT_EQ(h.Apply(res.command).status.code(), ErrorCode::kNoMessage);
  EXPECT_EQ(h.Info("q").inactive_msg_num, 2u);
}

TEST_F(ReceiveChosenTest, ADeletedQueueOrAnExpiredMessageIsSkipped) {
  ASSERT_TRUE(h.Create("short", ShortRetention()).status.ok());
  ASSERT_TRUE(h.Send("short", Strings({"old"})).status.ok());
  h.now_ms += 59'000;
  ASSERT_TRUE(h.Send("short", Strings({"new"})).status.ok());
  auto res = h.sm.ReserveReceive(ReceiveCmd("short", 2), h.now_ms);
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(res->messages.size(), 2u);
  h.now_ms += 2'000;  // "old" expires before the entry applies
  ApplyResult applied = h.Apply(res->command);
  ASSERT_TRUE(applied.status.ok());
  ASSERT_EQ(h.Bodies(applied), Strings({"new"}));
  EXPECT_EQ(h.sm.Snapshot(), follower.Snapshot());

  ASSERT_TRUE(h.Send("q", Strings({"x"})).status.ok());
  StateMachine::Reservation gone = Reserve(1);
  ASSERT_TRUE(h.DeleteQueue("q").status.ok());
  EXPECT_EQ(h.Apply(gone.command).status.code(), ErrorCode::kQueueNotExist);
}

TEST_F(ReceiveChosenTest, AMessagePastRetentionOnTopWaitsForTheAdvanceThatDropsIt) {
  ASSERT_TRUE(h.Create("short", ShortRetention()).status.ok());
  ASSERT_TRUE(h.Send("short", Strings({"old"})).status.ok());
  h.now_ms += 30'000;
  ASSERT_TRUE(h.Send("short", Strings({"new"})).status.ok());
  h.now_ms += 31'000;  // "old" is past retention, not yet dropped
  auto none = h.sm.ReserveReceive(ReceiveCmd("short", 2), h.now_ms);
  EXPECT_EQ(none.status().code(), ErrorCode::kNoMessage);
  EXPECT_TRUE(h.sm.HasVisibleMessage("short", h.now_ms)) << "\"new\" is visible";
  // The leader proposes a chosen receive without messages: it only advances the queue.
  Command advance = Cmd(CommandType::kReceiveChosen, "short");
  advance.received_at_ms = h.now_ms;
  EXPECT_EQ(h.Apply(advance).status.code(), ErrorCode::kNoMessage);
  auto res = h.sm.ReserveReceive(ReceiveCmd("short", 2), h.now_ms);
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(res->messages.size(), 1u);
  EXPECT_EQ(h.Body(res->messages[0]), "new");
}

TEST_F(ReceiveChosenTest, ADueMessageIsChosenAfterAnAdvance) {
  ASSERT_TRUE(h.Send("q", Strings({"later"}), /*delay_seconds=*/2).status.ok());
  h.now_ms += 2'000;
  // Due, but still delayed in the applied state: not reservable until an entry advances.
  auto none = h.sm.ReserveReceive(ReceiveCmd("q", 1), h.now_ms);
  EXPECT_EQ(none.status().code(), ErrorCode::kNoMessage);
  EXPECT_TRUE(h.sm.HasVisibleMessage("q", h.now_ms));
  Command advance = Cmd(CommandType::kReceiveChosen, "q");
  EXPECT_EQ(h.Apply(advance).status.code(), ErrorCode::kNoMessage);
  StateMachine::Reservation res = Reserve(1);
  ASSERT_EQ(res.messages.size(), 1u);
  EXPECT_EQ(h.Body(res.messages[0]), "later");
}

TEST_F(ReceiveChosenTest, ARedeliveryIsForeseenLikeAFirstDelivery) {
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  ApplyResult first = h.Receive("q", 1, /*visibility_s=*/1);
  ASSERT_EQ(first.messages.size(), 1u);
  h.now_ms += 1'500;
  ASSERT_TRUE(h.Housekeeping().status.ok());  // visible again
  StateMachine::Reservation res = Reserve(1);
  ASSERT_EQ(res.messages.size(), 1u);
  EXPECT_EQ(res.messages[0].dequeue_count, 2u);
  EXPECT_EQ(res.messages[0].first_dequeue_time_ms, first.messages[0].first_dequeue_time_ms);
  EXPECT_NE(res.messages[0].receipt_handle, first.messages[0].receipt_handle);
  ApplyResult applied = h.Apply(res.command);
  ASSERT_EQ(applied.messages.size(), 1u);
  ExpectSame(applied.messages[0], res.messages[0]);
  // The old handle no longer deletes it; the new one does.
  EXPECT_EQ(h.Delete("q", {first.messages[0].receipt_handle}).status.code(),
            ErrorCode::kReceiptHandleInvalid);
  EXPECT_TRUE(h.Delete("q", {res.messages[0].receipt_handle}).status.ok());
}

TEST_F(ReceiveChosenTest, ReservationsRefuseWhatAReceiveWould) {
  EXPECT_EQ(h.sm.ReserveReceive(ReceiveCmd("none", 1), h.now_ms).status().code(),
            ErrorCode::kQueueNotExist);
  EXPECT_EQ(h.sm.ReserveReceive(ReceiveCmd("q", 0), h.now_ms).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.sm.ReserveReceive(ReceiveCmd("q", 17), h.now_ms).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.sm.ReserveReceive(ReceiveCmd("q", 1, 0), h.now_ms).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.sm.ReserveReceive(ReceiveCmd("q", 1), h.now_ms).status().code(),
            ErrorCode::kNoMessage);
}

TEST_F(ReceiveChosenTest, AMalformedChosenReceiveChangesNothingAndOddTimesAreClamped) {
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  StateMachine::Reservation res = Reserve(1);
  h.sm.ReleaseReservations();
  Command too_many = res.command;
  too_many.chosen_keys.assign(17, res.command.chosen_keys[0]);
  EXPECT_EQ(h.Apply(too_many).status.code(), ErrorCode::kInvalidArgument);
  Command no_visibility = res.command;
  no_visibility.visibility_ms = 999;
  EXPECT_EQ(h.Apply(no_visibility).status.code(), ErrorCode::kInvalidArgument);
  Command too_long = res.command;
  too_long.visibility_ms = (kVisibilityTimeoutMax + 1) * 1000;
  EXPECT_EQ(h.Apply(too_long).status.code(), ErrorCode::kInvalidArgument);
  Command wrong_generation = res.command;
  wrong_generation.chosen_keys[0] += 1;
  EXPECT_EQ(h.Apply(wrong_generation).status.code(), ErrorCode::kNoMessage);
  // None of those put the message in flight, here or on the follower.
  EXPECT_EQ(h.Info("q").active_msg_num, 1u);
  EXPECT_EQ(h.Info("q").inactive_msg_num, 0u);
  EXPECT_EQ(h.sm.Snapshot(), follower.Snapshot());
  Command from_the_future = res.command;
  from_the_future.received_at_ms = h.now_ms + 3'600'000;  // clamped to the entry's time
  ApplyResult applied = h.Apply(from_the_future);
  ASSERT_EQ(applied.messages.size(), 1u);
  EXPECT_EQ(applied.messages[0].next_visible_time_ms, h.now_ms + 30'000);
  Command from_the_past = res.command;
  from_the_past.received_at_ms = INT64_MIN / 2;  // never before the message was sent
  h.now_ms += 40'000;
  ASSERT_TRUE(h.Housekeeping().status.ok());
  from_the_past.chosen_keys[0] = applied.messages[0].receipt_handle;
  ApplyResult again = h.Apply(from_the_past);
  ASSERT_EQ(again.messages.size(), 1u);
  EXPECT_GE(again.messages[0].next_visible_time_ms, again.messages[0].enqueue_time_ms + 30'000);
  EXPECT_EQ(h.sm.Snapshot(), follower.Snapshot());
}

TEST_F(ReceiveChosenTest, ASnapshotTakenWhileReservingHoldsTheMessagesVisible) {
  ASSERT_TRUE(h.Send("q", Strings({"a", "b"})).status.ok());
  StateMachine::Reservation res = Reserve(2);
  auto restored = StateMachine::Restore(h.sm.Snapshot());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_TRUE((*restored)->HasVisibleMessage("q", h.now_ms)) << "reservations are not state";
  h.followers.push_back(restored->get());
  ApplyResult applied = h.Apply(res.command);
  ASSERT_EQ(applied.messages.size(), 2u);
  ASSERT_EQ(h.follower_results.size(), 2u);
  ASSERT_EQ(h.follower_results[1].messages.size(), 2u);
  ExpectSame(h.follower_results[1].messages[1], res.messages[1]);
  EXPECT_EQ(h.sm.Snapshot(), (*restored)->Snapshot());
}

}  // namespace
}  // namespace cmq::mq
