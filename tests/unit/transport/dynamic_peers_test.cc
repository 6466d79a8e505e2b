// Peers joining and leaving at run time (AddPeer, RemovePeer): an added peer is dialed or
// accepted like one given at Start; a removed one is closed, refused and not redialed, and
// can come back; a new address moves the dialer; and all of it holds up while other threads
// Send, read stats and change the membership at once (run it under ASan).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/encoding.h"
#include "transport/frame_codec.h"
#include "transport/transport.h"
#include "transport_test_util.h"

namespace cmq::transport {
namespace {

using namespace testing;

std::unique_ptr<Transport> StartOrDie(TransportOptions options, Inbox& inbox,
                                      LostLog* lost = nullptr) {
  auto started = Transport::Start(std::move(options), inbox.Handler(),
                                  lost ? lost->Handler() : Transport::PeerHandler());
  EXPECT_TRUE(started.ok()) << started.status().ToString();
  return started.ok() ? std::move(started).value() : nullptr;
}

PeerAddress Loopback(uint16_t port) {
  return PeerAddress{"127.0.0.1", port};
}

std::string Seq(uint64_t i) {
  std::string s;
  PutFixed64(s, i);
  return s;
}

bool HasPayload(Inbox& inbox, uint64_t from, const std::string& payload) {
  auto frames = inbox.frames();
  return std::any_of(frames.begin(), frames.end(),
                     [&](const Frame& f) { return f.from == from && f.payload == payload; });
}

TEST(DynamicPeersTest, AddedPeerThatWeDialExchangesBothWays) {
  Inbox in1, in2;
  auto t2 = StartOrDie(LoopbackOptions(2, {{1, UnusedPort()}}), in2);
  auto t1 = StartOrDie(LoopbackOptions(1, {}), in1);
  EXPECT_FALSE(t1->Send(2, FrameKind::kRaft, 0, "not a peer yet"));
  EXPECT_TRUE(t1->stats().empty());

  t1->AddPeer(2, Loopback(t2->listen_port()));
  // Frames may be sent at once: they wait for the connection.
  for (uint32_t i = 0; i < 5; ++i) ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, i, Seq(i)));
  ASSERT_TRUE(in2.WaitForCount(5));
  for (uint32_t i = 0; i < 5; ++i) ASSERT_TRUE(t2->Send(1, FrameKind::kForwardReply, i, Seq(i)));
  ASSERT_TRUE(in1.WaitForCount(5));
  auto f2 = in2.frames();
  auto f1 = in1.frames();
  for (uint32_t i = 0; i < 5; ++i) {
    EXPECT_EQ(f2[i].from, 1u);
    EXPECT_EQ(f2[i].group, i);
    EXPECT_EQ(f2[i].payload, Seq(i));
    EXPECT_EQ(f1[i].from, 2u);
    EXPECT_EQ(f1[i].kind, FrameKind::kForwardReply);
    EXPECT_EQ(f1[i].payload, Seq(i));
  }
  EXPECT_TRUE(t1->IsConnected(2));
  auto stats = t1->stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[2].connects, 1u);
  EXPECT_EQ(stats[2].frames_received, 5u);
}

TEST(DynamicPeersTest, AddedPeerThatDialsUsExchangesBothWays) {
  Inbox in1, in2;
  auto t2 = StartOrDie(LoopbackOptions(2, {}), in2);
  auto t1 = StartOrDie(LoopbackOptions(1, {{2, t2->listen_port()}}), in1);
  // Node 2 does not know node 1 yet: every dial of node 1 is refused.
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(t1->stats()[2].connects, 0u);
  EXPECT_FALSE(t2->IsConnected(1));

  // Node 2 never dials node 1 (the smaller id dials), so this address is not used.
  t2->AddPeer(1, Loopback(UnusedPort()));
  ASSERT_TRUE(t2->Send(1, FrameKind::kRaft, 7, "queued before node 1 redials"));
  ASSERT_TRUE(in1.WaitForCount(1));
  EXPECT_EQ(in1.frames()[0].from, 2u);
  EXPECT_EQ(in1.frames()[0].payload, "queued before node 1 redials");
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 8, "hello two"));
  ASSERT_TRUE(in2.WaitForCount(1));
  EXPECT_EQ(in2.frames()[0].from, 1u);
  EXPECT_EQ(in2.frames()[0].payload, "hello two");
  EXPECT_EQ(t2->stats()[1].connects, 1u);
}

TEST(DynamicPeersTest, FourthNodeJoinsARunningCluster) {
  Inbox inbox[5];
  auto t3 = StartOrDie(LoopbackOptions(3, {{1, 0}, {2, 0}}), inbox[3]);
  auto t2 = StartOrDie(LoopbackOptions(2, {{1, 0}, {3, t3->listen_port()}}), inbox[2]);
  auto t1 =
      StartOrDie(LoopbackOptions(1, {{2, t2->listen_port()}, {3, t3->listen_port()}}), inbox[1]);
  // The new node knows everyone; having the largest id, it only accepts.
  auto t4 = StartOrDie(LoopbackOptions(4, {{1, 0}, {2, 0}, {3, 0}}), inbox[4]);
  Transport* t[5] = {nullptr, t1.get(), t2.get(), t3.get(), t4.get()};
  for (uint64_t node = 1; node <= 3; ++node) t[node]->AddPeer(4, Loopback(t4->listen_port()));

  constexpr uint64_t kPerPair = 100;
  for (uint64_t i = 0; i < kPerPair; ++i) {
    for (uint64_t from = 1; from <= 4; ++from) {
      for (uint64_t to = 1; to <= 4; ++to) {
        if (from != to) {
          ASSERT_TRUE(t[from]->Send(to, FrameKind::kRaft, 0, Seq(i)));
        }
      }
    }
  }
  for (uint64_t node = 1; node <= 4; ++node) {
    ASSERT_TRUE(inbox[node].WaitForCount(3 * kPerPair)) << "node " << node;
    std::map<uint64_t, uint64_t> next;  // per sender
    for (const Frame& f : inbox[node].frames()) {
      ASSERT_NE(f.from, node);
      EXPECT_EQ(DecodeFixed64(f.payload.data()), next[f.from]++) << "from " << f.from;
    }
    EXPECT_EQ(next.size(), 3u);
  }
  for (uint64_t node = 1; node <= 3; ++node) EXPECT_EQ(t[node]->stats()[4].connects, 1u);
}

TEST(DynamicPeersTest, RemovedPeerIsClosedRefusedAndCanBeAddedAgain) {
  Inbox in1, in2;
  LostLog lost1, lost2;
  auto t2 = StartOrDie(LoopbackOptions(2, {{1, UnusedPort()}}), in2, &lost2);
  auto t1 = StartOrDie(LoopbackOptions(1, {{2, t2->listen_port()}}), in1, &lost1);
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 0, "before"));
  ASSERT_TRUE(in2.WaitForCount(1));

  // Node 2 (the acceptor) removes node 1.
  t2->RemovePeer(1);
  EXPECT_FALSE(t2->Send(1, FrameKind::kRaft, 0, "refused"));
  EXPECT_FALSE(t2->IsConnected(1));
  EXPECT_EQ(t2->stats().count(1), 0u);
  ASSERT_TRUE(WaitUntil([&] { return lost1.count(2) == 1; }));  // node 1 saw the close
  ASSERT_TRUE(WaitUntil([&] { return lost2.count(1) == 1; }));  // and node 2 reported it
  t2->RemovePeer(1);                                            // idempotent
  t2->RemovePeer(99);                                           // never a peer

  // Node 1 keeps redialing (10..100 ms backoff) and is refused every time.
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 0, "waits in node 1's queue"));
  std::this_thread::sleep_for(400ms);
  PeerStats s1 = t1->stats()[2];
  EXPECT_FALSE(s1.connected);
  EXPECT_EQ(s1.connects, 1u);
  EXPECT_EQ(in2.size(), 1u);
  EXPECT_EQ(lost1.count(2), 1);

  // Back again: node 1's next redial is accepted and traffic flows both ways.
  t2->AddPeer(1, Loopback(UnusedPort()));
  ASSERT_TRUE(t2->Send(1, FrameKind::kRaft, 0, "welcome back"));
  ASSERT_TRUE(in2.WaitForCount(2));
  EXPECT_EQ(in2.frames()[1].payload, "waits in node 1's queue");
  ASSERT_TRUE(in1.WaitForCount(1));
  EXPECT_EQ(in1.frames()[0].payload, "welcome back");
  EXPECT_TRUE(t2->IsConnected(1));
  EXPECT_EQ(t2->stats()[1].connects, 2u);  // the stats go on from the first life
  EXPECT_EQ(t1->stats()[2].connects, 2u);
}

TEST(DynamicPeersTest, RemovedPeerIsNotRedialed) {
  Inbox in1, in2;
  LostLog lost1, lost2;
  auto t2 = StartOrDie(LoopbackOptions(2, {{1, UnusedPort()}}), in2, &lost2);
  auto t1 = StartOrDie(LoopbackOptions(1, {{2, t2->listen_port()}}), in1, &lost1);
  ASSERT_TRUE(t2->Send(1, FrameKind::kRaft, 0, "x"));
  ASSERT_TRUE(in1.WaitForCount(1));

  // Node 1 (the dialer) removes node 2: it closes the connection and does not dial again.
  t1->RemovePeer(2);
  EXPECT_FALSE(t1->Send(2, FrameKind::kRaft, 0, "refused"));
  EXPECT_TRUE(t1->stats().empty());
  ASSERT_TRUE(WaitUntil([&] { return lost2.count(1) == 1; }));
  ASSERT_TRUE(WaitUntil([&] { return lost1.count(2) == 1; }));
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(t2->stats()[1].connects, 1u);
  EXPECT_FALSE(t2->IsConnected(1));

  t1->AddPeer(2, Loopback(t2->listen_port()));
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 0, "again"));
  ASSERT_TRUE(in2.WaitForCount(1));
  EXPECT_EQ(in2.frames()[0].payload, "again");
  EXPECT_EQ(t2->stats()[1].connects, 2u);
}

TEST(DynamicPeersTest, RemovingAPeerDropsItsQueuedFrames) {
  Inbox in1, in2;
  auto t2 = StartOrDie(LoopbackOptions(2, {{1, UnusedPort()}}), in2);
  for (uint32_t i = 0; i < 5; ++i) ASSERT_TRUE(t2->Send(1, FrameKind::kRaft, i, Seq(i)));
  EXPECT_EQ(t2->stats()[1].queued_bytes, 5 * (13 + 8u));

  t2->RemovePeer(1);
  EXPECT_FALSE(t2->Send(1, FrameKind::kRaft, 0, "refused, not counted"));
  t2->AddPeer(1, Loopback(UnusedPort()));
  PeerStats s = t2->stats()[1];
  EXPECT_EQ(s.queued_bytes, 0u);
  EXPECT_EQ(s.frames_dropped, 5u);
  ASSERT_TRUE(t2->Send(1, FrameKind::kRaft, 9, "after"));

  // Node 1 comes up: only the frame sent after the re-add is there for it.
  auto t1 = StartOrDie(LoopbackOptions(1, {{2, t2->listen_port()}}), in1);
  ASSERT_TRUE(in1.WaitForCount(1));
  std::this_thread::sleep_for(50ms);
  ASSERT_EQ(in1.size(), 1u);
  EXPECT_EQ(in1.frames()[0].payload, "after");
}

// Node 2 of kCluster, with node 1 impersonated by a raw client.
constexpr uint64_t kCluster = 77;

std::string HandshakeString(const Handshake& h) {
  HandshakeBytes bytes = EncodeHandshake(h);
  return std::string(bytes.data(), bytes.size());
}

// Connects as node 1 and completes the handshake; false if it was refused.
bool Greet(RawClient& client, uint16_t port) {
  if (!client.Connect(port)) return false;
  if (!client.Write(HandshakeString({kWireVersion, kCluster, 1, 2}))) return false;
  std::string reply;
  return client.Read(kHandshakeBytes, reply) &&
         reply == HandshakeString({kWireVersion, kCluster, 2, 1});
}

TEST(DynamicPeersTest, HandshakesOfARemovedPeerAreRefused) {
  Inbox in2;
  LostLog lost2;
  auto t2 = StartOrDie(LoopbackOptions(2, {{1, 0}}, kCluster), in2, &lost2);
  const uint16_t port = t2->listen_port();
  RawClient first;
  ASSERT_TRUE(Greet(first, port));
  ASSERT_TRUE(first.Write(EncodeFrame(FrameKind::kRaft, 1, "delivered")));
  ASSERT_TRUE(in2.WaitForCount(1));

  t2->RemovePeer(1);
  // Whatever it sends from now on is not delivered; its connection is closed.
  (void)first.Write(EncodeFrame(FrameKind::kRaft, 2, "not delivered"));
  EXPECT_TRUE(first.WaitClosed());
  ASSERT_TRUE(WaitUntil([&] { return lost2.count(1) == 1; }));
  for (int i = 0; i < 3; ++i) {
    RawClient again;
    EXPECT_FALSE(Greet(again, port)) << "attempt " << i;
  }
  EXPECT_EQ(in2.size(), 1u);

  t2->AddPeer(1, Loopback(1));
  RawClient back;
  ASSERT_TRUE(Greet(back, port));
  ASSERT_TRUE(back.Write(EncodeFrame(FrameKind::kRaft, 3, "back")));
  ASSERT_TRUE(in2.WaitForCount(2));
  EXPECT_EQ(in2.frames()[1].payload, "back");
  EXPECT_EQ(t2->stats()[1].connects, 2u);
}

TEST(DynamicPeersTest, NewAddressMakesTheDialerReconnectThere) {
  // Two incarnations of node 2 on different ports.
  Inbox in1, in2a, in2b;
  LostLog lost1, lost2a;
  auto t2a = StartOrDie(LoopbackOptions(2, {{1, 0}}), in2a, &lost2a);
  auto t2b = StartOrDie(LoopbackOptions(2, {{1, 0}}), in2b);
  auto t1 = StartOrDie(LoopbackOptions(1, {{2, t2a->listen_port()}}), in1, &lost1);
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 0, "to a"));
  ASSERT_TRUE(in2a.WaitForCount(1));

  t1->AddPeer(2, Loopback(t2b->listen_port()));
  ASSERT_TRUE(WaitUntil([&] { return lost2a.count(1) == 1; }));  // the old one was closed
  ASSERT_TRUE(WaitUntil([&] { return t2b->IsConnected(1); }));
  EXPECT_EQ(lost1.count(2), 1);
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 0, "to b"));
  ASSERT_TRUE(t2b->Send(1, FrameKind::kRaft, 0, "from b"));
  ASSERT_TRUE(in2b.WaitForCount(1));
  ASSERT_TRUE(in1.WaitForCount(1));
  EXPECT_EQ(in2b.frames()[0].payload, "to b");
  EXPECT_EQ(in1.frames()[0].payload, "from b");
  EXPECT_EQ(t1->stats()[2].connects, 2u);

  // The same address again changes nothing; the old incarnation is not dialed again.
  t1->AddPeer(2, Loopback(t2b->listen_port()));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(t1->stats()[2].connects, 2u);
  EXPECT_EQ(lost1.count(2), 1);
  EXPECT_EQ(t2a->stats()[1].connects, 1u);
  EXPECT_EQ(in2a.size(), 1u);
}

TEST(DynamicPeersTest, NewAddressIsDialedAtOnceDuringABackoff) {
  Inbox in1, in2;
  auto t2 = StartOrDie(LoopbackOptions(2, {{1, 0}}), in2);
  TransportOptions o1 = LoopbackOptions(1, {{2, UnusedPort()}});
  o1.min_backoff_ms = 5000;  // a redial of the dead address would wait 2.5..5 s
  o1.max_backoff_ms = 5000;
  auto t1 = StartOrDie(o1, in1);
  std::this_thread::sleep_for(100ms);  // the first dial has failed by now
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 0, "waited"));
  t1->AddPeer(2, Loopback(t2->listen_port()));
  ASSERT_TRUE(in2.WaitForCount(1, 2s));
  EXPECT_EQ(in2.frames()[0].payload, "waited");
}

TEST(DynamicPeersTest, OwnIdBadPeersAndUnchangedPeersAreIgnored) {
  Inbox in1, in2;
  LostLog lost1;
  auto t2 = StartOrDie(LoopbackOptions(2, {{1, 0}}), in2);
  auto t1 = StartOrDie(LoopbackOptions(1, {{2, t2->listen_port()}}), in1, &lost1);
  ASSERT_TRUE(WaitUntil([&] { return t1->IsConnected(2); }));
  t1->AddPeer(1, Loopback(t1->listen_port()));  // ourselves
  t1->AddPeer(0, Loopback(1));                  // not a node id
  t1->AddPeer(3, PeerAddress{"", 1});           // no host
  t1->AddPeer(2, Loopback(t2->listen_port()));  // unchanged
  t1->RemovePeer(1);                            // ourselves: not a peer
  std::this_thread::sleep_for(100ms);
  auto stats = t1->stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[2].connects, 1u);
  EXPECT_TRUE(stats[2].connected);
  EXPECT_EQ(lost1.count(2), 0);
  EXPECT_FALSE(t1->Send(1, FrameKind::kRaft, 0, "self"));
  EXPECT_FALSE(t1->Send(3, FrameKind::kRaft, 0, "nobody"));
}

// Senders, readers of stats and two threads changing the membership (one on each side of the
// links) all at once; then the membership settles and every link must work; finally Stop
// races the same threads. Meant for ASan: it checks for crashes and use-after-free, and
// that the transport is consistent once the churn ends.
TEST(DynamicPeersTest, ConcurrentSendsWhileAddingAndRemovingPeers) {
  constexpr uint64_t kNodes = 5;  // node 1 dials nodes 2..5
  Inbox inbox[kNodes + 1];
  std::unique_ptr<Transport> t[kNodes + 1];
  for (uint64_t node = 2; node <= kNodes; ++node) {
    t[node] = StartOrDie(LoopbackOptions(node, {{1, UnusedPort()}}), inbox[node]);
  }
  t[1] = StartOrDie(LoopbackOptions(1, {}), inbox[1]);
  auto port = [&](uint64_t node) { return t[node]->listen_port(); };
  const uint16_t dead_port = UnusedPort();

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> accepted{0};
  auto sender = [&](uint64_t seed) {
    std::mt19937_64 rng(seed);
    uint64_t i = 0;
    while (!stop.load()) {
      uint64_t to = 2 + rng() % (kNodes - 1);
      if (t[1]->Send(to, FrameKind::kRaft, 0, Seq(i++))) accepted.fetch_add(1);
      if (t[to]->Send(1, FrameKind::kRaft, 0, Seq(i++))) accepted.fetch_add(1);
      if (i % 64 == 0) std::this_thread::yield();
    }
  };
  auto reader = [&] {
    while (!stop.load()) {
      for (uint64_t node = 1; node <= kNodes; ++node) {
        (void)t[node]->stats();
        (void)t[node]->IsConnected(node == 1 ? 2 : 1);
      }
      std::this_thread::sleep_for(1ms);
    }
  };
  // Node 1's view: remove, add, or move a peer (sometimes to a dead address).
  auto churn_dialer = [&](uint64_t seed) {
    std::mt19937_64 rng(seed);
    while (!stop.load()) {
      uint64_t peer = 2 + rng() % (kNodes - 1);
      switch (rng() % 4) {
        case 0:
          t[1]->RemovePeer(peer);
          break;
        case 1:
          t[1]->AddPeer(peer, Loopback(dead_port));
          break;
        default:
          t[1]->AddPeer(peer, Loopback(port(peer)));
          break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 5));
    }
  };
  // The other nodes' view of node 1.
  auto churn_acceptors = [&](uint64_t seed) {
    std::mt19937_64 rng(seed);
    while (!stop.load()) {
      uint64_t node = 2 + rng() % (kNodes - 1);
      if (rng() % 3 == 0) {
        t[node]->RemovePeer(1);
      } else {
        t[node]->AddPeer(1, Loopback(port(1)));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 5));
    }
  };
  auto run_all = [&](std::chrono::milliseconds how_long, bool stop_node_1) {
    stop = false;
    std::vector<std::thread> threads;
    threads.emplace_back(sender, 1);
    threads.emplace_back(sender, 2);
    threads.emplace_back(reader);
    threads.emplace_back(churn_dialer, 3);
    threads.emplace_back(churn_acceptors, 4);
    std::this_thread::sleep_for(how_long);
    if (stop_node_1) t[1]->Stop();
    std::this_thread::sleep_for(how_long / 10);
    stop = true;
    for (auto& thread : threads) thread.join();
  };

  run_all(1500ms, /*stop_node_1=*/false);
  EXPECT_GT(accepted.load(), 0u);

  // The membership settles: every node knows every other at its real address.
  for (uint64_t node = 2; node <= kNodes; ++node) {
    t[1]->AddPeer(node, Loopback(port(node)));
    t[node]->AddPeer(1, Loopback(port(1)));
  }
  for (uint64_t node = 2; node <= kNodes; ++node) {
    ASSERT_TRUE(WaitUntil([&] { return t[1]->IsConnected(node) && t[node]->IsConnected(1); }))
        << "node " << node;
    ASSERT_TRUE(t[1]->Send(node, FrameKind::kForwardRequest, 1, "settled"));
    ASSERT_TRUE(t[node]->Send(1, FrameKind::kForwardReply, 1, "settled"));
  }
  for (uint64_t node = 2; node <= kNodes; ++node) {
    ASSERT_TRUE(WaitUntil([&] { return HasPayload(inbox[node], 1, "settled"); }))
        << "node " << node;
    ASSERT_TRUE(WaitUntil([&] { return HasPayload(inbox[1], node, "settled"); }))
        << "node " << node;
  }

  // Stop while everything else keeps going.
  run_all(300ms, /*stop_node_1=*/true);
  EXPECT_FALSE(t[1]->Send(2, FrameKind::kRaft, 0, "stopped"));
  t[1]->AddPeer(2, Loopback(port(2)));  // after Stop: harmless
  t[1]->RemovePeer(3);
}

}  // namespace
}  // namespace cmq::transport
