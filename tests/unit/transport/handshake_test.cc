// Connection rules enforced against peers that misbehave: wrong cluster, version, magic or
// node ids are refused; a corrupt frame closes the connection undelivered; a newer
// connection from the same node replaces the older; a silent client is timed out. Most use
// a raw socket client that speaks the wire format by hand.

#include <gtest/gtest.h>

#include <string>

#include "common/encoding.h"
#include "transport/frame_codec.h"
#include "transport/transport.h"
#include "transport_test_util.h"

namespace cmq::transport {
namespace {

using namespace testing;

constexpr uint64_t kCluster = 77;

// Node 2 of kCluster, expecting node 1 (which a raw client impersonates) to dial it.
struct Acceptor {
  explicit Acceptor(int64_t handshake_timeout_ms = 1000) {
    TransportOptions o = LoopbackOptions(2, {{1, 0}, {3, UnusedPort()}}, kCluster);
    o.connect_timeout_ms = handshake_timeout_ms;
    auto started = Transport::Start(o, inbox.Handler(), lost.Handler());
    EXPECT_TRUE(started.ok());
    transport = std::move(started).value();
  }
  Inbox inbox;
  LostLog lost;
  std::unique_ptr<Transport> transport;
};

std::string HandshakeString(const Handshake& h) {
  HandshakeBytes bytes = EncodeHandshake(h);
  return std::string(bytes.data(), bytes.size());
}

// Connects as node 1 and completes the handshake; returns false if it was refused.
bool Greet(RawClient& client, uint16_t port) {
  if (!client.Connect(port)) return false;
  if (!client.Write(HandshakeString({kWireVersion, kCluster, 1, 2}))) return false;
  std::string reply;
  if (!client.Read(kHandshakeBytes, reply)) return false;
  HandshakeBytes bytes;
  std::copy(reply.begin(), reply.end(), bytes.begin());
  Handshake h;
  return DecodeHandshake(bytes, h) && h.version == kWireVersion && h.cluster_id == kCluster &&
         h.from == 2 && h.to == 1;
}

TEST(HandshakeTest, TransportOfAnotherClusterIsRefused) {
  Inbox in1, in2;
  auto t2 = Transport::Start(LoopbackOptions(2, {{1, 0}}, /*cluster_id=*/7), in2.Handler());
  ASSERT_TRUE(t2.ok());
  auto t1 = Transport::Start(LoopbackOptions(1, {{2, (*t2)->listen_port()}}, /*cluster_id=*/8),
                             in1.Handler());
  ASSERT_TRUE(t1.ok());
  ASSERT_TRUE((*t1)->Send(2, FrameKind::kRaft, 0, "must not arrive"));
  ASSERT_TRUE((*t2)->Send(1, FrameKind::kRaft, 0, "must not arrive either"));
  // Several redials (10..100 ms backoff) get refused in this time.
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(in1.size(), 0u);
  EXPECT_EQ(in2.size(), 0u);
  EXPECT_EQ((*t1)->stats()[2].connects, 0u);
  EXPECT_EQ((*t2)->stats()[1].connects, 0u);
  EXPECT_FALSE((*t1)->stats()[2].connected);
}

TEST(HandshakeTest, BadHandshakesAreClosedWithoutAnAnswer) {
  Acceptor node;
  const uint16_t port = node.transport->listen_port();
  struct Case {
    const char* what;
    std::string bytes;
  };
  std::string bad_magic = HandshakeString({kWireVersion, kCluster, 1, 2});
  bad_magic[0] = 'X';
  const Case cases[] = {
      {"wrong cluster", HandshakeString({kWireVersion, kCluster + 1, 1, 2})},
      {"wrong version", HandshakeString({kWireVersion + 1, kCluster, 1, 2})},
      {"wrong magic", bad_magic},
      {"unknown node", HandshakeString({kWireVersion, kCluster, 5, 2})},
      {"addressed to another node", HandshakeString({kWireVersion, kCluster, 1, 4})},
      // Node 3 has the larger id: node 2 dials it, so it may not dial node 2.
      {"larger id dialing", HandshakeString({kWireVersion, kCluster, 3, 2})},
  };
  for (const Case& c : cases) {
    RawClient client;
    ASSERT_TRUE(client.Connect(port)) << c.what;
    ASSERT_TRUE(client.Write(c.bytes)) << c.what;
    EXPECT_TRUE(client.WaitClosed()) << c.what;
    EXPECT_EQ(client.bytes_before_close(), 0u) << c.what << ": got an answer";
  }
  EXPECT_EQ(node.transport->stats()[1].connects, 0u);
  EXPECT_EQ(node.lost.count(1), 0);
}

TEST(HandshakeTest, CorruptFrameClosesTheConnectionUndelivered) {
  Acceptor node;
  RawClient client;
  ASSERT_TRUE(Greet(client, node.transport->listen_port()));
  ASSERT_TRUE(client.Write(EncodeFrame(FrameKind::kRaft, 5, "good")));
  ASSERT_TRUE(node.inbox.WaitForCount(1));

  std::string corrupt = EncodeFrame(FrameKind::kRaft, 6, "evil");
  corrupt.back() ^= 0x01;
  // A valid frame after it proves that nothing behind the corruption is delivered either.
  ASSERT_TRUE(client.Write(corrupt + EncodeFrame(FrameKind::kRaft, 7, "after")));
  EXPECT_TRUE(client.WaitClosed());
  ASSERT_TRUE(WaitUntil([&] { return node.lost.count(1) == 1; }));
  auto frames = node.inbox.frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].from, 1u);
  EXPECT_EQ(frames[0].group, 5u);
  EXPECT_EQ(frames[0].payload, "good");
  EXPECT_FALSE(node.transport->stats()[1].connected);
}

TEST(HandshakeTest, OversizedFrameLengthClosesTheConnection) {
  Acceptor node;
  RawClient client;
  ASSERT_TRUE(Greet(client, node.transport->listen_port()));
  std::string header(8, '\0');
  EncodeFixed32(header.data(), 0xffffffffu);  // over the default 1 GiB max_frame_bytes
  ASSERT_TRUE(client.Write(header));
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_EQ(node.inbox.size(), 0u);
}

TEST(HandshakeTest, NewerConnectionFromTheSameNodeReplacesTheOlder) {
  Acceptor node;
  const uint16_t port = node.transport->listen_port();
  RawClient old_conn, new_conn;
  ASSERT_TRUE(Greet(old_conn, port));
  ASSERT_TRUE(WaitUntil([&] { return node.transport->stats()[1].connects == 1; }));
  ASSERT_TRUE(Greet(new_conn, port));
  EXPECT_TRUE(old_conn.WaitClosed());
  ASSERT_TRUE(WaitUntil([&] { return node.lost.count(1) == 1; }));
  PeerStats s = node.transport->stats()[1];
  EXPECT_TRUE(s.connected);
  EXPECT_EQ(s.connects, 2u);

  // Traffic flows on the new connection, both ways.
  ASSERT_TRUE(node.transport->Send(1, FrameKind::kForwardRequest, 9, "via new"));
  std::string frame;
  ASSERT_TRUE(new_conn.Read(kFramePrefixBytes + 7, frame));
  EXPECT_EQ(frame, EncodeFrame(FrameKind::kForwardRequest, 9, "via new"));
  ASSERT_TRUE(new_conn.Write(EncodeFrame(FrameKind::kRaft, 1, "from new")));
  ASSERT_TRUE(node.inbox.WaitForCount(1));
  EXPECT_EQ(node.inbox.frames()[0].payload, "from new");
}

TEST(HandshakeTest, SilentClientIsTimedOut) {
  Acceptor node(/*handshake_timeout_ms=*/100);
  RawClient client;
  ASSERT_TRUE(client.Connect(node.transport->listen_port()));
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.WaitClosed(3s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  // The node still accepts a well-behaved peer afterwards.
  RawClient good;
  EXPECT_TRUE(Greet(good, node.transport->listen_port()));
}

}  // namespace
}  // namespace cmq::transport
