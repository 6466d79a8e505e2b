// kill -9 of cmqd while clients send: every send that was acknowledged must be received
// exactly once after the restarts, with its body unchanged. Sends whose answer was lost in
// the crash may or may not have happened; those are the only extras allowed.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "cmqd_process.h"
#include "http_client.h"

namespace cmq::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

struct Ledger {
  std::mutex mu;
  std::map<std::string, std::string> acked;  // body -> msgId
  std::set<std::string> unknown;             // sent, answer lost
};

void Producer(int port, int id, std::atomic<bool>& stop, Ledger& ledger) {
  HttpClient client(port);
  for (int i = 0; !stop; ++i) {
    std::string base = "p" + std::to_string(id) + "-" + std::to_string(i);
    bool batch = i % 3 == 0;
    FormParams params = {{"queueName", "crash"}};
    std::vector<std::string> bodies;
    if (batch) {
      for (int k = 0; k < 4; ++k) bodies.push_back(base + "-" + std::to_string(k));
      for (size_t k = 0; k < bodies.size(); ++k) {
        params.emplace_back("msgBody." + std::to_string(k + 1), bodies[k]);
      }
    } else {
      bodies.push_back(base);
      params.emplace_back("msgBody", base);
    }
    try {
      json r = client.Call(batch ? "BatchSendMessage" : "SendMessage", params);
      std::lock_guard lock(ledger.mu);
      if (r["code"] == 0) {
        for (size_t k = 0; k < bodies.size(); ++k) {
          ledger.acked[bodies[k]] = batch ? r["msgList"][k]["msgId"] : r["msgId"];
        }
      } else {
        for (auto& b : bodies) ledger.unknown.insert(b);
      }
    } catch (const std::exception&) {
      std::lock_guard lock(ledger.mu);
      for (auto& b : bodies) ledger.unknown.insert(b);
      std::this_thread::sleep_for(20ms);  // server down: retry shortly
    }
  }
}

TEST(CrashTest, KillNineLosesNoAcknowledgedMessage) {
  CmqdProcess server(MakeTempDir("cmq-crash"));
  server.Start();
  int port = server.port();
  {
    HttpClient admin(port);
    ASSERT_EQ(
        admin.Call("CreateQueue", {{"queueName", "crash"}, {"visibilityTimeout", "600"}})["code"],
        0);
  }
  Ledger ledger;
  std::mt19937 rng(12345);
  constexpr int kKills = 4;
  for (int round = 0; round < kKills; ++round) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> producers;
    for (int p = 0; p < 4; ++p) {
      producers.emplace_back(Producer, port, round * 10 + p, std::ref(stop), std::ref(ledger));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 700));
    server.Kill(SIGKILL);
    std::this_thread::sleep_for(100ms);
    stop = true;
    for (auto& t : producers) t.join();
    server.Start(port);
  }
  ASSERT_GT(ledger.acked.size(), 100u) << "the producers got too few sends through";

  // Drain everything and check it against the ledger.
  HttpClient consumer(port);
  std::map<std::string, int> seen;
  std::map<std::string, std::string> seen_ids;
  for (;;) {
    json r =
        consumer.Call("BatchReceiveMessage",
                      {{"queueName", "crash"}, {"numOfMsg", "16"}, {"pollingWaitSeconds", "0"}});
    if (r["code"] == 7000) break;
    ASSERT_EQ(r["code"], 0) << r.dump();
    FormParams del = {{"queueName", "crash"}};
    int k = 1;
    for (const auto& m : r["msgInfoList"]) {
      std::string body = m["msgBody"];
      ++seen[body];
      seen_ids[body] = m["msgId"];
      del.emplace_back("receiptHandle." + std::to_string(k++), m["receiptHandle"]);
    }
    ASSERT_EQ(consumer.Call("BatchDeleteMessage", del)["code"], 0);
  }
  for (const auto& [body, id] : ledger.acked) {
    ASSERT_EQ(seen[body], 1) << "acknowledged message " << body << " (" << id << ") seen "
                             << seen[body] << " times";
    EXPECT_EQ(seen_ids[body], id);
  }
  for (const auto& [body, n] : seen) {
    EXPECT_TRUE(ledger.acked.count(body) || ledger.unknown.count(body))
        << "a message nobody sent came back: " << body;
    EXPECT_EQ(n, 1);
  }
  std::printf("crash test: %zu acknowledged, %zu with unknown outcome, %d kills\n",
              ledger.acked.size(), ledger.unknown.size(), kKills);
}

}  // namespace
}  // namespace cmq::testing
