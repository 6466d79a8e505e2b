// The wire form of forwarded requests and responses: round trips, and refusal of anything
// damaged (a node must never run a request it did not receive whole).

#include "api/forwarding.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace cmq::api
