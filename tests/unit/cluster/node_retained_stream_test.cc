// A follower cut off while the leader's log moved on comes back through a snapshot whose
// retained log entries are streamed into its staging log first (cluster/retained_stream.h):
// three in-memory nodes, every snapshot's run streamed (snapshot_inline_bytes = 0), a
// chunk lost on the way, and a crash of the follower after the install. It must serve
// every body afterwards, as leader, from its own log.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "cluster/group_snapshot.h"
#include "cluster/retained_stream.h"
#include "raft/codec.h"
#include "unit/cluster/in_memory_cluster.h"

namespace cmq::cluster {
namespace {

using namespace std::chrono_literals;

constexpr size_t kMessages = 120;
constexpr size_t kBodyBytes = 60 << 10;  // 7.2 MB in all: several 1 MiB chunks

class NodeRetainedStreamTest : public testing::InMemoryCluster {
 protected:
  NodeOptions Options(uint64_t id) override {
    NodeOptions options = InMemoryCluster::Options(id);
    options.snapshot_interval_bytes = 256 << 10;
    options.log_segment_bytes = 64 << 10;
    options.snapshot_inline_bytes = 0;  // every retained run is streamed
    options.staging_idle_ms = staging_idle_ms_;
    options.housekeeping_interval_ms = 100;
    return options;
  }
  void Wire(uint64_t id) override {
    InMemoryCluster::Wire(id);
    nodes_[id - 1]->SetStreamSend([this, id](uint64_t to, bool ack, std::string payload) {
      if (cut_[id - 1] || cut_[to - 1]) return false;
      if (ack) ++acks_;
      // Chunks with entries the test loses (as a broken connection loses frames).
      if (!ack && payload.size() > 64) {
        if (lose_chunk_(++chunks_with_entries_)) return true;
        auto chunk = DecodeRetainedChunk(payload);
        std::lock_guard lock(mu_);
        if (chunk.ok() && !chunk->entries.empty()) {
          delivered_.emplace_back(chunk->run_first, chunk->entries.front().index);
        }
      }
      nodes_[to - 1]->OnRetainedFrame(id, ack, std::move(payload));
      return true;
    });
  }

  CommandResult Receive(uint64_t on) { return StartReceive(on, "q", 16).get(); }

  static std::string Body(size_t i) {
    std::string body = "m" + std::to_string(i) + "-";
    body.resize(kBodyBytes, static_cast<char>('a' + i % 26));
    return body;
  }

  std::pair<uint64_t, uint64_t> CutOneFollowerOff();

  std::vector<std::string> bodies_;
  std::atomic<int> chunks_with_entries_{0};
  std::atomic<int> acks_{0};
  int64_t staging_idle_ms_ = 60'000;
  std::mutex mu_;
  std::vector<std::pair<uint64_t, uint64_t>> delivered_;  // (run first, chunk first)
  std::function<bool(int)> lose_chunk_ = [](int n) { return n == 3; };
};

// Node `follower` misses 7.2 MB of sends and comes back; returns it and the leader.
std::pair<uint64_t, uint64_t> NodeRetainedStreamTest::CutOneFollowerOff() {
  const uint64_t leader = WaitForLeader();
  EXPECT_NE(leader, 0u);
  if (leader == 0) return {0, 0};
  mq::Command create;
  create.type = mq::CommandType::kCreateQueue;
  create.queue_name = "q";
  EXPECT_TRUE(Run(leader, create).apply.status.ok());
  const uint64_t follower = leader % 3 + 1;
  EXPECT_TRUE(WaitCaughtUp(follower, leader));
  cut_[follower - 1] = true;

  // 7.2 MB of messages nobody consumes: the leader's snapshots keep the run that holds
  // them (the first few are moved forward into one entry while the queue is small).
  for (size_t i = 0; i < kMessages; ++i) bodies_.push_back(Body(i));
  for (size_t i = 0; i < kMessages; i += 4) {
    mq::Command send;
    send.type = mq::CommandType::kSendMessages;
    send.queue_name = "q";
    for (size_t k = i; k < i + 4; ++k) send.bodies.push_back(bodies_[k]);
    EXPECT_TRUE(Run(leader, send).apply.status.ok());
  }
  NodeStats before = nodes_[leader - 1]->stats();
  EXPECT_GT(before.snapshot_index, nodes_[follower - 1]->stats().applied_index)
      << "the leader took no snapshot past the follower: it would catch up by appends";
  return {leader, follower};
}

TEST_F(NodeRetainedStreamTest, AFollowerComesBackThroughAStreamedRunAndServesEveryBody) {
  auto [leader, follower] = CutOneFollowerOff();
  ASSERT_FALSE(HasFailure());
  cut_[follower - 1] = false;
  ASSERT_TRUE(WaitCaughtUp(follower, leader));
  EXPECT_GE(nodes_[follower - 1]->stats().snapshots_installed, 1u);
  EXPECT_GE(nodes_[leader - 1]->stats().retained_streams, 1u);
  // Several chunks (the third lost and sent again: without that the staged run would have
  // a gap, and the snapshot would never install).
  EXPECT_GE(chunks_with_entries_.load(), 4);

  // The follower crashes right after: the entries it staged must be in its log for good.
  cut_[follower - 1] = true;
  std::this_thread::sleep_for(50ms);  // no sender is inside the node any more
  nodes_[follower - 1]->Stop();
  nodes_[follower - 1].reset();
  fs_[follower - 1].SimulateCrash();
  OpenNode(follower);
  nodes_[follower - 1]->Start();
  cut_[follower - 1] = false;
  ASSERT_TRUE(WaitCaughtUp(follower, leader));

  // It leads now and serves every body from its own log.
  std::promise<Status> moved;
  nodes_[leader - 1]->TransferLeadership(follower, [&moved](Status st) { moved.set_value(st); });
  ASSERT_TRUE(moved.get_future().get().ok());
  ASSERT_EQ(WaitForLeader(follower), follower);
  std::set<std::string> seen;
  for (int round = 0; round < 100 && seen.size() < kMessages; ++round) {
    CommandResult r = Receive(follower);
    if (!r.apply.status.ok()) {  // the handover may still be settling
      std::this_thread::sleep_for(20ms);
      continue;
    }
    ASSERT_EQ(r.bodies.size(), r.apply.messages.size());
    for (const std::string& body : r.bodies) {
      EXPECT_TRUE(seen.insert(body).second) << "received twice";
    }
  }
  ASSERT_EQ(seen.size(), kMessages);
  for (const std::string& body : bodies_) EXPECT_EQ(seen.count(body), 1u) << body.substr(0, 8);
}

TEST_F(NodeRetainedStreamTest, AStreamWhoseChunksInFlightAreAllLostAsksAgain) {
  // Every chunk after the first is lost (the run is about four): no answer comes. The leader
  // asks where the follower stands after 3 s and goes on, long before it would give up.
  lose_chunk_ = [](int n) { return n >= 2 && n <= 5; };
  auto [leader, follower] = CutOneFollowerOff();
  ASSERT_FALSE(HasFailure());
  const auto start = std::chrono::steady_clock::now();
  cut_[follower - 1] = false;
  // Meanwhile the leader reports the stream (cmqctl cluster status shows it): only the
  // first chunk is staged while it waits those 3 s.
  NodeStats::Peer seen;
  for (int i = 0; i < 300 && seen.stream_target == 0; ++i) {
    for (const NodeStats::Peer& p : nodes_[leader - 1]->stats().peers) {
      if (p.id == follower && p.stream_target != 0) seen = p;
    }
    if (seen.stream_target == 0) std::this_thread::sleep_for(10ms);
  }
  ASSERT_NE(seen.stream_target, 0u) << "the leader did not report its stream";
  EXPECT_LT(seen.stream_first, seen.stream_target);
  EXPECT_GE(seen.stream_staged_next, seen.stream_first);
  EXPECT_LE(seen.stream_staged_next, seen.stream_target);  // not all staged yet
  ASSERT_TRUE(WaitCaughtUp(follower, leader));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  EXPECT_GE(nodes_[follower - 1]->stats().snapshots_installed, 1u);
  EXPECT_GE(chunks_with_entries_.load(), 6);
}

TEST_F(NodeRetainedStreamTest, AFollowerRestartedMidStreamResumesWhereItsStagingEnds) {
  // Two chunks get through, then nothing, and the follower restarts: what it staged stays,
  // and the leader's stream goes on from there instead of from the run's start.
  std::atomic<bool> deliver_all{false};
  lose_chunk_ = [&deliver_all](int n) { return n >= 3 && !deliver_all; };
  auto [leader, follower] = CutOneFollowerOff();
  ASSERT_FALSE(HasFailure());
  cut_[follower - 1] = false;
  for (int i = 0; i < 1000 && acks_ < 3; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_GE(acks_.load(), 3) << "the question and two chunks were not answered";
  cut_[follower - 1] = true;
  std::this_thread::sleep_for(50ms);  // no sender is inside the node any more
  nodes_[follower - 1]->Stop();
  nodes_[follower - 1].reset();
  OpenNode(follower);
  nodes_[follower - 1]->Start();
  {
    std::lock_guard lock(mu_);
    delivered_.clear();
  }
  deliver_all = true;
  cut_[follower - 1] = false;
  ASSERT_TRUE(WaitCaughtUp(follower, leader));
  EXPECT_GE(nodes_[follower - 1]->stats().snapshots_installed, 1u);
  std::lock_guard lock(mu_);
  ASSERT_FALSE(delivered_.empty());
  EXPECT_GT(delivered_.front().second, delivered_.front().first)
      << "the stream started over from the run's first entry";
}

TEST_F(NodeRetainedStreamTest, AStagingLogNoChunkReachesIsEmptiedAfterAWhile) {
  // Two chunks get through, then the follower is cut off for good: what it staged is of
  // no use, and after staging_idle_ms (here 1 s, after a restart with that setting) it is
  // emptied, freeing its disk.
  lose_chunk_ = [](int n) { return n >= 3; };
  auto [leader, follower] = CutOneFollowerOff();
  ASSERT_FALSE(HasFailure());
  cut_[follower - 1] = false;
  for (int i = 0; i < 1000 && acks_ < 3; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_GE(acks_.load(), 3);
  cut_[follower - 1] = true;
  std::this_thread::sleep_for(50ms);
  nodes_[follower - 1]->Stop();
  nodes_[follower - 1].reset();
  staging_idle_ms_ = 1000;
  OpenNode(follower);
  nodes_[follower - 1]->Start();
  EXPECT_GT(nodes_[follower - 1]->stats().staged_entries, 0u) << "kept across the restart";
  uint64_t staged = 1;
  for (int i = 0; i < 500 && staged != 0; ++i) {
    std::this_thread::sleep_for(10ms);
    staged = nodes_[follower - 1]->stats().staged_entries;
  }
  EXPECT_EQ(staged, 0u) << "still staged 5 s after the last chunk";
}

TEST_F(NodeRetainedStreamTest, AStagedSnapshotWhoseRunIsNotStagedIsDropped) {
  // A staged snapshot reaching a follower whose staging log lacks its run (the follower
  // emptied it, or a bug) must not be stepped: installing it would fail the log write and
  // stop the replica. It is dropped, and the replica goes on replicating.
  const uint64_t leader = WaitForLeader();
  ASSERT_NE(leader, 0u);
  mq::Command create;
  create.type = mq::CommandType::kCreateQueue;
  create.queue_name = "q";
  ASSERT_TRUE(Run(leader, create).apply.status.ok());
  const uint64_t follower = leader % 3 + 1;
  ASSERT_TRUE(WaitCaughtUp(follower, leader));

  raft::Message m;
  m.type = raft::MessageType::kSnap;
  m.from = leader;
  m.to = follower;
  m.term = nodes_[leader - 1]->leader_term();
  raft::Snapshot snap;
  snap.meta.index = 1000;  // far ahead: the core would take it
  snap.meta.term = m.term;
  snap.meta.conf_state.voters = {1, 2, 3};
  snap.data = raft::MakePayload(
      EncodeStagedSnapshot(900, {}, mq::StateMachine(1, 1).Snapshot(), /*staged_first=*/900));
  m.snapshot = std::move(snap);
  nodes_[follower - 1]->StepRaft(raft::EncodeMessage(m));

  mq::Command send;
  send.type = mq::CommandType::kSendMessages;
  send.queue_name = "q";
  send.bodies = {"after the bogus snapshot"};
  ASSERT_TRUE(Run(leader, send).apply.status.ok());
  ASSERT_TRUE(WaitCaughtUp(follower, leader));
  NodeStats f = nodes_[follower - 1]->stats();
  EXPECT_EQ(f.snapshots_installed, 0u);
  EXPECT_LT(f.applied_index, 1000u);
  EXPECT_EQ(f.applied_index, nodes_[leader - 1]->stats().commit_index);
}

}  // namespace
}  // namespace cmq::cluster
