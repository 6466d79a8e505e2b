#include "cluster/node.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "storage/fault_injection_file_system.h"

namespace cmq::cluster {
namespace {

using namespace std::chrono_literals;

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = std::make_unique<storage::FaultInjectionFileSystem>();
    Reopen();
  }
  void TearDown() override {
    if (node_) node_->Stop();
  }

  void Reopen(int64_t poll_tick_ms = NodeOptions{}.poll_tick_ms) {
    if (node_) node_->Stop();
    node_.reset();
    NodeOptions options;
    options.data_dir = "/data";
    options.poll_tick_ms = poll_tick_ms;
    auto node = Node::Open(fs_.get(), &clock_, options);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::move(node).value();
    node_->SetTransactionCheckListener([this](const mq::TransactionCheck& check) {
      std::lock_guard lock(checks_mu_);
      checks_.push_back(check);
    });
    node_->Start();
  }

  std::vector<mq::TransactionCheck> Checks() {
    std::lock_guard lock(checks_mu_);
    return checks_;
  }

  CommandResult Run(const mq::Command& cmd) {
    std::promise<CommandResult> done;
    auto f = done.get_future();
    node_->Submit(cmd, [&done](CommandResult r) { done.set_value(std::move(r)); });
    return f.get();
  }

  std::future<CommandResult> StartReceive(const std::string& queue, int64_t wait_s, uint32_t n = 1,
                                          AbandonFlag abandoned = nullptr) {
    auto done = std::make_shared<std::promise<CommandResult>>();
    auto f = done->get_future();
    mq::Command cmd;
    cmd.type = mq::CommandType::kReceiveMessages;
    cmd.queue_name = queue;
    cmd.num_messages = n;
    node_->Receive(
        cmd, wait_s, [done](CommandResult r) { done->set_value(std::move(r)); },
        std::move(abandoned));
    return f;
  }

  void CreateQueue(const std::string& name) {
    mq::Command cmd;
    cmd.type = mq::CommandType::kCreateQueue;
    cmd.queue_name = name;
    ASSERT_TRUE(Run(cmd).apply.status.ok());
  }

  uint64_t Send(const std::string& queue, std::string_view body) {
    mq::Command cmd;
    cmd.type = mq::CommandType::kSendMessages;
    cmd.queue_name = queue;
    cmd.bodies = {body};
    CommandResult r = Run(cmd);
    EXPECT_TRUE(r.apply.status.ok()) << r.apply.status.ToString();
    return r.apply.msg_ids.empty() ? 0 : r.apply.msg_ids[0];
  }

  std::mutex checks_mu_;
  std::vector<mq::TransactionCheck> checks_;  // what the check-back listener was told
  SystemClock clock_;
  std::unique_ptr<storage::FaultInjectionFileSystem> fs_;
  std::unique_ptr<Node> node_;
};

TEST_F(NodeTest, SendThenReceiveReturnsTheBody) {
  CreateQueue("q1");
  uint64_t id = Send("q1", "hello");
  CommandResult r = StartReceive("q1", 0).get();
  ASSERT_TRUE(r.apply.status.ok()) << r.apply.status.ToString();
  ASSERT_EQ(r.apply.messages.size(), 1u);
  EXPECT_EQ(r.apply.messages[0].msg_id, id);
  ASSERT_EQ(r.bodies.size(), 1u);
  EXPECT_EQ(r.bodies[0], "hello");
}

TEST_F(NodeTest, AcknowledgedMessagesSurviveACrashAndAreReadFromTheLog) {
  CreateQueue("q1");
  std::vector<uint64_t> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(Send("q1", "body-" + std::to_string(i)));
  node_->Stop();
  node_.reset();
  fs_->SimulateCrash();  // drops whatever was not fsynced: acknowledged sends were
  Reopen();
  CommandResult r = StartReceive("q1", 0, 16).get();
  ASSERT_TRUE(r.apply.status.ok()) << r.apply.status.ToString();
  ASSERT_EQ(r.apply.messages.size(), 16u);
  for (size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(r.apply.messages[i].msg_id, ids[i]);
    EXPECT_EQ(r.bodies[i], "body-" + std::to_string(i));
  }
  // Ids keep growing after a restart: never reused.
  EXPECT_GT(Send("q1", "after"), ids.back());
}

TEST_F(NodeTest, ConcurrentSendsShareFsyncs) {
  CreateQueue("q1");
  uint64_t syncs_before = node_->stats().syncs;
  constexpr int kSends = 200;
  std::vector<std::future<CommandResult>> futures;
  std::vector<std::shared_ptr<std::promise<CommandResult>>> promises;
  for (int i = 0; i < kSends; ++i) {
    auto p = std::make_shared<std::promise<CommandResult>>();
    futures.push_back(p->get_future());
    mq::Command cmd;
    cmd.type = mq::CommandType::kSendMessages;
    cmd.queue_name = "q1";
    std::string body = "m" + std::to_string(i);
    cmd.bodies = {body};
    node_->Submit(cmd, [p](CommandResult r) { p->set_value(std::move(r)); });
  }
  std::set<uint64_t> ids;
  for (auto& f : futures) {
    CommandResult r = f.get();
    ASSERT_TRUE(r.apply.status.ok());
    ids.insert(r.apply.msg_ids.at(0));
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kSends));
  EXPECT_LT(node_->stats().syncs - syncs_before, static_cast<uint64_t>(kSends));
}

// Raft refuses proposals past its uncommitted-bytes budget; applying entries must give the
// budget back, or a node would stop accepting writes after that many bytes in total.
TEST_F(NodeTest, ApplyingReturnsTheUncommittedBudget) {
  node_->Stop();
  node_.reset();
  NodeOptions options;
  options.data_dir = "/data";
  options.raft_max_uncommitted_bytes = 64 << 10;
  auto node = Node::Open(fs_.get(), &clock_, options);
  ASSERT_TRUE(node.ok());
  node_ = std::move(node).value();
  node_->Start();
  CreateQueue("q1");
  std::string body(4096, 'b');
  for (int i = 0; i < 100; ++i) Send("q1", body);  // 400 KiB in all, one at a time
}

TEST_F(NodeTest, ReceiveOfMissingQueueFails) {
  CommandResult r = StartReceive("nope", 1).get();
  EXPECT_EQ(r.apply.status.code(), ErrorCode::kQueueNotExist);
}

TEST_F(NodeTest, LongPollTimesOutWithNoMessage) {
  CreateQueue("q1");
  auto start = std::chrono::steady_clock::now();
  CommandResult r = StartReceive("q1", 1).get();
  EXPECT_EQ(r.apply.status.code(), ErrorCode::kNoMessage);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 950ms);
}

TEST_F(NodeTest, LongPollIsWokenByASend) {
  CreateQueue("q1");
  auto f = StartReceive("q1", 20);
  std::this_thread::sleep_for(100ms);
  ASSERT_EQ(f.wait_for(0ms), std::future_status::timeout);  // parked, not answered
  Send("q1", "wake");
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  CommandResult r = f.get();
  ASSERT_TRUE(r.apply.status.ok());
  EXPECT_EQ(r.bodies.at(0), "wake");
}

// A long poll whose client is gone (AbandonFlag set) takes no message: it answers "no
// message", and the send's wake-up goes to the next live waiter instead. (The poll tick,
// which would find the message too, is slowed down to a minute here.)
TEST_F(NodeTest, AnAbandonedLongPollTakesNoMessageAndPassesItsWakeUpOn) {
  Reopen(60'000);
  CreateQueue("q1");
  auto flag = std::make_shared<std::atomic<bool>>(false);
  auto gone = StartReceive("q1", 30, 1, flag);
  std::this_thread::sleep_for(100ms);
  auto live = StartReceive("q1", 30);
  std::this_thread::sleep_for(100ms);
  ASSERT_EQ(gone.wait_for(0ms), std::future_status::timeout);  // both parked
  flag->store(true);
  Send("q1", "only");
  ASSERT_EQ(live.wait_for(10s), std::future_status::ready) << "the wake-up was used up";
  CommandResult got = live.get();
  ASSERT_TRUE(got.apply.status.ok()) << got.apply.status.ToString();
  EXPECT_EQ(got.bodies.at(0), "only");
  ASSERT_EQ(gone.wait_for(10s), std::future_status::ready);
  CommandResult abandoned = gone.get();
  EXPECT_EQ(abandoned.apply.status.code(), ErrorCode::kNoMessage);
  EXPECT_TRUE(abandoned.apply.messages.empty());
  EXPECT_EQ(node_->stats().receives_abandoned, 1u);
  // Abandoned before it starts: answered at once.
  auto late = StartReceive("q1", 30, 1, flag);
  ASSERT_EQ(late.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(late.get().apply.status.code(), ErrorCode::kNoMessage);
}

TEST_F(NodeTest, LongPollIsWokenWhenADelayedMessageBecomesVisible) {
  CreateQueue("q1");
  mq::Command cmd;
  cmd.type = mq::CommandType::kSendMessages;
  cmd.queue_name = "q1";
  cmd.bodies = {"later"};
  cmd.delay_seconds = 1;
  ASSERT_TRUE(Run(cmd).apply.status.ok());
  CommandResult r = StartReceive("q1", 10).get();
  ASSERT_TRUE(r.apply.status.ok()) << r.apply.status.ToString();
  EXPECT_EQ(r.bodies.at(0), "later");
}

// Transaction messages: the listener hears of due check-backs (the node's housekeeping
// makes them fall due), and a commit wakes a parked receiver.
TEST_F(NodeTest, TransactionCheckBacksReachTheListenerAndACommitWakesAReceiver) {
  CreateQueue("q1");
  mq::Command half;
  half.type = mq::CommandType::kSendHalfMessages;
  half.queue_name = "q1";
  half.bodies = {"half"};
  half.transaction_check_ms = 1'000;
  half.producer = "app@1";
  CommandResult sent = Run(half);
  ASSERT_TRUE(sent.apply.status.ok()) << sent.apply.status.ToString();
  const uint64_t id = sent.apply.msg_ids.at(0);
  auto f = StartReceive("q1", 20);
  for (int i = 0; i < 100 && Checks().empty(); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_FALSE(Checks().empty()) << "no check-back within 5 s";
  EXPECT_EQ(Checks().at(0), (mq::TransactionCheck{"q1", id, "app@1"}));
  ASSERT_EQ(f.wait_for(0ms), std::future_status::timeout);  // half: nothing to receive

  mq::Command commit;
  commit.type = mq::CommandType::kConfirmTransaction;
  commit.queue_name = "q1";
  commit.confirms = {{id, true}};
  ASSERT_EQ(Run(commit).apply.msg_ids, std::vector<uint64_t>{id});
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready) << "the commit did not wake the receiver";
  CommandResult r = f.get();
  ASSERT_TRUE(r.apply.status.ok()) << r.apply.status.ToString();
  EXPECT_EQ(r.bodies.at(0), "half");
}

TEST_F(NodeTest, ManyParkedReceiversEachGetADistinctMessage) {
  CreateQueue("q1");
  std::vector<std::future<CommandResult>> fs;
  for (int i = 0; i < 8; ++i) fs.push_back(StartReceive("q1", 10));
  std::this_thread::sleep_for(50ms);
  for (int i = 0; i < 8; ++i) Send("q1", "m" + std::to_string(i));
  std::set<std::string> got;
  for (auto& f : fs) {
    CommandResult r = f.get();
    ASSERT_TRUE(r.apply.status.ok()) << r.apply.status.ToString();
    got.insert(r.bodies.at(0));
  }
  EXPECT_EQ(got.size(), 8u);
}

TEST_F(NodeTest, StopAnswersParkedReceivers) {
  CreateQueue("q1");
  auto f = StartReceive("q1", 30);
  std::this_thread::sleep_for(50ms);
  node_->Stop();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(f.get().apply.status.code(), ErrorCode::kUnavailable);
}

TEST_F(NodeTest, SyncFailureIsStickyAndLosesNothingAcknowledged) {
  CreateQueue("q1");
  uint64_t acked = Send("q1", "kept");
  fs_->FailNextSync();
  mq::Command cmd;
  cmd.type = mq::CommandType::kSendMessages;
  cmd.queue_name = "q1";
  cmd.bodies = {"lost"};
  EXPECT_FALSE(Run(cmd).apply.status.ok());
  // Later writes are refused even though the disk "recovered".
  CommandResult again = Run(cmd);
  EXPECT_EQ(again.apply.status.code(), ErrorCode::kLogFailed);
  node_->Stop();
  node_.reset();
  fs_->SimulateCrash();
  Reopen();
  CommandResult r = StartReceive("q1", 0, 16).get();
  ASSERT_TRUE(r.apply.status.ok());
  EXPECT_EQ(r.apply.messages.at(0).msg_id, acked);
  EXPECT_EQ(r.bodies.at(0), "kept");
}

}  // namespace
}  // namespace cmq::cluster
