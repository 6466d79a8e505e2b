// The wire form of forwarded requests and responses: round trips, and refusal of anything
// damaged (a node must never run a request it did not receive whole). Version 2 requests
// (several data groups) carry the internal flag and the pinned group; a plain request
// keeps version 1, so that nodes of a single group read it as before.

#include "api/forwarding.h"

#include <gtest/gtest.h>

#include "api_test_util.h"
#include "cluster/group_router.h"
#include "cluster/peer_network.h"
#include "common/encoding.h"
#include "mq/placement.h"

namespace cmq::api {
namespace {

TEST(ForwardingTest, RequestRoundTripsUnchanged) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/v2/index.php?x=1";
  r.host = "10.0.0.1:8080";
  r.body = std::string("Action=SendMessage&msgBody=a%00b", 32) + std::string(1, '\0');
  auto back = DecodeForwardedRequest(EncodeForwardedRequest(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->method, r.method);
  EXPECT_EQ(back->target, r.target);
  EXPECT_EQ(back->host, r.host);  // the leader checks the signature over the same Host
  EXPECT_EQ(back->body, r.body);
}

TEST(ForwardingTest, ResponseRoundTrips) {
  HttpResponse r;
  r.status = 200;
  r.body = R"({"code":0,"message":"","requestId":"1"})";
  auto back = DecodeForwardedResponse(EncodeForwardedResponse(r));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->status, 200);
  EXPECT_EQ(back->body, r.body);
}

TEST(ForwardingTest, DamagedInputIsRefused) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/";
  r.host = "h";
  r.body = "Action=ListQueue";
  std::string good = EncodeForwardedRequest(r);
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeForwardedRequest(good.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeForwardedRequest(good + "!").ok());
  std::string wrong_version = good;
  wrong_version[0] = 9;
  EXPECT_FALSE(DecodeForwardedRequest(wrong_version).ok());

  HttpResponse resp;
  resp.body = "{}";
  std::string g = EncodeForwardedResponse(resp);
  for (size_t cut = 0; cut < g.size(); ++cut) {
    EXPECT_FALSE(DecodeForwardedResponse(g.substr(0, cut)).ok()) << cut;
  }
  HttpResponse odd;
  odd.status = 42;  // not an HTTP status
  EXPECT_FALSE(DecodeForwardedResponse(EncodeForwardedResponse(odd)).ok());
}

// An internal request pinned to group 2, as RunInGroup sends it.
HttpRequest InternalPinned() {
  HttpRequest r;
  r.method = "POST";
  r.target = "/v2/index.php";
  r.body = "Action=ListQueue&offset=0&limit=70";
  r.internal = true;
  r.group = 2;
  return r;
}

TEST(ForwardingTest, InternalFlagAndGroupRoundTrip) {
  const HttpRequest r = InternalPinned();
  const std::string wire = EncodeForwardedRequest(r);
  EXPECT_EQ(static_cast<uint8_t>(wire[0]), 2);
  auto back = DecodeForwardedRequest(wire);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->internal);  // else the leader would check a signature it does not have
  EXPECT_EQ(back->group, 2u);
  EXPECT_EQ(back->method, r.method);
  EXPECT_EQ(back->target, r.target);
  EXPECT_EQ(back->host, r.host);
  EXPECT_EQ(back->body, r.body);

  // Each alone is kept too (a pinned request that is not internal, and the reverse).
  HttpRequest pinned_only = r;
  pinned_only.internal = false;
  auto p = DecodeForwardedRequest(EncodeForwardedRequest(pinned_only));
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->internal);
  EXPECT_EQ(p->group, 2u);
  HttpRequest internal_only = r;
  internal_only.group = 0;
  auto i = DecodeForwardedRequest(EncodeForwardedRequest(internal_only));
  ASSERT_TRUE(i.ok());
  EXPECT_TRUE(i->internal);
  EXPECT_EQ(i->group, 0u);

  // The largest group id fits.
  HttpRequest big = r;
  big.group = UINT32_MAX;
  auto b = DecodeForwardedRequest(EncodeForwardedRequest(big));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->group, UINT32_MAX);
}

TEST(ForwardingTest, APlainRequestStaysVersion1) {
  HttpRequest r;
  r.method = "GET";
  r.target = "/v2/index.php?Action=ListQueue";
  r.host = "h:1";
  const std::string wire = EncodeForwardedRequest(r);
  ASSERT_FALSE(wire.empty());
  EXPECT_EQ(static_cast<uint8_t>(wire[0]), 1);
  auto back = DecodeForwardedRequest(wire);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_FALSE(back->internal);
  EXPECT_EQ(back->group, 0u);
  EXPECT_EQ(back->target, r.target);
}

TEST(ForwardingTest, Version2WithUnknownFlagsOrDamageIsRefused) {
  const std::string good = EncodeForwardedRequest(InternalPinned());
  ASSERT_TRUE(DecodeForwardedRequest(good).ok());
  // [version][flags][group varint]...: a flag this node does not know may change the
  // request's meaning, so it is not run. Bit 0 is `internal`, bit 1 `tcp`.
  for (int bit = 2; bit < 8; ++bit) {
    std::string unknown = good;
    unknown[1] = static_cast<char>(1 | (1 << bit));
    EXPECT_FALSE(DecodeForwardedRequest(unknown).ok()) << bit;
  }
  // Every cut, including inside the v2 header (after the version, after the flags).
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeForwardedRequest(good.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeForwardedRequest(good + "x").ok());
  // A group id past 32 bits.
  std::string huge;
  huge.push_back(2);
  huge.push_back(1);
  PutVarint64(huge, uint64_t{UINT32_MAX} + 1);
  huge += good.substr(3);  // the same fields after the (one-byte) group 2
  EXPECT_FALSE(DecodeForwardedRequest(huge).ok());
  // The same framing with the largest 32-bit group is read (the refusal above is the range).
  std::string widest;
  widest.push_back(2);
  widest.push_back(1);
  PutVarint64(widest, UINT32_MAX);
  widest += good.substr(3);
  auto w = DecodeForwardedRequest(widest);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->group, UINT32_MAX);
}

// A CMQ TCP protocol request (HttpRequest::tcp): its body is a binary CMQProto, and the
// flag must survive the trip or the leader would read the body as a form.
TEST(ForwardingTest, TcpFlagRoundTrips) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/";
  r.tcp = true;
  r.route_name = "orders";
  r.body = std::string("\x08\x01\x10\xfd\x07\x00\xff", 7);
  const std::string wire = EncodeForwardedRequest(r);
  EXPECT_EQ(static_cast<uint8_t>(wire[0]), 2);  // flags need version 2
  auto back = DecodeForwardedRequest(wire);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->tcp);
  EXPECT_FALSE(back->internal);
  EXPECT_EQ(back->group, 0u);
  EXPECT_EQ(back->body, r.body);
  EXPECT_EQ(back->route_name, "");  // not forwarded: the leader reads the body
  EXPECT_EQ(back->tcp_client_id, "");

  // The connection's client id travels too: a transaction message remembers its producer.
  r.tcp_client_id = "producer-7";
  const std::string with_client = EncodeForwardedRequest(r);
  auto client = DecodeForwardedRequest(with_client);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ(client->tcp_client_id, "producer-7");
  EXPECT_EQ(client->body, r.body);
  for (size_t cut = 0; cut < with_client.size(); ++cut) {
    EXPECT_FALSE(DecodeForwardedRequest(with_client.substr(0, cut)).ok()) << cut;
  }
  r.tcp_client_id.clear();

  // With internal and a pinned group as well, each flag is kept.
  r.internal = true;
  r.group = 3;
  auto both = DecodeForwardedRequest(EncodeForwardedRequest(r));
  ASSERT_TRUE(both.ok());
  EXPECT_TRUE(both->tcp);
  EXPECT_TRUE(both->internal);
  EXPECT_EQ(both->group, 3u);
  // And a non-TCP request does not become one.
  HttpRequest internal_only = InternalPinned();
  auto i = DecodeForwardedRequest(EncodeForwardedRequest(internal_only));
  ASSERT_TRUE(i.ok());
  EXPECT_FALSE(i->tcp);
}

// GroupOf with a real (idle) PeerNetwork and a router of three groups whose replicas are
// never touched.
class ForwardingGroupOfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster::PeerNetworkOptions options;
    options.transport.node_id = 1;
    options.transport.listen_host = "127.0.0.1";
    auto started = cluster::PeerNetwork::Start(options);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    network_ = std::move(started).value();
    forwarding_ = std::make_unique<ForwardingHandler>(h_.dispatcher, router_, *network_, h_.clock);
  }
  void TearDown() override {
    if (network_) network_->Stop();
  }
  // Two names in different groups.
  static std::pair<std::string, std::string> NamesInTwoGroups() {
    const std::string first = "q0";
    for (int i = 1; i < 100; ++i) {
      std::string name = "q" + std::to_string(i);
      if (mq::GroupOfName(name, 3) != mq::GroupOfName(first, 3)) return {first, name};
    }
    ADD_FAILURE() << "no two names in different groups";
    return {first, first};
  }

  testing::DispatcherHarness h_;
  cluster::GroupRouter router_{std::vector<cluster::Node*>(3, nullptr)};
  std::unique_ptr<cluster::PeerNetwork> network_;
  std::unique_ptr<ForwardingHandler> forwarding_;
};

TEST_F(ForwardingGroupOfTest, TcpRequestsGoToTheGroupOfTheirRouteName) {
  const auto [a, b] = NamesInTwoGroups();
  HttpRequest r;
  r.method = "POST";
  r.target = "/";
  r.tcp = true;
  r.body = "Action=SendMessage&queueName=" + b;  // never read as a form
  r.route_name = a;
  EXPECT_EQ(forwarding_->GroupOf(r), mq::GroupOfName(a, 3));
  r.route_name = b;
  EXPECT_EQ(forwarding_->GroupOf(r), mq::GroupOfName(b, 3));
  // No name (a command without its body): answered where it arrives.
  r.route_name.clear();
  EXPECT_EQ(forwarding_->GroupOf(r), 0u);
  // A pinned group still wins.
  r.route_name = a;
  r.group = 2;
  EXPECT_EQ(forwarding_->GroupOf(r), 2u);
  // The same name over HTTP lands in the same group.
  HttpRequest http;
  http.method = "POST";
  http.target = "/";
  http.body = "Action=SendMessage&queueName=" + a;
  EXPECT_EQ(forwarding_->GroupOf(http), mq::GroupOfName(a, 3));
}

}  // namespace
}  // namespace cmq::api
