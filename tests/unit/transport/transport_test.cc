// Transports talking over real loopback sockets: exchange both ways, three nodes, volume
// and order, large payloads, restarts and reconnects, bounds, Stop.

#include "transport/transport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/encoding.h"
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

std::string Seq(uint64_t i) {
  std::string s;
  PutFixed64(s, i);
  return s;
}

TEST(TransportTest, TwoNodesExchangeBothWays) {
  Inbox in1, in2;
  auto t2 = StartOrDie(LoopbackOptions(2, {{1, 0}}), in2);
  ASSERT_NE(t2->listen_port(), 0);
  auto t1 = StartOrDie(LoopbackOptions(1, {{2, t2->listen_port()}}), in1);
  for (uint32_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, i, "to two " + std::to_string(i)));
    ASSERT_TRUE(t2->Send(1, FrameKind::kForwardReply, 100 + i, "to one " + std::to_string(i)));
  }
  ASSERT_TRUE(in2.WaitForCount(10));
  ASSERT_TRUE(in1.WaitForCount(10));
  auto f2 = in2.frames();
  auto f1 = in1.frames();
  for (uint32_t i = 0; i < 10; ++i) {
    EXPECT_EQ(f2[i].from, 1u);
    EXPECT_EQ(f2[i].kind, FrameKind::kRaft);
    EXPECT_EQ(f2[i].group, i);
    EXPECT_EQ(f2[i].payload, "to two " + std::to_string(i));
    EXPECT_EQ(f1[i].from, 2u);
    EXPECT_EQ(f1[i].kind, FrameKind::kForwardReply);
    EXPECT_EQ(f1[i].group, 100 + i);
    EXPECT_EQ(f1[i].payload, "to one " + std::to_string(i));
  }
  ASSERT_TRUE(WaitUntil([&] { return t1->stats()[2].frames_sent == 10; }));
  PeerStats s1 = t1->stats()[2];
  EXPECT_TRUE(s1.connected);
  EXPECT_EQ(s1.connects, 1u);
  EXPECT_EQ(s1.frames_received, 10u);
  EXPECT_EQ(s1.frames_dropped, 0u);
  PeerStats s2 = t2->stats()[1];
  EXPECT_TRUE(s2.connected);
  EXPECT_EQ(s2.connects, 1u);
  EXPECT_EQ(s2.frames_received, 10u);
  // One connection per pair: the larger id never dialed.
  EXPECT_EQ(t1->stats().size(), 1u);
  EXPECT_TRUE(t1->IsConnected(2));
  EXPECT_TRUE(t2->IsConnected(1));
  EXPECT_FALSE(t1->IsConnected(3));  // not a peer
}

TEST(TransportTest, LargerIdCanSendBeforeTheSmallerDials) {
  Inbox in1, in2;
  // Node 2 never dials node 1, so node 1's address does not matter to it.
  auto t2 = StartOrDie(LoopbackOptions(2, {{1, UnusedPort()}}), in2);
  for (uint32_t i = 0; i < 5; ++i) ASSERT_TRUE(t2->Send(1, FrameKind::kRaft, i, Seq(i)));
  std::this_thread::sleep_for(50ms);
  PeerStats waiting = t2->stats()[1];
  EXPECT_FALSE(waiting.connected);
  EXPECT_FALSE(t2->IsConnected(1));
  EXPECT_EQ(waiting.queued_bytes, 5 * (13 + 8u));
  EXPECT_EQ(waiting.frames_sent, 0u);

  auto t1 = StartOrDie(LoopbackOptions(1, {{2, t2->listen_port()}}), in1);
  ASSERT_TRUE(in1.WaitForCount(5));
  auto frames = in1.frames();
  for (uint32_t i = 0; i < 5; ++i) {
    EXPECT_EQ(frames[i].from, 2u);
    EXPECT_EQ(frames[i].group, i);
    EXPECT_EQ(frames[i].payload, Seq(i));
  }
  ASSERT_TRUE(WaitUntil([&] { return t2->stats()[1].queued_bytes == 0; }));
  EXPECT_EQ(t2->stats()[1].frames_sent, 5u);
}

TEST(TransportTest, ThreeNodesAllPairsBothWays) {
  Inbox inbox[4];
  // Start the largest id first: the smaller ones dial it and need its port.
  auto t3 = StartOrDie(LoopbackOptions(3, {{1, 0}, {2, 0}}), inbox[3]);
  auto t2 = StartOrDie(LoopbackOptions(2, {{1, 0}, {3, t3->listen_port()}}), inbox[2]);
  auto t1 =
      StartOrDie(LoopbackOptions(1, {{2, t2->listen_port()}, {3, t3->listen_port()}}), inbox[1]);
  Transport* t[4] = {nullptr, t1.get(), t2.get(), t3.get()};
  constexpr uint64_t kPerPair = 200;
  for (uint64_t i = 0; i < kPerPair; ++i) {
    for (uint64_t from = 1; from <= 3; ++from) {
      for (uint64_t to = 1; to <= 3; ++to) {
        if (from != to) {
          ASSERT_TRUE(t[from]->Send(to, FrameKind::kRaft, 0, Seq(i)));
        }
      }
    }
  }
  for (uint64_t node = 1; node <= 3; ++node) {
    ASSERT_TRUE(inbox[node].WaitForCount(2 * kPerPair)) << "node " << node;
    std::map<uint64_t, uint64_t> next;  // per sender
    for (const Frame& f : inbox[node].frames()) {
      ASSERT_NE(f.from, node);
      EXPECT_EQ(DecodeFixed64(f.payload.data()), next[f.from]++) << "from " << f.from;
    }
    EXPECT_EQ(next.size(), 2u);
  }
}

TEST(TransportTest, ManySmallFramesArriveCompleteAndInOrderPerSender) {
  Inbox in1, in2;
  auto t2 = StartOrDie(LoopbackOptions(2, {{1, 0}}), in2);
  auto t1 = StartOrDie(LoopbackOptions(1, {{2, t2->listen_port()}}), in1);
  constexpr uint64_t kPerThread = 50000;
  // Two threads of node 1 and one of node 2 send at once; the group names the thread.
  auto sender = [](Transport* t, uint64_t to, uint32_t group) {
    for (uint64_t i = 0; i < kPerThread; ++i) {
      ASSERT_TRUE(t->Send(to, FrameKind::kRaft, group, Seq(i)));
    }
  };
  std::thread a(sender, t1.get(), 2, 1);
  std::thread b(sender, t1.get(), 2, 2);
  std::thread c(sender, t2.get(), 1, 3);
  a.join();
  b.join();
  c.join();
  ASSERT_TRUE(in2.WaitForCount(2 * kPerThread, 15s)) << in2.size();
  ASSERT_TRUE(in1.WaitForCount(kPerThread, 15s)) << in1.size();
  std::map<uint32_t, uint64_t> next;
  for (const Frame& f : in2.frames()) {
    ASSERT_EQ(f.from, 1u);
    ASSERT_EQ(DecodeFixed64(f.payload.data()), next[f.group]++) << "group " << f.group;
  }
  EXPECT_EQ(next[1], kPerThread);
  EXPECT_EQ(next[2], kPerThread);
  uint64_t expect = 0;
  for (const Frame& f : in1.frames()) ASSERT_EQ(DecodeFixed64(f.payload.data()), expect++);
  EXPECT_EQ(in2.size(), 2 * kPerThread);  // nothing extra
  ASSERT_TRUE(WaitUntil([&] { return t1->stats()[2].frames_sent == 2 * kPerThread; }));
  EXPECT_EQ(t1->stats()[2].frames_dropped, 0u);
  EXPECT_EQ(t2->stats()[1].frames_received, 2 * kPerThread);
}

TEST(TransportTest, LargePayloadsArriveIntactBetweenSmallOnes) {
  Inbox in1, in2;
  auto t2 = StartOrDie(LoopbackOptions(2, {{1, 0}}), in2);
  auto t1 = StartOrDie(LoopbackOptions(1, {{2, t2->listen_port()}}), in1);
  std::mt19937_64 rng(99);
  std::string big(8 << 20, '\0');
  for (char& ch : big) ch = static_cast<char>(rng());
  std::string big2 = big;
  big2[12345] ^= 1;
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 1, "before"));
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 2, big));
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 3, "between"));
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 4, big2));
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 5, "after"));
  ASSERT_TRUE(t2->Send(1, FrameKind::kForwardReply, 6, big));
  ASSERT_TRUE(in2.WaitForCount(5, 10s));
  ASSERT_TRUE(in1.WaitForCount(1, 10s));
  auto f = in2.frames();
  EXPECT_EQ(f[0].payload, "before");
  EXPECT_TRUE(f[1].payload == big) << "8 MiB payload differs";
  EXPECT_EQ(f[2].payload, "between");
  EXPECT_TRUE(f[3].payload == big2) << "second 8 MiB payload differs";
  EXPECT_EQ(f[4].payload, "after");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(f[i].group, static_cast<uint32_t>(i + 1));
  EXPECT_TRUE(in1.frames()[0].payload == big);
}

TEST(TransportTest, DialerReconnectsAfterThePeerRestarts) {
  Inbox in1, in2;
  LostLog lost1;
  auto t2 = StartOrDie(LoopbackOptions(2, {{1, 0}}), in2);
  const uint16_t port2 = t2->listen_port();
  auto t1 = StartOrDie(LoopbackOptions(1, {{2, port2}}), in1, &lost1);
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 0, "first life"));
  ASSERT_TRUE(in2.WaitForCount(1));

  t2->Stop();
  t2.reset();
  ASSERT_TRUE(WaitUntil([&] { return lost1.count(2) == 1; }));
  ASSERT_TRUE(WaitUntil([&] { return !t1->IsConnected(2); }));
  EXPECT_FALSE(t1->stats()[2].connected);
  // Node 1 keeps redialing a closed port meanwhile (with backoff).
  std::this_thread::sleep_for(150ms);

  // The node comes back on the same port (SO_REUSEADDR despite TIME_WAIT).
  Inbox in2b;
  TransportOptions same_port = LoopbackOptions(2, {{1, 0}});
  same_port.listen_port = port2;
  auto t2b = StartOrDie(same_port, in2b);
  ASSERT_NE(t2b, nullptr);
  ASSERT_TRUE(WaitUntil([&] { return t1->stats()[2].connects == 2; }));
  EXPECT_TRUE(t1->IsConnected(2));
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 0, "second life"));
  ASSERT_TRUE(t2b->Send(1, FrameKind::kRaft, 0, "hello again"));
  ASSERT_TRUE(in2b.WaitForCount(1));
  ASSERT_TRUE(in1.WaitForCount(1));
  EXPECT_EQ(in2b.frames()[0].payload, "second life");
  EXPECT_EQ(in1.frames()[0].payload, "hello again");
  EXPECT_EQ(lost1.count(2), 1);
}

TEST(TransportTest, AcceptorTakesTheDialerBackAfterItRestarts) {
  Inbox in1, in2;
  LostLog lost2;
  auto t2 = StartOrDie(LoopbackOptions(2, {{1, 0}}), in2, &lost2);
  auto t1 = StartOrDie(LoopbackOptions(1, {{2, t2->listen_port()}}), in1);
  ASSERT_TRUE(t2->Send(1, FrameKind::kRaft, 0, "one"));
  ASSERT_TRUE(in1.WaitForCount(1));
  t1.reset();  // the destructor stops it
  ASSERT_TRUE(WaitUntil([&] { return lost2.count(1) == 1; }));

  Inbox in1b;
  auto t1b = StartOrDie(LoopbackOptions(1, {{2, t2->listen_port()}}), in1b);
  ASSERT_TRUE(WaitUntil([&] { return t2->stats()[1].connected; }));
  ASSERT_TRUE(t2->Send(1, FrameKind::kRaft, 0, "two"));
  ASSERT_TRUE(in1b.WaitForCount(1));
  EXPECT_EQ(in1b.frames()[0].payload, "two");
  EXPECT_EQ(t2->stats()[1].connects, 2u);
}

TEST(TransportTest, QueueForAnAbsentPeerIsBounded) {
  Inbox in1, in2;
  // Node 2 waits for node 1 to dial (it never will); node 1 redials a closed port.
  TransportOptions o2 = LoopbackOptions(2, {{1, UnusedPort()}});
  o2.max_queued_bytes_per_peer = 4096;
  auto t2 = StartOrDie(o2, in2);
  TransportOptions o1 = LoopbackOptions(1, {{2, UnusedPort()}});
  o1.max_queued_bytes_per_peer = 4096;
  auto t1 = StartOrDie(o1, in1);

  for (Transport* t : {t2.get(), t1.get()}) {
    uint64_t peer = t == t2.get() ? 1 : 2;
    int accepted = 0;
    while (t->Send(peer, FrameKind::kRaft, 0, std::string(100, 'q'))) ++accepted;
    EXPECT_EQ(accepted, 4096 / 113);
    for (int i = 0; i < 9; ++i)
      EXPECT_FALSE(t->Send(peer, FrameKind::kRaft, 0, std::string(100, 'q')));
    PeerStats s = t->stats()[peer];
    EXPECT_FALSE(s.connected);
    EXPECT_EQ(s.queued_bytes, static_cast<uint64_t>(accepted) * 113);
    EXPECT_EQ(s.frames_dropped, 10u);  // the frame that did not fit, and the nine after it
    // A frame small enough for the space left is still taken.
    EXPECT_TRUE(t->Send(peer, FrameKind::kRaft, 0, std::string(4096 - accepted * 113 - 13, 's')));
  }
  // Unknown peers and oversized payloads are refused outright.
  EXPECT_FALSE(t1->Send(9, FrameKind::kRaft, 0, "nobody"));
  TransportOptions small = LoopbackOptions(3, {{1, 0}});
  small.max_frame_bytes = 64;
  Inbox in3;
  auto t3 = StartOrDie(small, in3);
  EXPECT_FALSE(t3->Send(1, FrameKind::kRaft, 0, std::string(60, 'x')));
  EXPECT_TRUE(t3->Send(1, FrameKind::kRaft, 0, std::string(59, 'x')));
  EXPECT_EQ(t3->stats()[1].frames_dropped, 1u);
}

TEST(TransportTest, ThrowingFrameHandlerDoesNotStallTheConnection) {
  Inbox in2;
  std::atomic<int> calls{0};
  auto started2 = Transport::Start(LoopbackOptions(2, {{1, 0}}), [&](Frame frame) {
    if (calls++ == 0) throw std::runtime_error("handler bug");
    in2.Handler()(std::move(frame));
  });
  ASSERT_TRUE(started2.ok());
  Inbox in1;
  auto t1 = StartOrDie(LoopbackOptions(1, {{2, (*started2)->listen_port()}}), in1);
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 0, "lost to the bug"));
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 0, "still delivered"));
  ASSERT_TRUE(in2.WaitForCount(1));
  EXPECT_EQ(in2.frames()[0].payload, "still delivered");
  EXPECT_EQ((*started2)->stats()[1].connects, 1u);  // the connection survived
}

TEST(TransportTest, StopIsIdempotentAndRefusesLaterSends) {
  Inbox in1, in2;
  auto t2 = StartOrDie(LoopbackOptions(2, {{1, 0}}), in2);
  auto t1 = StartOrDie(LoopbackOptions(1, {{2, t2->listen_port()}}), in1);
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 0, "x"));
  ASSERT_TRUE(in2.WaitForCount(1));
  std::thread other([&] { t1->Stop(); });
  t1->Stop();
  other.join();
  t1->Stop();
  EXPECT_FALSE(t1->Send(2, FrameKind::kRaft, 0, "late"));
  EXPECT_FALSE(t1->stats()[2].connected);
  RawClient client;  // the listening socket is gone
  EXPECT_FALSE(client.Connect(t1->listen_port()));
}

TEST(TransportTest, StartReportsAPortInUse) {
  Inbox in1, in2;
  auto t1 = StartOrDie(LoopbackOptions(1, {}), in1);
  TransportOptions clash = LoopbackOptions(2, {});
  clash.listen_port = t1->listen_port();
  auto started = Transport::Start(clash, in2.Handler());
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), ErrorCode::kIoError);
  EXPECT_NE(started.status().message().find("binding"), std::string::npos);

  TransportOptions no_id = LoopbackOptions(0, {});
  EXPECT_EQ(Transport::Start(no_id, in2.Handler()).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cmq::transport
