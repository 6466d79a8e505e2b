// Snapshots bound the log: old segments go once a snapshot covers them and no retained
// message body lives in them; a restart restores the snapshot and replays only the rest.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "cluster/node.h"
#include "storage/fault_injection_file_system.h"
#include "storage/segment_file.h"

namespace cmq::cluster {
namespace {

class NodeSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void TearDown() override {
    if (node_) node_->Stop();
  }

  void Reopen() {
    if (node_) node_->Stop();
    node_.reset();
    NodeOptions options;
    options.data_dir = "/data";
    options.snapshot_interval_bytes = 16 << 10;
    options.log_segment_bytes = 8 << 10;
    if (housekeeping_ms_ > 0) options.housekeeping_interval_ms = housekeeping_ms_;
    auto node = Node::Open(&fs_, &clock_, options);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::move(node).value();
    node_->Start();
  }

  void Crash() {
    node_->Stop();
    node_.reset();
    fs_.SimulateCrash();
    Reopen();
  }

  CommandResult Run(const mq::Command& cmd) {
    std::promise<CommandResult> done;
    auto f = done.get_future();
    if (cmd.type == mq::CommandType::kReceiveMessages) {
      node_->Receive(cmd, 0, [&done](CommandResult r) { done.set_value(std::move(r)); });
    } else {
      node_->Submit(cmd, [&done](CommandResult r) { done.set_value(std::move(r)); });
    }
    return f.get();
  }

  void CreateQueue(const std::string& name) {
    mq::Command cmd;
    cmd.type = mq::CommandType::kCreateQueue;
    cmd.queue_name = name;
    ASSERT_TRUE(Run(cmd).apply.status.ok());
  }

  uint64_t Send(const std::string& queue, const std::string& body) {
    mq::Command cmd;
    cmd.type = mq::CommandType::kSendMessages;
    cmd.queue_name = queue;
    cmd.bodies = {body};
    CommandResult r = Run(cmd);
    EXPECT_TRUE(r.apply.status.ok()) << r.apply.status.ToString();
    return r.apply.msg_ids.at(0);
  }

  // Receives up to 16 and deletes them; returns the bodies.
  std::vector<std::string> ReceiveAndDelete(const std::string& queue) {
    mq::Command rc;
    rc.type = mq::CommandType::kReceiveMessages;
    rc.queue_name = queue;
    rc.num_messages = 16;
    CommandResult r = Run(rc);
    if (!r.apply.status.ok()) return {};
    mq::Command del;
    del.type = mq::CommandType::kDeleteMessages;
    del.queue_name = queue;
    for (const auto& m : r.apply.messages) del.receipt_handles.push_back(m.receipt_handle);
    EXPECT_TRUE(Run(del).apply.status.ok());
    return r.bodies;
  }

  int64_t housekeeping_ms_ = 0;  // 0: the default
  SystemClock clock_;
  storage::FaultInjectionFileSystem fs_;
  std::unique_ptr<Node> node_;
};

TEST_F(NodeSnapshotTest, ConsumedMessagesLetTheLogShrinkAndStateSurvivesRestart) {
  CreateQueue("q");
  std::string pad(200, 'x');
  for (int round = 0; round < 30; ++round) {
    for (int i = 0; i < 16; ++i) Send("q", pad + std::to_string(round * 16 + i));
    EXPECT_EQ(ReceiveAndDelete("q").size(), 16u);
  }
  uint64_t last_id = Send("q", "survivor");
  NodeStats stats = node_->stats();
  EXPECT_GE(stats.snapshots, 2u);
  EXPECT_GT(stats.log_first_index, 1u) << "no log segment was dropped";
  // The dropped segments' files go too, on the snapshot thread (they hold up no write):
  // soon no file is older than the log's first entry.
  auto oldest_file = [this] {
    uint64_t oldest = UINT64_MAX;
    auto names = fs_.ListDir("/data/group-1/log");
    EXPECT_TRUE(names.ok()) << names.status().ToString();
    for (const std::string& name : names.ok() ? *names : std::vector<std::string>{}) {
      if (auto base = storage::ParseSegmentFileName(name)) oldest = std::min(oldest, *base);
    }
    return oldest;
  };
  for (int i = 0; i < 200 && oldest_file() < node_->stats().log_first_index; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(oldest_file(), node_->stats().log_first_index)
      << "the files of dropped segments were left behind";
  Crash();
  EXPECT_GT(node_->stats().snapshot_index, 0u);
  std::vector<std::string> bodies = ReceiveAndDelete("q");
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0], "survivor");
  EXPECT_GT(Send("q", "next"), last_id) << "a message id was reused after restoring";
}

TEST_F(NodeSnapshotTest, UnconsumedMessagesKeepTheirSegments) {
  CreateQueue("old");
  CreateQueue("busy");
  for (int i = 0; i < 5; ++i) Send("old", "keep-" + std::to_string(i));
  std::string pad(300, 'y');
  for (int round = 0; round < 30; ++round) {
    for (int i = 0; i < 16; ++i) Send("busy", pad);
    ReceiveAndDelete("busy");
  }
  EXPECT_GE(node_->stats().snapshots, 2u);
  Crash();
  std::vector<std::string> bodies = ReceiveAndDelete("old");
  ASSERT_EQ(bodies.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bodies[i], "keep-" + std::to_string(i));
}

// A few messages nobody consumes no longer keep every later segment: the leader moves
// their bodies forward (kMoveBodies) and the log below them goes.
TEST_F(NodeSnapshotTest, AStuckMessageNoLongerPinsTheLog) {
  CreateQueue("stuck");
  CreateQueue("busy");
  std::vector<uint64_t> stuck_ids;
  for (int i = 0; i < 3; ++i) stuck_ids.push_back(Send("stuck", "stuck-" + std::to_string(i)));
  const uint64_t stuck_entry = node_->stats().last_index;
  std::string pad(300, 'y');
  for (int round = 0; round < 60; ++round) {
    for (int i = 0; i < 16; ++i) Send("busy", pad);
    ReceiveAndDelete("busy");
  }
  NodeStats stats = node_->stats();
  EXPECT_GE(stats.bodies_moved, 3u);
  EXPECT_GT(stats.log_first_index, stuck_entry) << "the stuck messages still pin the log";
  Crash();
  EXPECT_GT(node_->stats().log_first_index, stuck_entry);
  mq::Command rc;
  rc.type = mq::CommandType::kReceiveMessages;
  rc.queue_name = "stuck";
  rc.num_messages = 16;
  CommandResult r = Run(rc);
  ASSERT_TRUE(r.apply.status.ok()) << r.apply.status.ToString();
  ASSERT_EQ(r.apply.messages.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r.apply.messages[i].msg_id, stuck_ids[i]) << "ids and order are kept";
    EXPECT_EQ(r.bodies[i], "stuck-" + std::to_string(i));
  }
}

// The same for a message stuck in flight in a queue that keeps flowing: a move proposed
// while a send to it is on its way finds the queue changed and is a no-op, and housekeeping
// tries again.
TEST_F(NodeSnapshotTest, AMessageStuckInABusyQueueNoLongerPinsTheLog) {
  housekeeping_ms_ = 20;
  Reopen();
  mq::Command create;
  create.type = mq::CommandType::kCreateQueue;
  create.queue_name = "q";
  create.attributes.rewind_seconds = 3600;  // deleted messages stay (and move) too
  ASSERT_TRUE(Run(create).apply.status.ok());
  const uint64_t stuck_id = Send("q", "poison");
  const uint64_t stuck_entry = node_->stats().last_index;
  mq::Command rc;
  rc.type = mq::CommandType::kReceiveMessages;
  rc.queue_name = "q";
  rc.visibility_timeout_s = 43'200;  // received, never deleted while the queue flows
  CommandResult held = Run(rc);
  ASSERT_EQ(held.apply.messages.size(), 1u);
  std::string pad(200, 'b');
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (node_->stats().log_first_index <= stuck_entry &&
         std::chrono::steady_clock::now() < deadline) {
    // Sends in flight together, so that a move is often proposed while one is on its way.
    std::vector<std::future<CommandResult>> sent;
    for (int i = 0; i < 16; ++i) {
      auto done = std::make_shared<std::promise<CommandResult>>();
      sent.push_back(done->get_future());
      mq::Command cmd;
      cmd.type = mq::CommandType::kSendMessages;
      cmd.queue_name = "q";
      cmd.bodies = {pad};
      node_->Submit(cmd, [done](CommandResult r) { done->set_value(std::move(r)); });
    }
    for (auto& f : sent) ASSERT_TRUE(f.get().apply.status.ok());
    EXPECT_EQ(ReceiveAndDelete("q").size(), 16u) << "the stuck message stays in flight";
  }
  EXPECT_GT(node_->stats().log_first_index, stuck_entry) << "the stuck message pins the log";
  EXPECT_GE(node_->stats().bodies_moved, 1u);
  Crash();
  // Its receipt handle still works after the restart; rewound, it comes back first, its
  // body read from where it was moved (its first entry is gone).
  mq::Command del;
  del.type = mq::CommandType::kDeleteMessages;
  del.queue_name = "q";
  del.receipt_handles = {held.apply.messages[0].receipt_handle};
  EXPECT_TRUE(Run(del).apply.status.ok());
  mq::Command rewind;
  rewind.type = mq::CommandType::kRewindQueue;
  rewind.queue_name = "q";
  rewind.rewind_start_s = 0;
  ASSERT_TRUE(Run(rewind).apply.status.ok());
  rc.visibility_timeout_s = 30;
  CommandResult again = Run(rc);
  ASSERT_TRUE(again.apply.status.ok()) << again.apply.status.ToString();
  ASSERT_EQ(again.apply.messages.size(), 1u);
  EXPECT_EQ(again.apply.messages[0].msg_id, stuck_id);
  EXPECT_EQ(again.bodies.at(0), "poison");
}

TEST_F(NodeSnapshotTest, DamagedNewestSnapshotFallsBackToTheOlderOne) {
  CreateQueue("q");
  std::string pad(250, 'z');
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 16; ++i) Send("q", pad);
    ReceiveAndDelete("q");
  }
  for (int i = 0; i < 3; ++i) Send("q", "tail-" + std::to_string(i));
  node_->Stop();
  node_.reset();
  auto names = fs_.ListDir("/data/group-1/snapshots");
  ASSERT_TRUE(names.ok());
  std::vector<std::string> snaps;
  for (const auto& n : names.value()) {
    if (n.rfind("snapshot-", 0) == 0) snaps.push_back(n);
  }
  ASSERT_EQ(snaps.size(), 2u);
  std::sort(snaps.begin(), snaps.end());
  fs_.CorruptByte("/data/group-1/snapshots/" + snaps.back(), 40);
  Reopen();
  std::vector<std::string> bodies = ReceiveAndDelete("q");
  ASSERT_EQ(bodies.size(), 3u);
  EXPECT_EQ(bodies[2], "tail-2");
}

}  // namespace
}  // namespace cmq::cluster
