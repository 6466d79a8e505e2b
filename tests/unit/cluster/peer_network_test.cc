// PeerNetwork's chunked Raft messages over a real loopback transport: one transfer per
// peer at a time, since the receiver reassembles one per peer and two interleaved ones
// would abort each other (a snapshot resent while its first copy was on its way never
// arrived: a 628 MB one was sent 85 times in two minutes).

#include "cluster/peer_network.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace cmq::cluster {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<PeerNetwork> StartNetwork(uint64_t id, uint64_t peer, uint16_t peer_port) {
  PeerNetworkOptions options;
  options.transport.node_id = id;
  options.transport.listen_host = "127.0.0.1";
  options.transport.peers[peer] = transport::PeerAddress{"127.0.0.1", peer_port};
  auto started = PeerNetwork::Start(options);
  EXPECT_TRUE(started.ok()) << started.status().ToString();
  return started.ok() ? std::move(started).value() : nullptr;
}

TEST(PeerNetworkTest, OneChunkedTransferPerPeerAtATime) {
  // Node 2 only accepts (the smaller id dials), so node 1's address does not matter to it.
  auto b = StartNetwork(2, 1, 1);
  ASSERT_NE(b, nullptr);
  auto a = StartNetwork(1, 2, b->listen_port());
  ASSERT_NE(a, nullptr);
  for (int i = 0; i < 500 && !a->peer_stats()[2].connected; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(a->peer_stats()[2].connected);

  // 96 MiB: more than the peer's queue takes at once, so it is still being fed below
  // (the messages are built first: the calls follow each other within microseconds).
  std::string big(96u << 20, 's');
  std::string again = big;
  std::string other_group(2u << 20, 'g');
  ASSERT_TRUE(a->SendRaft(2, 1, std::move(big)));
  const bool second = a->SendRaft(2, 1, std::move(again));
  const bool third = a->SendRaft(2, 2, std::move(other_group));
  EXPECT_FALSE(second) << "a second transfer to the same peer interleaves";
  EXPECT_FALSE(third) << "another group's too";
  EXPECT_TRUE(a->SendRaft(2, 1, "small")) << "messages of one frame are not held back";

  // Once the first is fed to the connection, the next one goes.
  bool sent = false;
  for (int i = 0; i < 1000 && !sent; ++i) {
    sent = a->SendRaft(2, 1, std::string(2u << 20, 't'));
    if (!sent) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(sent);
  // Every chunk of both arrived (each is a frame of at most 1 MiB plus its header).
  const uint64_t frames = (96 + 2) + 1;
  for (int i = 0; i < 1000 && b->peer_stats()[1].frames_received < frames; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GE(b->peer_stats()[1].frames_received, frames);
  a->Stop();
  b->Stop();
}

TEST(PeerNetworkTest, CheckBacksReachTheNodesWithoutAReplica) {
  auto b = StartNetwork(2, 1, 1);
  ASSERT_NE(b, nullptr);
  std::mutex mu;
  std::vector<mq::TransactionCheck> asked;
  b->SetCheckBackHandler([&](const mq::TransactionCheck& check) {
    std::lock_guard lock(mu);
    asked.push_back(check);
  });
  auto a = StartNetwork(1, 2, b->listen_port());
  ASSERT_NE(a, nullptr);
  for (int i = 0; i < 500 && !a->peer_stats()[2].connected; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(a->peer_stats()[2].connected);
  // No node of a's is attached: node 2 is no member of group 3, so it is told.
  const mq::TransactionCheck check{"Orders", 1234567890123ull, "app@10.0.0.9"};
  a->SendCheckBackToNonMembers(3, check);
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(mu);
      if (!asked.empty()) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  std::lock_guard lock(mu);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], check);
  a->Stop();
  b->Stop();
}

}  // namespace
}  // namespace cmq::cluster
