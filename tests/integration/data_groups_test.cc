// A 3-node cluster with three data groups (docs/cluster.md "Data groups"): leadership is
// spread one group per node and comes back to a node that returns; queues and topics live
// in the group their name picks, yet every node serves every one of them; a topic's copies
// reach subscribed queues in other groups; the lists span every group; a subscription to
// a queue that exists in no group is refused.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "cluster_process.h"
#include "mq/placement.h"
#include "push_endpoint.h"

namespace cmq::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// group -> leader, as node `ask` reports; empty on an error.
std::map<int, int> Leaders(ClusterProcesses& c, int ask) {
  std::map<int, int> leaders;
  try {
    json s = c.Status(ask);
    if (s["code"] != 0) return {};
    for (const auto& g : s["groups"]) {
      if (g["role"] == "leader") leaders[g["groupId"].get<int>()] = g["leaderId"].get<int>();
    }
  } catch (const std::exception&) {
  }
  return leaders;
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return cond();
}

// Waits until each group is led by its preferred node: with voters {1, 2, 3}, group g's
// is node g (cluster/leader_balancer.h), so each node leads one group. (Three distinct
// leaders are not enough: the balancer may still be moving them to their places.)
bool WaitBalanced(ClusterProcesses& c, int ask, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Leaders(c, ask) == std::map<int, int>{{1, 1}, {2, 2}, {3, 3}}) return true;
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

TEST(DataGroupsTest, LeadershipSpreadsAndQueuesAndTopicsWorkAcrossGroups) {
  ClusterProcesses c(3);
  c.StartAll();
  ASSERT_TRUE(WaitBalanced(c, 1, 30s)) << c.Status(1).dump();

  // Twelve queues: the names spread over all three groups.
  std::set<int> groups_used;
  std::vector<std::string> queues;
  for (int i = 0; i < 12; ++i) {
    std::string q = "dq" + std::to_string(i);
    queues.push_back(q);
    groups_used.insert(static_cast<int>(mq::GroupOfName(q, 3)));
    json r = CallRetrying(c, 1 + i % 3, "CreateQueue", {{"queueName", q}});
    ASSERT_EQ(r["code"], 0) << r.dump();
  }
  ASSERT_EQ(groups_used.size(), 3u);

  // ListQueue pages across the groups, in name order, with the total of all of them.
  std::vector<std::string> sorted = queues;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> listed;
  for (int offset = 0; offset < 12; offset += 5) {
    json r =
        CallRetrying(c, 2, "ListQueue",
                     {{"searchWord", "dq"}, {"offset", std::to_string(offset)}, {"limit", "5"}});
    ASSERT_EQ(r["code"], 0) << r.dump();
    EXPECT_EQ(r["totalCount"], 12) << r.dump();
    for (const auto& q : r["queueList"]) listed.push_back(q["queueName"].get<std::string>());
  }
  EXPECT_EQ(listed, sorted);

  // A topic in one group fans out to queues in every group.
  json t = CallRetrying(c, 3, "CreateTopic", {{"topicName", "fan"}});
  ASSERT_EQ(t["code"], 0) << t.dump();
  for (const std::string& q : queues) {
    json s = CallRetrying(c, 1, "Subscribe",
                          {{"topicName", "fan"},
                           {"subscriptionName", "to-" + q},
                           {"protocol", "queue"},
                           {"endpoint", q}});
    ASSERT_EQ(s["code"], 0) << s.dump();
  }
  // A queue no group has is refused, wherever it would live.
  for (const std::string missing : {"nq1", "nq2", "nq3", "nq4", "nq5", "nq6"}) {
    json s = CallRetrying(c, 2, "Subscribe",
                          {{"topicName", "fan"},
                           {"subscriptionName", "to-" + missing},
                           {"protocol", "queue"},
                           {"endpoint", missing}});
    EXPECT_EQ(s["code"], 4440) << missing << ": " << s.dump();
  }
  // An HTTP subscriber too: in a cluster only the topic group's leader pushes, so each
  // message reaches it once (followers pushing as well would deliver it three times).
  PushEndpoint hook(/*failures=*/0);
  json web = CallRetrying(c, 2, "Subscribe",
                          {{"topicName", "fan"},
                           {"subscriptionName", "web"},
                           {"protocol", "http"},
                           {"endpoint", "http://127.0.0.1:" + std::to_string(hook.port()) + "/h"}});
  ASSERT_EQ(web["code"], 0) << web.dump();
  json ls = CallRetrying(c, 3, "ListTopic", {{"searchWord", "fan"}});
  ASSERT_EQ(ls["code"], 0) << ls.dump();
  EXPECT_EQ(ls["totalCount"], 1);

  for (int i = 0; i < 5; ++i) {
    json p = CallRetrying(c, 1 + i % 3, "PublishMessage",
                          {{"topicName", "fan"}, {"msgBody", "news-" + std::to_string(i)}});
    ASSERT_EQ(p["code"], 0) << p.dump();
  }
  for (const std::string& q : queues) {
    std::multiset<std::string> got;
    HttpClient client(c.port(3));
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (got.size() < 5 && std::chrono::steady_clock::now() < deadline) {
      json r = client.Call("BatchReceiveMessage",
                           {{"queueName", q}, {"numOfMsg", "16"}, {"pollingWaitSeconds", "2"}});
      if (r["code"] == 7000 || r["code"] == 6000) continue;
      ASSERT_EQ(r["code"], 0) << r.dump();
      for (const auto& m : r["msgInfoList"]) got.insert(m["msgBody"].get<std::string>());
    }
    EXPECT_EQ(got, (std::multiset<std::string>{"news-0", "news-1", "news-2", "news-3", "news-4"}))
        << q << " (group " << mq::GroupOfName(q, 3) << ")";
  }

  ASSERT_TRUE(WaitFor([&] { return hook.count() >= 5; }, 15s)) << hook.count();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(hook.count(), 5u) << "an HTTP subscriber got a message more than once";

  // The status shows each group's leader and replicas, one line per group.
  json status = c.Status(2);
  ASSERT_EQ(status["groups"].size(), 3u) << status.dump();
  for (const auto& g : status["groups"]) EXPECT_EQ(g["replicas"].size(), 3u) << g.dump();

  // The leader of group 1 dies: the group fails over, and when the node returns, leadership
  // comes back to it (each node leads one group again).
  ASSERT_TRUE(WaitBalanced(c, 1, 30s)) << c.Status(1).dump();
  const int victim = Leaders(c, 1)[1];
  ASSERT_EQ(victim, 1);
  c.node(victim).Kill(SIGKILL);
  const int other = victim % 3 + 1;
  json after = CallRetrying(c, other, "SendMessage", {{"queueName", queues[0]}, {"msgBody", "x"}});
  EXPECT_EQ(after["code"], 0) << after.dump();
  c.node(victim).Start(c.port(victim));
  ASSERT_TRUE(WaitBalanced(c, other, 45s)) << c.Status(other).dump();
  EXPECT_EQ(Leaders(c, other)[1], victim) << c.Status(other).dump();
}

// The group count is fixed with the data: a node restarted with another --groups refuses
// to start (it would place queues elsewhere), and a standalone node has one group.
TEST(DataGroupsTest, TheGroupCountIsFixedWithTheData) {
  const std::string dir = MakeTempDir("cmq-groups");
  const std::string peers = "1=127.0.0.1:" + std::to_string(FreeLoopbackPort());
  {
    CmqdProcess node(dir + "/n1", {"--node-id", "1", "--peers", peers, "--groups", "5"});
    node.Start();
  }
  std::ifstream groups_file(dir + "/n1/node/GROUPS");  // CmqdProcess: --data <dir>/node
  int recorded = 0;
  groups_file >> recorded;
  EXPECT_EQ(recorded, 5);
  {
    CmqdProcess node(dir + "/n1", {"--node-id", "1", "--peers", peers, "--groups", "3"});
    try {
      node.Start();
      ADD_FAILURE() << "cmqd started with 3 groups on data created with 5";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("created with 5 data groups, not 3"), std::string::npos)
          << e.what();
    }
  }
  {
    CmqdProcess node(dir + "/n1", {"--node-id", "1", "--peers", peers});  // default: as made
    node.Start();
  }
  CmqdProcess alone(dir + "/alone", {"--groups", "2"});
  EXPECT_THROW(alone.Start(), std::runtime_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cmq::testing
