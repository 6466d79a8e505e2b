// QueryQueueRoute and QueryTopicRoute: what the official TCP SDK asks over HTTP before it
// connects (spec/cmq-tcp-protocol.md §4.1): {"code":0,"message":"","addr":["ip:port",...]}.

#include <gtest/gtest.h>

#include "api_test_util.h"

namespace cmq::api {
namespace {

using testing::DispatcherHarness;

ServerConfig WithTcp(std::string tcp, std::vector<std::string> route = {}) {
  ServerConfig config;
  config.tcp = std::move(tcp);
  config.tcp_route = std::move(route);
  return config;
}

void CreateQueueAndTopic(DispatcherHarness& h) {
  ASSERT_EQ(h.Post({{"Action", "CreateQueue"}, {"queueName", "q"}})["code"], 0);
  ASSERT_EQ(h.Post({{"Action", "CreateTopic"}, {"topicName", "t"}})["code"], 0);
}

TEST(RouteActionsTest, AnswersTheListenerAddress) {
  DispatcherHarness h(WithTcp("192.0.2.10:9100"));
  CreateQueueAndTopic(h);
  auto q = h.Post({{"Action", "QueryQueueRoute"}, {"queueName", "q"}});
  EXPECT_EQ(q["code"], 0) << q;
  EXPECT_EQ(q["message"], "");
  EXPECT_EQ(q["addr"], nlohmann::json::array({"192.0.2.10:9100"}));
  auto t = h.Post({{"Action", "QueryTopicRoute"}, {"topicName", "t"}});
  EXPECT_EQ(t["code"], 0) << t;
  EXPECT_EQ(t["addr"], nlohmann::json::array({"192.0.2.10:9100"}));
}

TEST(RouteActionsTest, TcpRouteOverridesTheListenerAddress) {
  DispatcherHarness h(WithTcp("0.0.0.0:9100", {"10.0.0.1:9100", "10.0.0.2:9101"}));
  CreateQueueAndTopic(h);
  const auto expected = nlohmann::json::array({"10.0.0.1:9100", "10.0.0.2:9101"});
  EXPECT_EQ(h.Post({{"Action", "QueryQueueRoute"}, {"queueName", "q"}})["addr"], expected);
  EXPECT_EQ(h.Post({{"Action", "QueryTopicRoute"}, {"topicName", "t"}})["addr"], expected);
  // tcp_route alone (this node does not listen, others do) is enough.
  DispatcherHarness route_only(WithTcp("", {"10.0.0.3:9100"}));
  CreateQueueAndTopic(route_only);
  EXPECT_EQ(route_only.Post({{"Action", "QueryQueueRoute"}, {"queueName", "q"}})["addr"],
            nlohmann::json::array({"10.0.0.3:9100"}));
}

TEST(RouteActionsTest, GetRequestsAsTheSdkSendsThemWork) {
  DispatcherHarness h(WithTcp("127.0.0.1:9100"));
  CreateQueueAndTopic(h);
  HttpRequest r;
  r.method = "GET";
  r.target = "/v2/index.php?Action=QueryQueueRoute&queueName=q&Nonce=1&Timestamp=1";
  r.host = "127.0.0.1:8080";
  auto j = DispatcherHarness::Parse(h.Raw(std::move(r)));
  EXPECT_EQ(j["code"], 0) << j;
  EXPECT_EQ(j["addr"], nlohmann::json::array({"127.0.0.1:9100"}));
}

TEST(RouteActionsTest, MissingQueueOrTopicIsAnError) {
  DispatcherHarness h(WithTcp("127.0.0.1:9100"));
  CreateQueueAndTopic(h);
  auto q = h.Post({{"Action", "QueryQueueRoute"}, {"queueName", "nosuch"}});
  EXPECT_EQ(q["code"], 4440);
  EXPECT_EQ(q["message"], "(10100)queue is not existed, or deleted");
  EXPECT_FALSE(q.contains("addr"));
  auto t = h.Post({{"Action", "QueryTopicRoute"}, {"topicName", "nosuch"}});
  EXPECT_EQ(t["code"], 4440);
  EXPECT_EQ(t["message"], "(10600)topic is not existed, or deleted");
  EXPECT_FALSE(t.contains("addr"));
  // A queue is not a topic, nor the reverse.
  EXPECT_EQ(h.Post({{"Action", "QueryTopicRoute"}, {"topicName", "q"}})["code"], 4440);
  EXPECT_EQ(h.Post({{"Action", "QueryQueueRoute"}, {"queueName", "t"}})["code"], 4440);
}

TEST(RouteActionsTest, BadOrMissingNameIs4000) {
  DispatcherHarness h(WithTcp("127.0.0.1:9100"));
  auto none = h.Post({{"Action", "QueryQueueRoute"}});
  EXPECT_EQ(none["code"], 4000);
  EXPECT_EQ(none["message"], "(10390)lacked of required parameter queueName");
  EXPECT_EQ(h.Post({{"Action", "QueryTopicRoute"}})["code"], 4000);
  EXPECT_EQ(h.Post({{"Action", "QueryQueueRoute"}, {"queueName", "bad name!"}})["message"],
            "(10020)queue name format error");
  EXPECT_EQ(h.Post({{"Action", "QueryTopicRoute"}, {"topicName", "bad name!"}})["message"],
            "(10590)topic name format error");
}

TEST(RouteActionsTest, TcpOffIs6000) {
  DispatcherHarness h;  // neither tcp nor tcp_route
  CreateQueueAndTopic(h);
  auto q = h.Post({{"Action", "QueryQueueRoute"}, {"queueName", "q"}});
  EXPECT_EQ(q["code"], 6000);
  EXPECT_NE(std::string(q["message"]).find("TCP protocol is not enabled"), std::string::npos) << q;
  EXPECT_FALSE(q.contains("addr"));
  EXPECT_EQ(h.Post({{"Action", "QueryTopicRoute"}, {"topicName", "t"}})["code"], 6000);
  // A missing queue is still reported as such.
  EXPECT_EQ(h.Post({{"Action", "QueryQueueRoute"}, {"queueName", "nosuch"}})["code"], 4440);
}

}  // namespace
}  // namespace cmq::api
