// Publish/subscribe against a real cmqd: fan-out into queue subscriptions with tag and
// routing-key filters, HTTP push with retries, and push state that survives kill -9.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "cmqd_process.h"
#include "http_client.h"
#include "push_endpoint.h"

namespace cmq::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

class TopicTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new CmqdProcess(MakeTempDir("cmq-topic"));
    server_->Start();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { client_ = std::make_unique<HttpClient>(server_->port()); }

  std::string Name(const std::string& suffix) {
    std::string name = std::string("t-") +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name() + suffix;
    return name.substr(0, 64);
  }
  json Ok(const std::string& action, FormParams params) {
    json r = client_->Call(action, params);
    EXPECT_EQ(r["code"], 0) << action << ": " << r.dump();
    return r;
  }
  // The bodies currently receivable from a queue (received and deleted).
  std::vector<std::string> Drain(const std::string& queue) {
    std::vector<std::string> bodies;
    for (;;) {
      json r = client_->Call("BatchReceiveMessage", {{"queueName", queue}, {"numOfMsg", "16"}});
      if (r["code"] != 0) break;
      FormParams del = {{"queueName", queue}};
      int k = 1;
      for (const auto& m : r["msgInfoList"]) {
        bodies.push_back(m["msgBody"]);
        del.emplace_back("receiptHandle." + std::to_string(k++), m["receiptHandle"]);
      }
      client_->Call("BatchDeleteMessage", del);
    }
    return bodies;
  }
  static bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (cond()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return cond();
  }

  static CmqdProcess* server_;
  std::unique_ptr<HttpClient> client_;
};

CmqdProcess* TopicTest::server_ = nullptr;

TEST_F(TopicTest, TagFilteredFanOutIntoQueues) {
  std::string topic = Name(""), qa = Name("-a"), qall = Name("-all");
  Ok("CreateQueue", {{"queueName", qa}});
  Ok("CreateQueue", {{"queueName", qall}});
  json created = Ok("CreateTopic", {{"topicName", topic}});
  EXPECT_TRUE(created["topicId"].is_string());
  Ok("Subscribe", {{"topicName", topic},
                   {"subscriptionName", "sa"},
                   {"protocol", "queue"},
                   {"endpoint", qa},
                   {"filterTag.1", "a"}});
  Ok("Subscribe", {{"topicName", topic},
                   {"subscriptionName", "sall"},
                   {"protocol", "queue"},
                   {"endpoint", qall}});
  json p1 = Ok("PublishMessage", {{"topicName", topic}, {"msgBody", "tagged"}, {"msgTag.1", "a"}});
  EXPECT_TRUE(p1["msgId"].is_string());
  Ok("PublishMessage", {{"topicName", topic}, {"msgBody", "other"}, {"msgTag.1", "b"}});
  Ok("PublishMessage", {{"topicName", topic}, {"msgBody", "plain"}});
  EXPECT_EQ(Drain(qa), (std::vector<std::string>{"tagged"}));
  EXPECT_EQ(Drain(qall), (std::vector<std::string>{"tagged", "other", "plain"}));
}

TEST_F(TopicTest, RoutingKeysWithWildcards) {
  std::string topic = Name(""), q = Name("-q");
  Ok("CreateQueue", {{"queueName", q}});
  Ok("CreateTopic", {{"topicName", topic}, {"filterType", "2"}});
  Ok("Subscribe", {{"topicName", topic},
                   {"subscriptionName", "s"},
                   {"protocol", "queue"},
                   {"endpoint", q},
                   {"bindingKey.1", "1.*.0"},
                   {"bindingKey.2", "x.#"}});
  Ok("PublishMessage", {{"topicName", topic}, {"msgBody", "m1"}, {"routingKey", "1.x.0"}});
  Ok("PublishMessage", {{"topicName", topic}, {"msgBody", "m2"}, {"routingKey", "x"}});
  json miss = client_->Call("PublishMessage",
                            {{"topicName", topic}, {"msgBody", "m3"}, {"routingKey", "1.x.y.0"}});
  EXPECT_EQ(miss["code"], 6030) << miss.dump();
  EXPECT_EQ(Drain(q), (std::vector<std::string>{"m1", "m2"}));
}

TEST_F(TopicTest, BatchPublishAndTopicAttributes) {
  std::string topic = Name(""), q = Name("-q");
  Ok("CreateQueue", {{"queueName", q}});
  Ok("CreateTopic", {{"topicName", topic}, {"maxMsgSize", "2048"}});
  json empty = client_->Call("PublishMessage", {{"topicName", topic}, {"msgBody", "x"}});
  EXPECT_EQ(empty["code"], 6030) << empty.dump();  // no subscription yet
  Ok("Subscribe",
     {{"topicName", topic}, {"subscriptionName", "s"}, {"protocol", "queue"}, {"endpoint", q}});
  json r =
      Ok("BatchPublishMessage", {{"topicName", topic}, {"msgBody.1", "b1"}, {"msgBody.2", "b2"}});
  ASSERT_EQ(r["msgList"].size(), 2u);
  EXPECT_EQ(Drain(q), (std::vector<std::string>{"b1", "b2"}));
  json a = Ok("GetTopicAttributes", {{"topicName", topic}});
  for (const char* f : {"msgCount", "maxMsgSize", "msgRetentionSeconds", "createTime",
                        "lastModifyTime", "filterType"}) {
    EXPECT_TRUE(a[f].is_number_integer()) << f << " " << a.dump();
  }
  EXPECT_EQ(a["maxMsgSize"], 2048);
  json del = client_->Call("DeleteTopic", {{"topicName", topic}});
  EXPECT_EQ(del["code"], 4000) << del.dump();  // subscriptions exist
  Ok("Unsubscribe", {{"topicName", topic}, {"subscriptionName", "s"}});
  Ok("DeleteTopic", {{"topicName", topic}});
}

TEST_F(TopicTest, HttpPushRetriesUntilTheEndpointAnswers200) {
  PushEndpoint endpoint(/*failures=*/2);
  std::string topic = Name("");
  Ok("CreateTopic", {{"topicName", topic}});
  Ok("Subscribe", {{"topicName", topic},
                   {"subscriptionName", "web"},
                   {"protocol", "http"},
                   {"endpoint", "http://127.0.0.1:" + std::to_string(endpoint.port()) + "/hook"},
                   {"notifyStrategy", "EXPONENTIAL_DECAY_RETRY"},
                   {"notifyContentFormat", "JSON"}});
  json p =
      Ok("PublishMessage", {{"topicName", topic}, {"msgBody", "pushed body"}, {"msgTag.1", "t1"}});
  ASSERT_TRUE(WaitFor([&] { return endpoint.count() >= 3; }, 15s))
      << "got " << endpoint.count() << " push attempts";
  std::vector<PushedRequest> got = endpoint.requests();
  EXPECT_EQ(got.size(), 3u);  // two failures, then delivered: no more attempts
  const PushedRequest& last = got.back();
  EXPECT_EQ(last.target, "/hook");
  EXPECT_EQ(last.user_agent, "Qcloud Notification Service Agent");
  EXPECT_EQ(last.message_id, p["msgId"].get<std::string>());
  EXPECT_EQ(last.message_tag, "t1");
  json body = json::parse(last.body);
  EXPECT_EQ(body["msgBody"], "pushed body");
  EXPECT_EQ(body["topicName"], topic);
  EXPECT_EQ(body["subscriptionName"], "web");
  EXPECT_EQ(body["msgId"], p["msgId"]);
  EXPECT_TRUE(body["publishTime"].is_number_integer());
  ASSERT_TRUE(WaitFor(
      [&] {
        return client_->Call("GetSubscriptionAttributes",
                             {{"topicName", topic}, {"subscriptionName", "web"}})["msgCount"] == 0;
      },
      5s));
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(endpoint.count(), 3u) << "a delivered message was pushed again";
}

// A slow subscriber holds back only its own subscription: publishing stays fast, and a
// fast subscriber of the same topic gets every message while the slow one lags.
TEST_F(TopicTest, SlowEndpointHoldsBackOnlyItsOwnSubscription) {
  PushEndpoint slow(0, 0, 1500ms);
  PushEndpoint fast(0);
  std::string topic = Name("");
  Ok("CreateTopic", {{"topicName", topic}});
  Ok("Subscribe", {{"topicName", topic},
                   {"subscriptionName", "slow"},
                   {"protocol", "http"},
                   {"endpoint", "http://127.0.0.1:" + std::to_string(slow.port())}});
  Ok("Subscribe", {{"topicName", topic},
                   {"subscriptionName", "fast"},
                   {"protocol", "http"},
                   {"endpoint", "http://127.0.0.1:" + std::to_string(fast.port())}});
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    Ok("PublishMessage", {{"topicName", topic}, {"msgBody", "m" + std::to_string(i)}});
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s) << "publishing waited for pushes";
  ASSERT_TRUE(WaitFor([&] { return fast.count() >= 20; }, 5s)) << fast.count();
  EXPECT_LT(slow.count(), 20u) << "the slow endpoint cannot have answered all yet";
  json a = client_->Call("GetSubscriptionAttributes",
                         {{"topicName", topic}, {"subscriptionName", "slow"}});
  EXPECT_GT(a["msgCount"].get<int>(), 0) << a.dump();
}

TEST_F(TopicTest, SimplifiedFormatPostsTheRawBody) {
  PushEndpoint endpoint(0);
  std::string topic = Name("");
  Ok("CreateTopic", {{"topicName", topic}});
  Ok("Subscribe", {{"topicName", topic},
                   {"subscriptionName", "raw"},
                   {"protocol", "http"},
                   {"endpoint", "http://127.0.0.1:" + std::to_string(endpoint.port())},
                   {"notifyContentFormat", "SIMPLIFIED"}});
  Ok("PublishMessage", {{"topicName", topic}, {"msgBody", "just this"}});
  ASSERT_TRUE(WaitFor([&] { return endpoint.count() >= 1; }, 5s));
  EXPECT_EQ(endpoint.requests()[0].body, "just this");
}

}  // namespace
}  // namespace cmq::testing
