// Mutual TLS between nodes (docs/transport.md "TLS"): traffic over TLS in both directions,
// large frames, and the refusals: a node whose certificate another authority signed, a
// node without TLS, and bad files at start.

#include "transport/peer_tls.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "transport/transport.h"
#include "transport_test_util.h"

namespace cmq::transport {
namespace {

using namespace testing;

const std::string kDir = std::string(CMQ_TEST_FIXTURES_DIR) + "/peer-tls/";

TransportOptions WithTls(TransportOptions o, const std::string& name = "node") {
  o.tls_cert_file = kDir + name + ".crt";
  o.tls_key_file = kDir + name + ".key";
  o.tls_ca_file = kDir + "ca.crt";
  return o;
}

std::unique_ptr<Transport> StartOrDie(TransportOptions options, Inbox& inbox) {
  auto started = Transport::Start(std::move(options), inbox.Handler());
  EXPECT_TRUE(started.ok()) << started.status().ToString();
  return started.ok() ? std::move(started).value() : nullptr;
}

TEST(PeerTlsTest, NodesExchangeFramesInOrderBothWaysOverTls) {
  Inbox in1, in2;
  auto t2 = StartOrDie(WithTls(LoopbackOptions(2, {{1, 0}})), in2);
  ASSERT_NE(t2, nullptr);
  auto t1 = StartOrDie(WithTls(LoopbackOptions(1, {{2, t2->listen_port()}})), in1);
  ASSERT_NE(t1, nullptr);
  // Many small frames and one of 5 MiB: TLS records are at most 16 KiB, so the large one
  // crosses hundreds of them, and the small ones share records.
  const std::string large(5 << 20, 'L');
  for (uint32_t i = 0; i < 500; ++i) {
    ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, i, "to two " + std::to_string(i)));
    ASSERT_TRUE(t2->Send(1, FrameKind::kRaft, i, "to one " + std::to_string(i)));
    if (i == 250) {
      ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 9999, large));
    }
  }
  ASSERT_TRUE(in2.WaitForCount(501, 10s));
  ASSERT_TRUE(in1.WaitForCount(500, 10s));
  auto f2 = in2.frames();
  auto f1 = in1.frames();
  for (uint32_t i = 0, j = 0; i < 501; ++i) {
    if (i == 251) {
      EXPECT_EQ(f2[i].group, 9999u);
      EXPECT_EQ(f2[i].payload, large);
      continue;
    }
    EXPECT_EQ(f2[i].from, 1u);
    EXPECT_EQ(f2[i].payload, "to two " + std::to_string(j++));
  }
  for (uint32_t i = 0; i < 500; ++i) EXPECT_EQ(f1[i].payload, "to one " + std::to_string(i));
  EXPECT_EQ(t1->stats()[2].connects, 1u);
}

// A node whose certificate another authority signed is refused whichever side dials.
TEST(PeerTlsTest, ANodeWithAStrangersCertificateIsRefused) {
  Inbox in1, in2, in3;
  auto t2 = StartOrDie(WithTls(LoopbackOptions(2, {{1, 0}, {3, UnusedPort()}})), in2);
  ASSERT_NE(t2, nullptr);
  // Node 1 (a stranger) dials node 2; node 2 dials node 3 (another stranger).
  auto t1 = StartOrDie(WithTls(LoopbackOptions(1, {{2, t2->listen_port()}}), "stranger"), in1);
  auto t3 = StartOrDie(WithTls(LoopbackOptions(3, {{2, t2->listen_port()}}), "stranger"), in3);
  ASSERT_NE(t1, nullptr);
  ASSERT_NE(t3, nullptr);
  t2->AddPeer(3, PeerAddress{"127.0.0.1", t3->listen_port()});
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 1, "let me in"));
  ASSERT_TRUE(t2->Send(3, FrameKind::kRaft, 1, "who are you"));
  // Several dial attempts fail meanwhile (backoff 10..100 ms).
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(in2.size(), 0u);
  EXPECT_EQ(in3.size(), 0u);
  EXPECT_FALSE(t1->IsConnected(2));
  EXPECT_FALSE(t2->IsConnected(1));
  EXPECT_FALSE(t2->IsConnected(3));
  EXPECT_EQ(t2->stats()[3].connects, 0u);
}

TEST(PeerTlsTest, ATlsNodeAndAPlainNodeDoNotConnect) {
  Inbox in1, in2;
  auto t2 = StartOrDie(WithTls(LoopbackOptions(2, {{1, 0}})), in2);
  ASSERT_NE(t2, nullptr);
  auto t1 = StartOrDie(LoopbackOptions(1, {{2, t2->listen_port()}}), in1);  // no TLS
  ASSERT_NE(t1, nullptr);
  ASSERT_TRUE(t1->Send(2, FrameKind::kRaft, 1, "plain"));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(in2.size(), 0u);
  EXPECT_FALSE(t1->IsConnected(2));
  EXPECT_EQ(t1->stats()[2].connects, 0u);
}

TEST(PeerTlsTest, BadFilesStopTheStartWithTheFileNamed) {
  Inbox inbox;
  auto only_two = WithTls(LoopbackOptions(1, {}));
  only_two.tls_ca_file.clear();
  auto started = Transport::Start(only_two, inbox.Handler());
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(started.status().message().find("all three"), std::string::npos);

  auto missing = WithTls(LoopbackOptions(1, {}));
  missing.tls_cert_file = kDir + "missing.crt";
  started = Transport::Start(missing, inbox.Handler());
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.status().message().find("missing.crt"), std::string::npos);

  auto wrong_key = WithTls(LoopbackOptions(1, {}));
  wrong_key.tls_key_file = kDir + "stranger.key";  // not node.crt's key
  started = Transport::Start(wrong_key, inbox.Handler());
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.status().message().find("stranger.key"), std::string::npos);

  auto bad_ca = WithTls(LoopbackOptions(1, {}));
  bad_ca.tls_ca_file = kDir + "README.md";  // no certificate in it
  started = Transport::Start(bad_ca, inbox.Handler());
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.status().message().find("README.md"), std::string::npos);
}

}  // namespace
}  // namespace cmq::transport
