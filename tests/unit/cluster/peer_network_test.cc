// PeerNetwork's chunked Raft messages over a real loopback transport: one transfer per
// peer at a time, since the receiver reassembles one per peer and two interleaved ones
// would abort each other (a snapshot resent while its first copy was on its way never
// arrived: a 628 MB one was sent 85 times in two minutes).

#include "cluster/peer_network.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <optional>
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

// What the serving node's handler got of one forwarded request.
struct Served {
  std::mutex mu;
  std::string request;
  PeerNetwork::ReplyFn reply;
  AbandonFlag abandoned;

  bool Got() {
    std::lock_guard lock(mu);
    return reply != nullptr;
  }
  bool Abandoned() {
    std::lock_guard lock(mu);
    return abandoned && abandoned->load();
  }
};

// b serves what a forwards, answering only when the test says (a long poll that waits).
std::pair<std::unique_ptr<PeerNetwork>, std::unique_ptr<PeerNetwork>> ConnectedPair(
    Served& served) {
  auto b = StartNetwork(2, 1, 1);
  if (!b) return {};
  b->SetForwardHandler(
      [&served](std::string request, PeerNetwork::ReplyFn reply, AbandonFlag abandoned) {
        std::lock_guard lock(served.mu);
        served.request = std::move(request);
        served.reply = std::move(reply);
        served.abandoned = std::move(abandoned);
      });
  auto a = StartNetwork(1, 2, b->listen_port());
  if (!a) return {};
  for (int i = 0; i < 500 && !a->peer_stats()[2].connected; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(a->peer_stats()[2].connected);
  return {std::move(a), std::move(b)};
}

template <typename Pred>
bool WaitFor(Pred pred) {
  for (int i = 0; i < 300; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

TEST(PeerNetworkTest, AForwardedRequestsGoneClientIsToldToTheServingNode) {
  Served served;
  auto [a, b] = ConnectedPair(served);
  ASSERT_NE(a, nullptr);
  auto gone = std::make_shared<std::atomic<bool>>(false);
  std::mutex mu;
  std::optional<Result<std::string>> answer;
  a->Forward(
      2, 0, "receive",
      [&](Result<std::string> reply, bool sent) {
        EXPECT_TRUE(sent);
        std::lock_guard lock(mu);
        answer = std::move(reply);
      },
      gone);
  ASSERT_TRUE(WaitFor([&] { return served.Got(); }));
  EXPECT_EQ(served.request, "receive");
  // The client is still there: several sweeps pass and nothing is cancelled.
  std::this_thread::sleep_for(350ms);
  EXPECT_FALSE(served.Abandoned());

  gone->store(true);  // its connection closed on node 1
  EXPECT_TRUE(WaitFor([&] { return served.Abandoned(); })) << "node 2 was never told";
  // The request is still answered as usual, and its answer still reaches node 1.
  served.reply("no message");
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return answer.has_value();
  }));
  std::lock_guard lock(mu);
  ASSERT_TRUE(answer->ok()) << answer->status().ToString();
  EXPECT_EQ(answer->value(), "no message");
  a->Stop();
  b->Stop();
}

TEST(PeerNetworkTest, ARequestDroppedUnansweredIsForgotten) {
  auto b = StartNetwork(2, 1, 1);
  ASSERT_NE(b, nullptr);
  std::atomic<int> served{0};
  // What api/forwarding does with bytes it cannot decode: no answer (the sender times out).
  b->SetForwardHandler([&](std::string, PeerNetwork::ReplyFn, AbandonFlag) { ++served; });
  auto a = StartNetwork(1, 2, b->listen_port());
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(WaitFor([&] { return a->peer_stats()[2].connected; }));
  for (int i = 0; i < 3; ++i) {
    a->Forward(
        2, 0, "garbage", [](Result<std::string>, bool) {}, std::make_shared<std::atomic<bool>>());
  }
  ASSERT_TRUE(WaitFor([&] { return served == 3; }));
  EXPECT_TRUE(WaitFor([&] { return b->incoming_forwards() == 0; })) << "kept for good";
  a->Stop();
  b->Stop();
}

TEST(PeerNetworkTest, RequestsOfAPeerWhoseConnectionBrokeAreAbandoned) {
  Served served;
  auto [a, b] = ConnectedPair(served);
  ASSERT_NE(a, nullptr);
  bool failed = false;
  a->Forward(2, 0, "receive", [&](Result<std::string> reply, bool) { failed = !reply.ok(); });
  ASSERT_TRUE(WaitFor([&] { return served.Got(); }));
  std::this_thread::sleep_for(250ms);
  EXPECT_FALSE(served.Abandoned()) << "no flag given to Forward: nothing to cancel";
  // Node 1 goes away: it has told its client to retry (Stop fails what is pending), so
  // nobody waits for node 2's answer any more.
  a->Stop();
  EXPECT_TRUE(failed);
  EXPECT_TRUE(WaitFor([&] { return served.Abandoned(); }));
  served.reply("no message");  // answered into the void, harmlessly
  b->Stop();
}

}  // namespace
}  // namespace cmq::cluster
