// A leader whose fsync stalls keeps its group: its heartbeats go out while the disk works
// (Node::OnRaftTick), so the followers do not elect another leader, and the write that
// was waiting for the disk is acknowledged once the disk returns.

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/node.h"
#include "storage/fault_injection_file_system.h"

namespace cmq::cluster {
namespace {

using namespace std::chrono_literals;

// A gate the log's fsyncs wait at while it is closed.
class SyncGate {
 public:
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  void Open() {
    {
      std::lock_guard lock(mu_);
      closed_ = false;
    }
    cv_.notify_all();
  }
  void PassOrWait() {
    std::unique_lock lock(mu_);
    if (closed_) ++waiting_;
    cv_.wait(lock, [this] { return !closed_; });
  }
  int waited() {
    std::lock_guard lock(mu_);
    return waiting_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  int waiting_ = 0;
};

class GatedFile final : public storage::WritableFile {
 public:
  GatedFile(std::unique_ptr<storage::WritableFile> file, SyncGate* gate)
      : file_(std::move(file)), gate_(gate) {}
  Status Append(std::string_view data) override { return file_->Append(data); }
  Status Sync() override {
    gate_->PassOrWait();
    return file_->Sync();
  }
  Status Preallocate(uint64_t bytes) override { return file_->Preallocate(bytes); }
  uint64_t Size() const override { return file_->Size(); }
  Status Close() override { return file_->Close(); }

 private:
  std::unique_ptr<storage::WritableFile> file_;
  SyncGate* gate_;
};

// The in-memory file system, with the fsyncs of appended files (the Raft log) gated.
class GatedFileSystem final : public storage::FileSystem {
 public:
  SyncGate gate;

  Result<std::unique_ptr<storage::WritableFile>> OpenAppendable(const std::string& path) override {
    auto file = fs_.OpenAppendable(path);
    if (!file.ok()) return file.status();
    return std::unique_ptr<storage::WritableFile>(
        std::make_unique<GatedFile>(std::move(file).value(), &gate));
  }
  Result<std::unique_ptr<storage::RandomAccessFile>> OpenReadable(
      const std::string& path) override {
    return fs_.OpenReadable(path);
  }
  Status WriteFileAtomic(const std::string& path, std::string_view data) override {
    return fs_.WriteFileAtomic(path, data);
  }
  Result<std::string> ReadFile(const std::string& path) override { return fs_.ReadFile(path); }
  Status CreateDir(const std::string& path) override { return fs_.CreateDir(path); }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return fs_.ListDir(path);
  }
  bool Exists(const std::string& path) override { return fs_.Exists(path); }
  Status Remove(const std::string& path) override { return fs_.Remove(path); }
  Status Truncate(const std::string& path, uint64_t size) override {
    return fs_.Truncate(path, size);
  }
  Status SyncDir(const std::string& path) override { return fs_.SyncDir(path); }
  void FailNextSync() { fs_.FailNextSync(); }  // EIO, as a dying or full disk answers

 private:
  storage::FaultInjectionFileSystem fs_;
};

constexpr int64_t kTickMs = 10;
constexpr int kElectionTick = 10;  // elections after 100-200 ms without a leader

class NodeDiskStallTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(NodeOptions{}.max_disk_stall_heartbeat_ms); }
  void Start(int64_t max_disk_stall_heartbeat_ms) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      NodeOptions options;
      options.data_dir = "/data";
      options.node_id = i + 1;
      options.voters = {1, 2, 3};
      options.raft_tick_ms = kTickMs;
      options.election_tick = kElectionTick;
      options.max_disk_stall_heartbeat_ms = max_disk_stall_heartbeat_ms;
      if (max_uncommitted_bytes_ > 0) options.raft_max_uncommitted_bytes = max_uncommitted_bytes_;
      auto node = Node::Open(&fs_[i], &clock_, options);
      ASSERT_TRUE(node.ok()) << node.status().ToString();
      nodes_[i] = std::move(node).value();
      nodes_[i]->SetRaftSend([this](uint64_t to, std::string message) {
        nodes_[to - 1]->StepRaft(message);
        return true;
      });
    }
    for (auto& node : nodes_) node->Start();
  }
  void TearDown() override {
    for (auto& fs : fs_) fs.gate.Open();
    for (auto& node : nodes_) {
      if (node) node->Stop();
    }
  }

  // The node all three agree leads, once they do.
  uint64_t WaitForLeader() {
    for (int i = 0; i < 500; ++i) {
      const uint64_t lead = nodes_[0]->leader_id();
      if (lead != 0 && nodes_[1]->leader_id() == lead && nodes_[2]->leader_id() == lead &&
          nodes_[lead - 1]->leader_term() == nodes_[0]->leader_term()) {
        return lead;
      }
      std::this_thread::sleep_for(10ms);
    }
    return 0;
  }

  CommandResult Run(uint64_t on, const mq::Command& cmd) {
    std::promise<CommandResult> done;
    auto f = done.get_future();
    nodes_[on - 1]->Submit(cmd, [&done](CommandResult r) { done.set_value(std::move(r)); });
    return f.get();
  }

  // The leader, once elected and holding queue "q"; 0 if that failed (reported).
  uint64_t LeaderWithQueue() {
    const uint64_t leader = WaitForLeader();
    if (leader == 0) {
      ADD_FAILURE() << "no leader elected";
      return 0;
    }
    mq::Command create;
    create.type = mq::CommandType::kCreateQueue;
    create.queue_name = "q";
    const Status st = Run(leader, create).apply.status;
    EXPECT_TRUE(st.ok()) << st.ToString();
    return st.ok() ? leader : 0;
  }

  // The command refers to the body: a string literal outlives it.
  static mq::Command SendTo(const char* body) {
    mq::Command send;
    send.type = mq::CommandType::kSendMessages;
    send.queue_name = "q";
    send.bodies = {body};
    return send;
  }

  uint64_t max_uncommitted_bytes_ = 0;  // 0: the default
  SystemClock clock_;
  std::array<GatedFileSystem, 3> fs_;
  std::array<std::unique_ptr<Node>, 3> nodes_;
};

TEST_F(NodeDiskStallTest, ALeaderWhoseFsyncStallsKeepsItsGroupAndAcknowledgesAfterwards) {
  const uint64_t leader = LeaderWithQueue();
  ASSERT_NE(leader, 0u);
  const uint64_t term = nodes_[leader - 1]->leader_term();

  // The leader's disk stalls for ten election timeouts with a send in its log write.
  fs_[leader - 1].gate.Close();
  std::promise<CommandResult> sent;
  auto sent_result = sent.get_future();
  nodes_[leader - 1]->Submit(SendTo("written through a stalled disk"),
                             [&sent](CommandResult r) { sent.set_value(std::move(r)); });
  const auto stall = std::chrono::milliseconds(10 * 2 * kElectionTick * kTickMs);
  const auto until = std::chrono::steady_clock::now() + stall;
  while (std::chrono::steady_clock::now() < until) {
    for (const auto& node : nodes_) {
      ASSERT_EQ(node->leader_id(), leader) << "another leader was elected during the stall";
      ASSERT_EQ(node->leader_term(), term);
    }
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(fs_[leader - 1].gate.waited(), 1);  // the send's write was held all along

  fs_[leader - 1].gate.Open();
  ASSERT_EQ(sent_result.wait_for(5s), std::future_status::ready);
  CommandResult r = sent_result.get();
  ASSERT_TRUE(r.apply.status.ok()) << r.apply.status.ToString();
  EXPECT_EQ(r.apply.msg_ids.size(), 1u);
  EXPECT_EQ(nodes_[leader - 1]->leader_term(), term);
}

// A send is answered once a quorum holds it on disk, even while the leader's own fsync of
// it stalls: the leader counts itself only once its write is done, so its two followers
// commit the entry, and the leader applies it without waiting for its disk
// (RawNode::TakeCommittedEntries).
TEST_F(NodeDiskStallTest, ASendIsAnsweredOnceTheFollowersHoldItWhileTheLeadersFsyncStalls) {
  const uint64_t leader = LeaderWithQueue();
  ASSERT_NE(leader, 0u);
  // The queue's creation was answered once the followers held it; let the leader's own
  // fsync of it finish before the gate closes (a send waits for the disk to be free).
  std::this_thread::sleep_for(100ms);
  const uint64_t before = nodes_[leader - 1]->stats().applied_while_persisting;

  fs_[leader - 1].gate.Close();
  std::promise<CommandResult> sent;
  auto sent_result = sent.get_future();
  nodes_[leader - 1]->Submit(SendTo("on the followers' disks first"),
                             [&sent](CommandResult r) { sent.set_value(std::move(r)); });
  if (sent_result.wait_for(2s) != std::future_status::ready) {
    NodeStats st = nodes_[leader - 1]->stats();
    std::string peers;
    for (const auto& p : st.peers) {
      peers += " [" + std::to_string(p.id) + " match " + std::to_string(p.match) + " next " +
               std::to_string(p.next) + " " + p.state + "]";
    }
    fs_[leader - 1].gate.Open();
    sent_result.wait();
    FAIL() << "the send waited for the leader's own fsync: commit " << st.commit_index
           << " applied " << st.applied_index << " last " << st.last_index << peers;
  }
  CommandResult r = sent_result.get();
  EXPECT_TRUE(r.apply.status.ok()) << r.apply.status.ToString();
  // The gate stays closed until the end: the leader's fsync of the entry cannot have
  // completed. (Its disk thread may reach the gate only after the answer.)
  for (int i = 0; i < 200 && fs_[leader - 1].gate.waited() == 0; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(fs_[leader - 1].gate.waited(), 1) << "the leader never wrote the entry";
  EXPECT_GT(nodes_[leader - 1]->stats().applied_while_persisting, before);

  // A receive of it is answered too (its body comes from the leader's memory), and the
  // log catches up once the disk returns.
  std::promise<CommandResult> got;
  auto got_result = got.get_future();
  mq::Command receive;
  receive.type = mq::CommandType::kReceiveMessages;
  receive.queue_name = "q";
  nodes_[leader - 1]->Receive(receive, 0, [&got](CommandResult c) { got.set_value(std::move(c)); });
  ASSERT_EQ(got_result.wait_for(2s), std::future_status::ready);
  CommandResult g = got_result.get();
  ASSERT_TRUE(g.apply.status.ok()) << g.apply.status.ToString();
  EXPECT_EQ(g.bodies, std::vector<std::string>{"on the followers' disks first"});
  fs_[leader - 1].gate.Open();
  EXPECT_TRUE(Run(leader, SendTo("after the stall")).apply.status.ok());
}

// A disk that stays stuck: after max_disk_stall_heartbeat_ms the leader goes silent, and a
// node whose disk works takes the group over and serves.
class NodeStuckDiskTest : public NodeDiskStallTest {
 protected:
  void SetUp() override { Start(300); }
};

TEST_F(NodeStuckDiskTest, ALeaderWhoseDiskStaysStuckGivesTheGroupToAnother) {
  const uint64_t leader = LeaderWithQueue();
  ASSERT_NE(leader, 0u);

  fs_[leader - 1].gate.Close();
  std::promise<CommandResult> stuck;
  auto stuck_result = stuck.get_future();
  nodes_[leader - 1]->Submit(SendTo("sent to the stuck leader"),
                             [&stuck](CommandResult r) { stuck.set_value(std::move(r)); });

  // Another node is elected while the old leader's disk is still stuck...
  uint64_t next = 0;
  for (int i = 0; i < 300 && next == 0; ++i) {
    for (uint64_t id = 1; id <= 3; ++id) {
      if (id != leader && nodes_[id - 1]->leader_id() == id) next = id;
    }
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_NE(next, 0u) << "no other node took over from a leader with a stuck disk";
  // ...and serves.
  CommandResult r = Run(next, SendTo("sent to the new leader"));
  EXPECT_TRUE(r.apply.status.ok()) << r.apply.status.ToString();

  // The stuck send gets an answer once the disk returns: acknowledged, or "retry".
  fs_[leader - 1].gate.Open();
  ASSERT_EQ(stuck_result.wait_for(5s), std::future_status::ready);
  CommandResult old = stuck_result.get();
  EXPECT_TRUE(old.apply.status.ok() || old.apply.status.code() == ErrorCode::kUnavailable)
      << old.apply.status.ToString();
}

// A receive whose messages were reserved but whose proposal the Raft core refuses (too
// much proposed and not yet applied) is answered "retry", and its messages are given back:
// the next receive gets them, as a first delivery.
class NodeTightBudgetTest : public NodeDiskStallTest {
 protected:
  void SetUp() override {
    max_uncommitted_bytes_ = 4096;
    Start(NodeOptions{}.max_disk_stall_heartbeat_ms);
  }
  std::future<CommandResult> Receive(uint64_t on, int64_t wait_s) {
    auto done = std::make_shared<std::promise<CommandResult>>();
    mq::Command receive;
    receive.type = mq::CommandType::kReceiveMessages;
    receive.queue_name = "q";
    nodes_[on - 1]->Receive(receive, wait_s,
                            [done](CommandResult r) { done->set_value(std::move(r)); });
    return done->get_future();
  }
};

TEST_F(NodeTightBudgetTest, AReceiveWhoseProposalIsRefusedGivesItsMessagesBack) {
  const uint64_t leader = LeaderWithQueue();
  ASSERT_NE(leader, 0u);
  std::this_thread::sleep_for(100ms);  // the creation's entry applied: nothing uncommitted
  // The leader's disk stalls: what it proposes now stays unapplied here (the budget counts
  // it), though its followers commit it.
  fs_[leader - 1].gate.Close();
  static const std::string kBig(8192, 'b');  // over the budget by itself
  mq::Command send;
  send.type = mq::CommandType::kSendMessages;
  send.queue_name = "q";
  send.bodies = {kBig};
  CommandResult sent = Run(leader, send);  // answered: the followers hold it
  ASSERT_TRUE(sent.apply.status.ok()) << sent.apply.status.ToString();

  CommandResult refused = Receive(leader, 0).get();
  EXPECT_EQ(refused.apply.status.code(), ErrorCode::kUnavailable)
      << refused.apply.status.ToString();
  EXPECT_NE(refused.apply.status.message().find("cannot take this request now"), std::string::npos)
      << refused.apply.status.ToString();
  EXPECT_TRUE(refused.bodies.empty()) << "messages were handed out without a proposal";

  // The disk returns; a client retries "retry" answers until the leader takes it.
  fs_[leader - 1].gate.Open();
  CommandResult got = Receive(leader, 5).get();
  for (int i = 0; i < 100 && got.apply.status.code() == ErrorCode::kUnavailable; ++i) {
    std::this_thread::sleep_for(10ms);
    got = Receive(leader, 5).get();
  }
  ASSERT_TRUE(got.apply.status.ok())
      << "the refused receive kept the message reserved: " << got.apply.status.ToString();
  ASSERT_EQ(got.bodies.size(), 1u);
  EXPECT_EQ(got.bodies[0], kBig);
  EXPECT_EQ(got.apply.messages[0].dequeue_count, 1u);
}

// A leader whose log write fails (EIO, or ENOSPC on a full disk) refuses writes for good.
// The others elect a leader and serve, and the failed node names that leader (never
// itself), so the requests that reach it are forwarded there, not failed until a restart.
TEST_F(NodeDiskStallTest, ALeaderWhoseLogFailsPointsToTheNextLeader) {
  const uint64_t leader = LeaderWithQueue();
  ASSERT_NE(leader, 0u);
  fs_[leader - 1].FailNextSync();
  CommandResult failed = Run(leader, SendTo("sent as the disk fails"));
  // Refused, or acknowledged because both followers held it before the leader's fsync
  // failed (the leader applies what a quorum holds); never anything else.
  EXPECT_TRUE(failed.apply.status.code() == ErrorCode::kLogFailed || failed.apply.status.ok())
      << failed.apply.status.ToString();
  for (int i = 0; i < 300 && nodes_[leader - 1]->leader_id() == leader; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_NE(nodes_[leader - 1]->leader_id(), leader) << "a node that cannot write leads";

  uint64_t next = 0;
  for (int i = 0; i < 300; ++i) {
    for (uint64_t id = 1; id <= 3; ++id) {
      if (id != leader && nodes_[id - 1]->leader_id() == id) next = id;
    }
    if (next != 0 && nodes_[leader - 1]->leader_id() == next) break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_NE(next, 0u) << "no other node took over from a leader whose log failed";
  EXPECT_EQ(nodes_[leader - 1]->leader_id(), next) << "the failed node does not know the leader";
  EXPECT_TRUE(Run(next, SendTo("sent to the new leader")).apply.status.ok());
  EXPECT_EQ(Run(leader, SendTo("still refused here")).apply.status.code(), ErrorCode::kLogFailed);
  if (failed.apply.status.ok()) {  // acknowledged: the new leader has it
    std::promise<CommandResult> got;
    auto got_result = got.get_future();
    mq::Command receive;
    receive.type = mq::CommandType::kReceiveMessages;
    receive.queue_name = "q";
    receive.num_messages = 16;
    nodes_[next - 1]->Receive(receive, 5, [&got](CommandResult c) { got.set_value(std::move(c)); });
    CommandResult g = got_result.get();
    ASSERT_TRUE(g.apply.status.ok()) << g.apply.status.ToString();
    EXPECT_EQ(g.bodies.front(), "sent as the disk fails");
  }
}

}  // namespace
}  // namespace cmq::cluster
