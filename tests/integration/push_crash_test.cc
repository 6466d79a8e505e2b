// The push state is replicated: kill -9 cmqd while its pushes fail, restart it, and every
// published message still reaches the HTTP endpoint (at least once) and the queue
// subscription (exactly once).

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "cmqd_process.h"
#include "http_client.h"
#include "push_endpoint.h"

namespace cmq::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

TEST(PushCrashTest, PublishedMessagesAreDeliveredAfterKillNine) {
  CmqdProcess server(MakeTempDir("cmq-pushcrash"));
  server.Start();
  int port = server.port();
  std::set<std::string> published;
  int endpoint_port = 0;
  {
    PushEndpoint failing(/*failures=*/1'000'000);  // down: every push fails
    endpoint_port = failing.port();
    HttpClient c(port);
    ASSERT_EQ(c.Call("CreateQueue", {{"queueName", "copies"}})["code"], 0);
    ASSERT_EQ(c.Call("CreateTopic", {{"topicName", "events"}})["code"], 0);
    ASSERT_EQ(
        c.Call("Subscribe",
               {{"topicName", "events"},
                {"subscriptionName", "web"},
                {"protocol", "http"},
                {"endpoint", "http://127.0.0.1:" + std::to_string(endpoint_port) + "/in"}})["code"],
        0);
    ASSERT_EQ(c.Call("Subscribe", {{"topicName", "events"},
                                   {"subscriptionName", "q"},
                                   {"protocol", "queue"},
                                   {"endpoint", "copies"}})["code"],
              0);
    for (int i = 0; i < 20; ++i) {
      json r =
          c.Call("PublishMessage", {{"topicName", "events"}, {"msgBody", "e" + std::to_string(i)}});
      ASSERT_EQ(r["code"], 0) << r.dump();
      published.insert(r["msgId"]);
    }
    std::this_thread::sleep_for(500ms);  // some pushes fail and are rescheduled
    EXPECT_GT(failing.count(), 0u);
    server.Kill(SIGKILL);
  }
  PushEndpoint healthy(0, endpoint_port);
  server.Start(port);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  std::set<std::string> delivered;
  while (std::chrono::steady_clock::now() < deadline && delivered.size() < published.size()) {
    std::this_thread::sleep_for(100ms);
    delivered.clear();
    for (const auto& r : healthy.requests()) delivered.insert(r.message_id);
  }
  EXPECT_EQ(delivered, published);

  HttpClient c(port);
  std::multiset<std::string> copies;
  for (;;) {
    json r = c.Call("BatchReceiveMessage", {{"queueName", "copies"}, {"numOfMsg", "16"}});
    if (r["code"] != 0) break;
    FormParams del = {{"queueName", "copies"}};
    int k = 1;
    for (const auto& m : r["msgInfoList"]) {
      copies.insert(m["msgBody"]);
      del.emplace_back("receiptHandle." + std::to_string(k++), m["receiptHandle"]);
    }
    c.Call("BatchDeleteMessage", del);
  }
  EXPECT_EQ(copies.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(copies.count("e" + std::to_string(i)), 1u);
}

}  // namespace
}  // namespace cmq::testing
