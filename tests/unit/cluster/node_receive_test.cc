// Receives answered before their commit (docs/queue-model.md): three in-memory nodes. The
// leader answers a receive once its kReceiveChosen is in its log, even when no follower
// can take it; if that entry then commits, every replica holds the messages in flight
// under the handles the client got; if it never commits, a new leader delivers them
// again (at least once) and the old handles no longer delete.

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "raft/codec.h"
#include "unit/cluster/in_memory_cluster.h"

namespace cmq::cluster {
namespace {

using namespace std::chrono_literals;

class NodeReceiveTest : public testing::InMemoryCluster {
 protected:
  std::future<CommandResult> Receive(uint64_t on, uint32_t n, int64_t wait_s = 0) {
    return StartReceive(on, "q", n, wait_s);
  }

  CommandResult Delete(uint64_t on, uint64_t handle) {
    mq::Command del;
    del.type = mq::CommandType::kDeleteMessages;
    del.queue_name = "q";
    del.receipt_handles = {handle};
    return Run(on, del);
  }

  // A queue "q" holding `bodies`, applied on every node.
  uint64_t Setup(const std::vector<std::string>& bodies) {
    const uint64_t leader = WaitForLeader();
    EXPECT_NE(leader, 0u);
    if (leader == 0) return 0;
    mq::Command create;
    create.type = mq::CommandType::kCreateQueue;
    create.queue_name = "q";
    EXPECT_TRUE(Run(leader, create).apply.status.ok());
    mq::Command send;
    send.type = mq::CommandType::kSendMessages;
    send.queue_name = "q";
    for (const std::string& b : bodies) send.bodies.push_back(b);
    if (!bodies.empty()) {
      EXPECT_TRUE(Run(leader, send).apply.status.ok());
    }
    for (uint64_t id = 1; id <= 3; ++id) EXPECT_TRUE(WaitCaughtUp(id, leader));
    return leader;
  }

  // The queue's counters as the leader `on` reads them (once its lease lets it).
  mq::QueueInfo Info(uint64_t on) {
    Result<mq::QueueInfo> info = Status(ErrorCode::kUnavailable, "not asked");
    for (int i = 0; i < 300 && !info.ok(); ++i) {
      std::promise<Result<mq::QueueInfo>> done;
      auto f = done.get_future();
      nodes_[on - 1]->GetQueue("q", [&done](Result<mq::QueueInfo> r) { done.set_value(r); });
      info = f.get();
      if (!info.ok()) std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? *info : mq::QueueInfo{};
  }
};

TEST_F(NodeReceiveTest, AReceiveIsAnsweredBeforeItCommitsAndItsHandleDeletesOnceItDoes) {
  const uint64_t leader = Setup({"a", "b"});
  ASSERT_NE(leader, 0u);
  const uint64_t commit_before = nodes_[leader - 1]->stats().commit_index;
  // Both followers unreachable: nothing the leader proposes can commit.
  for (uint64_t id = 1; id <= 3; ++id) cut_[id - 1] = id != leader;

  auto f = Receive(leader, 1);
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready) << "not answered before the commit";
  CommandResult r = f.get();
  ASSERT_TRUE(r.apply.status.ok()) << r.apply.status.ToString();
  ASSERT_EQ(r.bodies, std::vector<std::string>{"a"});
  NodeStats stats = nodes_[leader - 1]->stats();
  EXPECT_EQ(stats.commit_index, commit_before) << "the receive must not have committed yet";
  EXPECT_EQ(stats.receives_answered_at_proposal, 1u);
  // The second receive gets the other message, not the reserved one.
  CommandResult second = Receive(leader, 16).get();
  ASSERT_EQ(second.bodies, std::vector<std::string>{"b"});

  for (auto& c : cut_) c = false;
  // The delete follows the receive in the log, so it applies after it.
  CommandResult del = Delete(leader, r.apply.messages[0].receipt_handle);
  ASSERT_TRUE(del.apply.status.ok()) << del.apply.status.ToString();
  for (uint64_t id = 1; id <= 3; ++id) ASSERT_TRUE(WaitCaughtUp(id, leader));
  EXPECT_EQ(Info(leader).inactive_msg_num, 1u) << "\"b\" in flight, \"a\" deleted";
  EXPECT_EQ(Info(leader).active_msg_num, 0u);
}

TEST_F(NodeReceiveTest, AReceiveThatNeverCommitsIsDeliveredAgainByTheNextLeader) {
  const uint64_t old_leader = Setup({"a"});
  ASSERT_NE(old_leader, 0u);
  cut_[old_leader - 1] = true;  // the leader alone: its receive never commits
  CommandResult lost = Receive(old_leader, 1).get();
  ASSERT_EQ(lost.bodies, std::vector<std::string>{"a"});

  const uint64_t new_leader = WaitForLeader(0, old_leader);
  ASSERT_NE(new_leader, 0u);
  ASSERT_NE(new_leader, old_leader);
  // At least once: the message is delivered again, as a first delivery.
  CommandResult again = Receive(new_leader, 1, 5).get();
  ASSERT_TRUE(again.apply.status.ok()) << again.apply.status.ToString();
  ASSERT_EQ(again.bodies, std::vector<std::string>{"a"});
  EXPECT_EQ(again.apply.messages[0].dequeue_count, 1u);
  // A handle names the message and its delivery count, so the lost receive's handle is
  // the new one (docs/queue-model.md): whichever consumer deletes first, deletes it once.
  EXPECT_EQ(again.apply.messages[0].receipt_handle, lost.apply.messages[0].receipt_handle);
  ASSERT_TRUE(Delete(new_leader, lost.apply.messages[0].receipt_handle).apply.status.ok());
  EXPECT_EQ(Delete(new_leader, again.apply.messages[0].receipt_handle).apply.status.code(),
            ErrorCode::kReceiptHandleInvalid);

  // The old leader comes back as a follower: its entry is replaced, its reservation gone.
  cut_[old_leader - 1] = false;
  const uint64_t leader_now = WaitForLeader();
  ASSERT_NE(leader_now, 0u);
  mq::Command send;
  send.type = mq::CommandType::kSendMessages;
  send.queue_name = "q";
  send.bodies = {"c"};
  ASSERT_TRUE(Run(leader_now, send).apply.status.ok());
  for (uint64_t id = 1; id <= 3; ++id) ASSERT_TRUE(WaitCaughtUp(id, leader_now));
  // Leadership on the old leader: it serves from the committed state alone.
  if (leader_now != old_leader) {
    std::promise<Status> moved;
    nodes_[leader_now - 1]->TransferLeadership(old_leader,
                                               [&moved](Status st) { moved.set_value(st); });
    ASSERT_TRUE(moved.get_future().get().ok());
  }
  ASSERT_EQ(WaitForLeader(old_leader), old_leader);
  CommandResult last = Receive(old_leader, 16, 5).get();
  ASSERT_TRUE(last.apply.status.ok()) << last.apply.status.ToString();
  EXPECT_EQ(last.bodies, std::vector<std::string>{"c"}) << "\"a\" was deleted";
}

// What a new leader's applied state lacks: entries the old leader committed that it has
// not been told of (a commit index travels with the next append or heartbeat). Until it
// has applied an entry of its own term, a new leader must not choose messages from that
// state: the test makes the new leader hold a committed receive it has not applied, and
// checks that it does not deliver that receive's message a second time.
class NodeNewLeaderReceiveTest : public NodeReceiveTest {
 protected:
  void Wire(uint64_t id) override {
    nodes_[id - 1]->SetRaftSend([this, id](uint64_t to, std::string message) {
      if (cut_[id - 1] || cut_[to - 1]) return false;
      auto m = raft::DecodeMessage(message);
      if (m.ok()) {
        // The new leader's appends are lost: nothing it proposes commits.
        if (m->type == raft::MessageType::kApp && id == drop_appends_of_) return true;
        // Heartbeat answers are lost: the lease lapses while append answers keep the leader.
        if (m->type == raft::MessageType::kHeartbeatResp && drop_heartbeat_answers_) return true;
        // The node that is to lead next gets the entries but never a commit index past
        // commit_cap_ (a leader may always send a lower one).
        const bool carries_commit =
            m->type == raft::MessageType::kApp || m->type == raft::MessageType::kHeartbeat;
        if (carries_commit && to == hide_commit_from_ && m->commit > commit_cap_) {
          m->commit = commit_cap_;
          message = raft::EncodeMessage(*m);
        }
      }
      nodes_[to - 1]->StepRaft(message);
      return true;
    });
  }
  std::atomic<uint64_t> hide_commit_from_{0};
  std::atomic<uint64_t> commit_cap_{0};
  std::atomic<bool> drop_heartbeat_answers_{false};
  std::atomic<uint64_t> drop_appends_of_{0};
};

TEST_F(NodeNewLeaderReceiveTest, ANewLeaderDoesNotChooseFromStateItHasNotCaughtUpOn) {
  const uint64_t old_leader = Setup({"a"});
  ASSERT_NE(old_leader, 0u);
  const uint64_t next = old_leader % 3 + 1;
  commit_cap_ = nodes_[old_leader - 1]->stats().commit_index;
  hide_commit_from_ = next;
  CommandResult first = Receive(old_leader, 1).get();
  ASSERT_EQ(first.bodies, std::vector<std::string>{"a"});
  // The receive (the old leader's last entry) commits, and `next` holds it in its log but
  // was never told it committed.
  uint64_t receive_index = 0;
  for (int i = 0; i < 300 && receive_index == 0; ++i) {
    const NodeStats st = nodes_[old_leader - 1]->stats();
    if (st.last_index > commit_cap_ && st.commit_index >= st.last_index) {
      receive_index = st.last_index;
    } else {
      std::this_thread::sleep_for(10ms);
    }
  }
  ASSERT_NE(receive_index, 0u) << "the receive did not commit";
  for (int i = 0; i < 300 && nodes_[next - 1]->stats().last_index < receive_index; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_GE(nodes_[next - 1]->stats().last_index, receive_index);

  drop_appends_of_ = next;
  std::promise<Status> moved;
  nodes_[old_leader - 1]->TransferLeadership(next, [&moved](Status st) { moved.set_value(st); });
  ASSERT_TRUE(moved.get_future().get().ok());
  ASSERT_EQ(WaitForLeader(next), next);
  ASSERT_LT(nodes_[next - 1]->stats().applied_index, receive_index)
      << "the new leader learned of the commit: the test proves nothing";

  // Its applied state still shows "a" visible. It must advance the queue first and choose
  // at the apply, which waits for an entry of its term to commit.
  const uint64_t advances_before = nodes_[next - 1]->stats().receive_advances;
  auto second = Receive(next, 1);
  EXPECT_EQ(second.wait_for(300ms), std::future_status::timeout)
      << "answered from state the new leader had not caught up on";
  EXPECT_EQ(nodes_[next - 1]->stats().receive_advances, advances_before + 1);
  EXPECT_EQ(nodes_[next - 1]->stats().receives_answered_at_proposal, 0u);

  drop_appends_of_ = 0;
  hide_commit_from_ = 0;
  ASSERT_EQ(second.wait_for(10s), std::future_status::ready);
  CommandResult r = second.get();
  EXPECT_EQ(r.apply.status.code(), ErrorCode::kNoMessage)
      << "\"a\" is in flight under the first receive, delivered twice";
  EXPECT_TRUE(r.bodies.empty());
  // The first receive's handle still deletes it.
  ASSERT_TRUE(Delete(next, first.apply.messages[0].receipt_handle).apply.status.ok());
}

// A leader whose lease lapsed (no quorum acknowledged its recent heartbeats) may have been
// replaced without knowing it: it must not answer a receive from its applied state. Here
// the followers' heartbeat answers are lost while their append answers keep the leader in
// office, so the leader is a leader without a lease for as long as the test needs.
class NodeLeaseReceiveTest : public NodeNewLeaderReceiveTest {};

TEST_F(NodeLeaseReceiveTest, ALeaderWithoutALeaseChoosesOnlyAfterItsAdvanceCommits) {
  const uint64_t leader = Setup({"a"});
  ASSERT_NE(leader, 0u);
  mq::Command create;
  create.type = mq::CommandType::kCreateQueue;
  create.queue_name = "k";
  ASSERT_TRUE(Run(leader, create).apply.status.ok());

  drop_heartbeat_answers_ = true;
  // Sends to another queue every 10 ms: their append answers keep the leader in office.
  std::atomic<bool> stop{false};
  std::thread keep_alive([&] {
    while (!stop) {
      mq::Command send;
      send.type = mq::CommandType::kSendMessages;
      send.queue_name = "k";
      send.bodies = {"ping"};
      Run(leader, send);
      std::this_thread::sleep_for(10ms);
    }
  });
  // Until the leader's reads say its lease lapsed.
  Status read = Status::Ok();
  for (int i = 0; i < 200 && read.ok(); ++i) {
    std::promise<Result<mq::QueueInfo>> done;
    auto f = done.get_future();
    nodes_[leader - 1]->GetQueue("q", [&done](Result<mq::QueueInfo> r) { done.set_value(r); });
    read = f.get().status();
    if (read.ok()) std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(read.code(), ErrorCode::kUnavailable) << "the lease never lapsed";

  const NodeStats before = nodes_[leader - 1]->stats();
  CommandResult r = Receive(leader, 1).get();
  const NodeStats after = nodes_[leader - 1]->stats();
  stop = true;
  keep_alive.join();
  ASSERT_EQ(nodes_[leader - 1]->leader_id(), leader) << "the test needs the leader in office";
  ASSERT_TRUE(r.apply.status.ok()) << r.apply.status.ToString();
  EXPECT_EQ(r.bodies, std::vector<std::string>{"a"}) << "chosen at the advance's apply";
  // First an advance through the log (not a choice from the applied state), then the
  // choice at its apply.
  EXPECT_EQ(after.receive_advances, before.receive_advances + 1)
      << "answered from the applied state without a lease";
  EXPECT_EQ(after.receives_answered_at_proposal, before.receives_answered_at_proposal + 1);
}

TEST_F(NodeReceiveTest, ParkedReceiversOfADelayedMessageAdvanceTheQueueThenOneGetsIt) {
  const uint64_t leader = Setup({});
  ASSERT_NE(leader, 0u);
  mq::Command send;
  send.type = mq::CommandType::kSendMessages;
  send.queue_name = "q";
  send.bodies = {"later"};
  send.delay_seconds = 1;
  ASSERT_TRUE(Run(leader, send).apply.status.ok());
  auto first = Receive(leader, 1, 5);
  auto second = Receive(leader, 1, 2);
  CommandResult got = first.get();
  ASSERT_TRUE(got.apply.status.ok()) << got.apply.status.ToString();
  EXPECT_EQ(got.bodies, std::vector<std::string>{"later"});
  EXPECT_EQ(second.get().apply.status.code(), ErrorCode::kNoMessage) << "delivered twice";
  NodeStats stats = nodes_[leader - 1]->stats();
  EXPECT_GE(stats.receive_advances, 1u) << "the due message became visible in an entry";
  EXPECT_EQ(stats.receives_answered_at_proposal, 1u);
  for (uint64_t id = 1; id <= 3; ++id) ASSERT_TRUE(WaitCaughtUp(id, leader));
  EXPECT_EQ(Info(leader).inactive_msg_num, 1u);
}

}  // namespace
}  // namespace cmq::cluster
