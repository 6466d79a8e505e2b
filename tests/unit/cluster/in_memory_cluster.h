#pragma once
// Three cluster::Node replicas of one group, each on an in-memory file system, wired to each
// other directly (no transport). A test cuts nodes off (cut_), stops and reopens them, and
// runs commands on any of them. Tests derive from it and tune the options (Options) or the
// wiring (Wire).

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "cluster/node.h"
#include "storage/fault_injection_file_system.h"

namespace cmq::cluster::testing {

class InMemoryCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    for (uint64_t id = 1; id <= 3; ++id) OpenNode(id);
    for (auto& node : nodes_) node->Start();
  }
  void TearDown() override {
    for (auto& c : cut_) c = true;
    for (auto& node : nodes_) {
      if (node) node->Stop();
    }
  }

  // Node `id`'s options: 10 ms ticks, elections after 100-200 ms without a leader.
  virtual NodeOptions Options(uint64_t id) {
    NodeOptions options;
    options.data_dir = "/data";
    options.node_id = id;
    options.voters = {1, 2, 3};
    options.raft_tick_ms = 10;
    options.election_tick = 10;
    return options;
  }
  // How node `id` reaches the others: Raft messages, dropped while either end is cut off.
  virtual void Wire(uint64_t id) {
    nodes_[id - 1]->SetRaftSend([this, id](uint64_t to, std::string message) {
      if (cut_[id - 1] || cut_[to - 1]) return false;
      nodes_[to - 1]->StepRaft(message);
      return true;
    });
  }

  // Opens node `id` from what its disk holds (not started).
  void OpenNode(uint64_t id) {
    auto node = Node::Open(&fs_[id - 1], &clock_, Options(id));
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    nodes_[id - 1] = std::move(node).value();
    Wire(id);
  }

  // The leader that every node not cut off agrees on; `want` (if not 0) it must be, and
  // `not_this` (if not 0) it must not be. 0 after 10 s without one.
  uint64_t WaitForLeader(uint64_t want = 0, uint64_t not_this = 0) {
    for (int i = 0; i < 1000; ++i) {
      uint64_t agreed = 0;
      bool all = true;
      for (uint64_t id = 1; id <= 3; ++id) {
        if (cut_[id - 1]) continue;
        const uint64_t lead = nodes_[id - 1]->leader_id();
        if (lead == 0 || (agreed != 0 && lead != agreed)) all = false;
        agreed = lead;
      }
      if (all && agreed != 0 && (want == 0 || agreed == want) && agreed != not_this) {
        return agreed;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return 0;
  }

  // Until node `id` has applied everything node `leader` has committed (30 s at most).
  bool WaitCaughtUp(uint64_t id, uint64_t leader) {
    for (int i = 0; i < 3000; ++i) {
      NodeStats l = nodes_[leader - 1]->stats();
      NodeStats f = nodes_[id - 1]->stats();
      if (f.applied_index >= l.commit_index && l.commit_index > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  CommandResult Run(uint64_t on, const mq::Command& cmd) {
    std::promise<CommandResult> done;
    auto f = done.get_future();
    nodes_[on - 1]->Submit(cmd, [&done](CommandResult r) { done.set_value(std::move(r)); });
    return f.get();
  }

  // A receive of up to n messages of queue `queue` on node `on`, long-polling wait_s.
  std::future<CommandResult> StartReceive(uint64_t on, const std::string& queue, uint32_t n,
                                          int64_t wait_s = 0) {
    auto done = std::make_shared<std::promise<CommandResult>>();
    auto f = done->get_future();
    mq::Command cmd;
    cmd.type = mq::CommandType::kReceiveMessages;
    cmd.queue_name = queue;
    cmd.num_messages = n;
    nodes_[on - 1]->Receive(cmd, wait_s,
                            [done](CommandResult r) { done->set_value(std::move(r)); });
    return f;
  }

  SystemClock clock_;
  std::array<storage::FaultInjectionFileSystem, 3> fs_;
  std::array<std::unique_ptr<Node>, 3> nodes_;
  std::array<std::atomic<bool>, 3> cut_{};
};

}  // namespace cmq::cluster::testing
