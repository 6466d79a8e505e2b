// Moving old bodies forward (kMoveBodies, docs/queue-model.md): a queue's messages point
// at copies of their bodies in a newer entry, so the log below can go; the move applies
// only to the queue as it was proposed (all or nothing), and survives snapshots.
#include <gtest/gtest.h>

#include "mq/limits.h"
#include "unit/mq/harness.h"

namespace cmq::mq {
namespace {

using testing::Harness;
using testing::Strings;

class MoveBodiesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h.Create("stuck").status.ok());
    ASSERT_TRUE(h.Create("busy").status.ok());
  }

  // The kMoveBodies a leader would propose for the queues pinning the log below `below`,
  // with the bodies read from the harness's payloads.
  std::vector<Command> Proposals(uint64_t below, size_t max_messages = 100,
                                 uint64_t max_bytes = 1 << 20) {
    std::vector<Command> out;
    kept_bodies_.clear();
    for (const auto& q : h.sm.BodiesPinningLogBelow(below, max_messages, max_bytes)) {
      Command cmd = testing::Cmd(CommandType::kMoveBodies, q.queue_name);
      cmd.moves = q.moves;
      for (const BodyLocation& where : q.bodies) kept_bodies_.push_back(h.Body(where));
      out.push_back(cmd);
    }
    // Views after every body is read (the vector no longer grows).
    size_t k = 0;
    for (Command& cmd : out) {
      for (size_t i = 0; i < cmd.moves.size(); ++i) cmd.bodies.push_back(kept_bodies_[k++]);
    }
    return out;
  }

  Harness h;
  std::vector<std::string> kept_bodies_;
};

TEST_F(MoveBodiesTest, AStuckMessageNoLongerPinsTheLog) {
  ApplyResult stuck = h.Send("stuck", Strings({"old-1", "old-2"}));
  const uint64_t stuck_index = h.index;
  ASSERT_EQ(h.Receive("stuck").messages.size(), 1u);  // one in flight, one visible
  for (int i = 0; i < 20; ++i) {
    ApplyResult r = h.Send("busy", Strings({"x"}));
    ASSERT_TRUE(h.Delete("busy", {h.Receive("busy").messages.at(0).receipt_handle}).status.ok());
  }
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), stuck_index);

  std::vector<Command> proposals = Proposals(stuck_index + 1);
  ASSERT_EQ(proposals.size(), 1u) << "busy holds nothing";
  EXPECT_EQ(proposals[0].queue_name, "stuck");
  ASSERT_EQ(proposals[0].moves.size(), 2u);
  EXPECT_EQ(proposals[0].moves[0].msg_id, stuck.msg_ids[0]);
  EXPECT_EQ(proposals[0].moves[0].from_log_index, stuck_index);

  ApplyResult moved = h.Apply(proposals[0]);
  ASSERT_TRUE(moved.status.ok()) << moved.status.ToString();
  EXPECT_EQ(moved.msg_ids, stuck.msg_ids);
  const uint64_t move_index = h.index;
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), move_index);
  EXPECT_TRUE(Proposals(move_index).empty()) << "nothing below the move";

  // The messages keep their ids, states and counts; their bodies come from the new entry.
  h.payloads.erase(stuck_index);  // as if the log below had gone
  ApplyResult visible = h.Receive("stuck");
  ASSERT_EQ(visible.messages.size(), 1u);
  EXPECT_EQ(visible.messages[0].msg_id, stuck.msg_ids[1]);
  EXPECT_EQ(visible.messages[0].body.log_index, move_index);
  EXPECT_EQ(h.Body(visible.messages[0]), "old-2");
  h.now_ms += 3'600'000;  // the first one's visibility timeout runs out
  ApplyResult again = h.Receive("stuck");
  ASSERT_EQ(again.messages.size(), 1u);
  EXPECT_EQ(again.messages[0].msg_id, stuck.msg_ids[0]);
  EXPECT_EQ(again.messages[0].dequeue_count, 2u);
  EXPECT_EQ(h.Body(again.messages[0]), "old-1");
}

TEST_F(MoveBodiesTest, AMoveOfAQueueThatChangedSinceIsANoOp) {
  h.Send("stuck", Strings({"a", "b"}));
  const uint64_t sent_at = h.index;
  std::vector<Command> proposals = Proposals(sent_at + 1);
  ASSERT_EQ(proposals.size(), 1u);
  h.Send("stuck", Strings({"c"}));  // applied before the move: not in it
  ApplyResult moved = h.Apply(proposals[0]);
  ASSERT_TRUE(moved.status.ok());
  EXPECT_TRUE(moved.msg_ids.empty());
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), sent_at) << "nothing moved";
  EXPECT_EQ(h.ReceiveBody("stuck"), "a");

  // A message deleted (gone) since the proposal does not stop the others from moving.
  proposals = Proposals(h.index + 1);
  ASSERT_EQ(proposals.size(), 1u);
  ASSERT_EQ(proposals[0].moves.size(), 3u);
  ApplyResult in_flight = h.Receive("stuck", 16);  // "b" and "c" (a is in flight already)
  ASSERT_EQ(in_flight.messages.size(), 2u);
  ASSERT_TRUE(h.Delete("stuck", {in_flight.messages[0].receipt_handle}).status.ok());
  moved = h.Apply(proposals[0]);
  EXPECT_EQ(moved.msg_ids.size(), 3u);
  EXPECT_EQ(h.sm.OldestReferencedLogIndex(), h.index);
  // Applying the same move twice does nothing: the bodies are no longer where it says.
  EXPECT_TRUE(h.Apply(proposals[0]).msg_ids.empty());
}

TEST_F(MoveBodiesTest, OnlySmallQueuesBelowTheMarkAreProposed) {
  h.Send("stuck", Strings({"1234567890"}));
  const uint64_t first = h.index;
  h.Send("busy", Strings({"a", "b", "c"}));
  EXPECT_TRUE(Proposals(first).empty()) << "nothing below the first send";
  EXPECT_EQ(Proposals(h.index + 1).size(), 2u);
  EXPECT_EQ(Proposals(h.index + 1, 2).size(), 1u) << "busy holds 3 messages";
  EXPECT_EQ(Proposals(h.index + 1, 100, 9).size(), 1u) << "stuck holds 10 bytes";
}

TEST_F(MoveBodiesTest, MovedLocationsSurviveASnapshotAndMatchTheFollowers) {
  // A fresh pair, both applying everything.
  Harness pair;
  StateMachine replica(7, 1);
  pair.followers.push_back(&replica);
  ASSERT_TRUE(pair.Create("q").status.ok());
  pair.Send("q", Strings({"kept", "also"}));
  for (int i = 0; i < 5; ++i) pair.Housekeeping();
  auto bodies = pair.sm.BodiesPinningLogBelow(pair.index, 10, 1 << 20);
  ASSERT_EQ(bodies.size(), 1u);
  std::vector<std::string> copies;
  for (const BodyLocation& where : bodies[0].bodies) copies.push_back(pair.Body(where));
  Command cmd = testing::Cmd(CommandType::kMoveBodies, "q");
  cmd.moves = bodies[0].moves;
  for (const std::string& body : copies) cmd.bodies.push_back(body);
  ASSERT_EQ(pair.Apply(cmd).msg_ids.size(), 2u);
  ASSERT_EQ(pair.follower_results.at(0).msg_ids.size(), 2u);
  EXPECT_EQ(pair.sm.Snapshot(), replica.Snapshot()) << "every replica moves the same way";

  auto restored = StateMachine::Restore(pair.sm.Snapshot());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->OldestReferencedLogIndex(), pair.index);
  EXPECT_EQ((*restored)->Snapshot(), pair.sm.Snapshot());
}

TEST_F(MoveBodiesTest, MalformedMovesAreRefused) {
  ApplyResult sent = h.Send("stuck", Strings({"a"}));
  Command cmd = testing::Cmd(CommandType::kMoveBodies, "stuck");
  cmd.moves = {BodyMove{sent.msg_ids[0], h.index}};
  cmd.bodies = {"a"};
  cmd.moves[0].msg_id = (uint64_t{8} << kMessageSeqBits) | 1;  // group 8's
  EXPECT_EQ(h.Apply(cmd).status.code(), ErrorCode::kInvalidArgument);
  cmd.moves[0].msg_id = sent.msg_ids[0];
  cmd.bodies = {"longer"};  // not the body's length: not the same message
  EXPECT_TRUE(h.Apply(cmd).msg_ids.empty());
  cmd.queue_name = "missing";
  EXPECT_EQ(h.Apply(cmd).status.code(), ErrorCode::kQueueNotExist);
}

}  // namespace
}  // namespace cmq::mq
