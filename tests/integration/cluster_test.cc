// A real 3-node cluster: any node serves any request, an acknowledged message survives the
// kill -9 of the leader, a new leader serves, a restarted node catches up, and a node that
// missed a compacted stretch of the log is brought back by a snapshot that carries the
// message bodies it needs (it can then serve them as leader). The same over TLS between
// nodes, and the refusals of a node with a stranger's certificate or a bad TLS set-up.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/time.h>
#include <unistd.h>

#include <map>
#include <regex>
#include <set>
#include <string>

#include "cluster_process.h"
#include "mq/placement.h"

namespace cmq::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Sends `body` through node `via`, retrying errors and lost answers for up to `timeout`
// (what a client does during a failover). Returns the msgId, or "" if it never succeeded.
std::string SendWithRetry(ClusterProcesses& c, int via, const std::string& queue,
                          const std::string& body, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      HttpClient client(c.port(via));
      json r = client.Call("SendMessage", {{"queueName", queue}, {"msgBody", body}});
      if (r["code"] == 0) return r["msgId"].get<std::string>();
      // Leader changes answer 6000 with a message that says to retry.
      EXPECT_EQ(r["code"], 6000) << r.dump();
      EXPECT_NE(r["message"].get<std::string>().find("retry"), std::string::npos) << r.dump();
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(50ms);
  }
  return "";
}

// Sends prefix + i for i < n through nodes 1, 2, 3 in turn (with SendWithRetry); returns
// the bodies sent. A body not acknowledged within its timeout is a fatal failure.
std::set<std::string> SendThroughEveryNode(ClusterProcesses& c, const std::string& queue,
                                           const std::string& prefix, int n) {
  std::set<std::string> acked;
  for (int i = 0; i < n; ++i) {
    std::string body = prefix + std::to_string(i);
    if (SendWithRetry(c, 1 + i % 3, queue, body).empty()) {
      ADD_FAILURE() << "not acknowledged: " << body;
      return acked;
    }
    acked.insert(body);
  }
  return acked;
}

// CreateQueue through node `via`, retried while a leader is being elected (a retry after a
// lost answer may find the queue created: that counts as success).
void CreateQueue(ClusterProcesses& c, int via, FormParams params) {
  json r;
  for (int attempt = 0; attempt < 50; ++attempt) {
    try {
      HttpClient client(c.port(via));
      r = client.Call("CreateQueue", params);
      if (r["code"] == 0 || r["message"].get<std::string>().find("exist") != std::string::npos) {
        return;
      }
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(100ms);
  }
  FAIL() << "CreateQueue failed: " << r.dump();
}

// Receives and deletes everything in the queue through node `via`: body -> times seen.
std::map<std::string, int> Drain(ClusterProcesses& c, int via, const std::string& queue) {
  std::map<std::string, int> seen;
  HttpClient client(c.port(via));
  for (int empty = 0; empty < 2;) {
    json r = client.Call("BatchReceiveMessage",
                         {{"queueName", queue}, {"numOfMsg", "16"}, {"pollingWaitSeconds", "1"}});
    if (r["code"] == 7000) {
      ++empty;
      continue;
    }
    EXPECT_EQ(r["code"], 0) << r.dump();
    if (r["code"] != 0) break;
    FormParams del = {{"queueName", queue}};
    int k = 0;
    for (const auto& m : r["msgInfoList"]) {
      ++seen[m["msgBody"].get<std::string>()];
      del.emplace_back("receiptHandle." + std::to_string(++k),
                       m["receiptHandle"].get<std::string>());
    }
    json d = client.Call("BatchDeleteMessage", del);
    EXPECT_EQ(d["code"], 0) << d.dump();
  }
  return seen;
}

TEST(ClusterTest, AnyNodeServesAndAcknowledgedMessagesSurviveTheLeadersKill) {
  // Three data groups (the default); the queue's group is the one whose leader dies. No
  // leader balancing: the killed node's return must not move leadership mid-drain.
  ClusterProcesses c(3, {"--no-leader-balance"});
  c.StartAll();
  const int g = static_cast<int>(mq::GroupOfName("replicated", 3));
  int leader = c.WaitForLeader(1, 15s, g);
  ASSERT_NE(leader, 0) << "no leader elected";

  CreateQueue(c, 3, {{"queueName", "replicated"}});  // through a follower
  if (::testing::Test::HasFatalFailure()) return;

  // Through every node, leader or not. A leadership change right after the first election
  // may answer 6000 "... retry" (SendWithRetry checks that): a client retries.
  std::set<std::string> acked = SendThroughEveryNode(c, "replicated", "before-", 60);
  if (::testing::Test::HasFailure()) return;  // a send was not acknowledged
  // Every node answers reads with the leader's view.
  for (int id = 1; id <= 3; ++id) {
    json attrs;
    for (int attempt = 0; attempt < 50; ++attempt) {
      HttpClient client(c.port(id));
      attrs = client.Call("GetQueueAttributes", {{"queueName", "replicated"}});
      if (attrs["code"] == 0) break;
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(attrs["code"], 0) << attrs.dump();
    EXPECT_EQ(attrs["activeMsgNum"], 60);
  }
  const int leader_now = c.WaitForLeader(1, 15s, g);
  ASSERT_NE(leader_now, 0);
  leader = leader_now;

  c.node(leader).Kill(SIGKILL);
  const int survivor = leader % 3 + 1;
  auto killed_at = std::chrono::steady_clock::now();
  std::string id = SendWithRetry(c, survivor, "replicated", "after-kill-0");
  ASSERT_FALSE(id.empty()) << "no new leader served a send within 10 s";
  auto failover = std::chrono::steady_clock::now() - killed_at;
  acked.insert("after-kill-0");
  const int new_leader = c.WaitForLeader(survivor, 15s, g);
  ASSERT_NE(new_leader, 0);
  EXPECT_NE(new_leader, leader);
  std::cout << "failover: a send succeeded "
            << std::chrono::duration_cast<std::chrono::milliseconds>(failover).count()
            << " ms after the leader's kill" << std::endl;

  for (int i = 1; i < 30; ++i) {
    std::string body = "after-kill-" + std::to_string(i);
    ASSERT_FALSE(SendWithRetry(c, survivor, "replicated", body).empty());
    acked.insert(body);
  }

  // The killed node comes back and catches up with what it missed.
  c.node(leader).Start(c.port(leader));
  ASSERT_TRUE(c.WaitAllCaughtUp(survivor)) << c.Status(survivor).dump();

  auto seen = Drain(c, leader, "replicated");  // through the restarted node
  for (const std::string& body : acked) EXPECT_EQ(seen[body], 1) << body;
  EXPECT_EQ(seen.size(), acked.size());
}

// Snapshots every 256 KiB applied and 128 KiB segments: the leaders compact the log while
// node 3 is down, so it can only come back through a snapshot. With streamed = true every
// snapshot's retained entries are streamed into node 3's staging log before the snapshot
// (--snapshot-inline-bytes 0) instead of riding inside it.
void SnapshotBringsBackANodeWithTheBodiesItNeeds(bool streamed) {
  std::vector<std::string> args = {"--snapshot-interval-bytes", "262144", "--log-segment-bytes",
                                   "131072", "--no-leader-balance"};
  if (streamed) args.insert(args.end(), {"--snapshot-inline-bytes", "0"});
  ClusterProcesses c(3, args);
  c.StartAll();
  const int g = static_cast<int>(mq::GroupOfName("snap", 3));
  ASSERT_NE(c.WaitForLeader(1, 15s, g), 0);
  CreateQueue(c, 1, {{"queueName", "snap"}, {"visibilityTimeout", "3"}});
  if (::testing::Test::HasFatalFailure()) return;
  ASSERT_TRUE(c.WaitAllCaughtUp(1));
  c.node(3).Kill(SIGKILL);

  const std::string pad(900, 'x');
  std::set<std::string> kept;
  for (int i = 0; i < 3000; ++i) {
    std::string body = "m" + std::to_string(i) + "-" + pad;
    std::string id = SendWithRetry(c, 1 + i % 2, "snap", body);
    ASSERT_FALSE(id.empty());
    kept.insert(body);
  }
  // Consume and delete most, so that old segments hold nothing live and are dropped; the
  // first 50 stay queued: the snapshot must carry the entries that hold their bodies.
  {
    HttpClient client(c.port(1));
    int deleted = 0;
    while (deleted < 2950) {
      json r =
          client.Call("BatchReceiveMessage",
                      {{"queueName", "snap"}, {"numOfMsg", "16"}, {"pollingWaitSeconds", "1"}});
      ASSERT_EQ(r["code"], 0) << r.dump();
      FormParams del = {{"queueName", "snap"}};
      int k = 0;
      for (const auto& m : r["msgInfoList"]) {
        std::string body = m["msgBody"].get<std::string>();
        int n = std::stoi(body.substr(1));
        if (n < 50) continue;  // stays: becomes visible again later
        del.emplace_back("receiptHandle." + std::to_string(++k),
                         m["receiptHandle"].get<std::string>());
        kept.erase(body);
        ++deleted;
      }
      if (k > 0) {
        ASSERT_EQ(client.Call("BatchDeleteMessage", del)["code"], 0);
      }
    }
  }
  ASSERT_EQ(kept.size(), 50u);

  c.node(3).Start(c.port(3));
  ASSERT_TRUE(c.WaitAllCaughtUp(1, 60s)) << c.Status(1).dump();
  // It came back by a snapshot that carried the entries holding the 50 kept bodies.
  std::smatch m;
  std::string log3 = c.node(3).log();
  ASSERT_TRUE(
      std::regex_search(log3, m, std::regex("installed a snapshot at [0-9]+ \\(([0-9]+) retained")))
      << "node 3 caught up without a snapshot; the test did not compact enough";
  EXPECT_GT(std::stoi(m[1]), 0);
  EXPECT_EQ(log3.find("streamed before it") != std::string::npos, streamed) << log3;

  // Node 3 leads now and serves the bodies from its own log.
  HttpClient n3(c.port(3));
  json t = n3.Call("TransferLeadership", {{"nodeId", "3"}, {"groupId", std::to_string(g)}});
  ASSERT_EQ(t["code"], 0) << t.dump();
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (c.WaitForLeader(3, 15s, g) != 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(c.WaitForLeader(3, 15s, g), 3);
  // The kept ones become visible again within the 3 s visibility timeout.
  std::map<std::string, int> seen;
  HttpClient client(c.port(3));
  auto until = std::chrono::steady_clock::now() + 60s;
  while (seen.size() < kept.size() && std::chrono::steady_clock::now() < until) {
    json r = client.Call("BatchReceiveMessage",
                         {{"queueName", "snap"}, {"numOfMsg", "16"}, {"pollingWaitSeconds", "5"}});
    if (r["code"] == 7000) continue;
    ASSERT_EQ(r["code"], 0) << r.dump();
    for (const auto& m : r["msgInfoList"]) ++seen[m["msgBody"].get<std::string>()];
  }
  for (const std::string& body : kept) EXPECT_GE(seen[body], 1) << body.substr(0, 8);
  EXPECT_EQ(seen.size(), kept.size());
}

TEST(ClusterTest, SnapshotBringsBackANodeWithTheBodiesItNeeds) {
  SnapshotBringsBackANodeWithTheBodiesItNeeds(/*streamed=*/false);
}

TEST(ClusterTest, ASnapshotWhoseEntriesAreStreamedFirstBringsBackANode) {
  SnapshotBringsBackANodeWithTheBodiesItNeeds(/*streamed=*/true);
}

TEST(ClusterTest, AFourthNodeTakesOverAGroupsReplicaWithoutDowntime) {
  ClusterProcesses c(3, {"--no-leader-balance"}, /*spares=*/1);
  c.StartAll();
  const int g = static_cast<int>(mq::GroupOfName("members", 3));
  const std::string gid = std::to_string(g);
  ASSERT_NE(c.WaitForLeader(1, 15s, g), 0);
  CreateQueue(c, 1, {{"queueName", "members"}});
  if (::testing::Test::HasFatalFailure()) return;
  std::set<std::string> acked;
  auto send = [&](int via, const std::string& body) {
    ASSERT_FALSE(SendWithRetry(c, via, "members", body).empty()) << body;
    acked.insert(body);
  };
  for (int i = 0; i < 20; ++i) send(1 + i % 3, "first-" + std::to_string(i));

  // Node 4 starts with --join and an empty data directory, and is added to the queue's
  // group as a learner, then promoted once it has caught up.
  c.node(4).Start();
  json added = CallRetrying(c, 2, "AddNode",
                            {{"nodeId", "4"}, {"address", c.peer_address(4)}, {"groupId", gid}});
  ASSERT_EQ(added["code"], 0) << added.dump();
  ASSERT_TRUE(c.WaitAllCaughtUp(1, 30s, g)) << c.Status(1).dump();
  json promoted = CallRetrying(c, 3, "PromoteNode", {{"nodeId", "4"}, {"groupId", gid}});
  ASSERT_EQ(promoted["code"], 0) << promoted.dump();
  json group = ClusterProcesses::GroupOf(c.Status(4), g);
  ASSERT_FALSE(group.is_null());
  int voters = 0;
  for (const auto& r : group["replicas"]) voters += r["learner"] == false;
  EXPECT_EQ(voters, 4) << group.dump();
  for (int i = 0; i < 10; ++i) send(4, "second-" + std::to_string(i));  // through the new node

  // Node 4 is no member of the other groups, yet serves their queues too: it learns their
  // leaders from the other nodes' leader hints and forwards there.
  std::string other_queue;
  for (int i = 0; other_queue.empty(); ++i) {
    std::string name = "elsewhere" + std::to_string(i);
    if (static_cast<int>(mq::GroupOfName(name, 3)) != g) other_queue = name;
  }
  json created = CallRetrying(c, 4, "CreateQueue", {{"queueName", other_queue}});
  ASSERT_EQ(created["code"], 0) << created.dump();
  json sent = CallRetrying(c, 4, "SendMessage", {{"queueName", other_queue}, {"msgBody", "via-4"}});
  ASSERT_EQ(sent["code"], 0) << sent.dump();
  json got = CallRetrying(c, 4, "ReceiveMessage", {{"queueName", other_queue}});
  ASSERT_EQ(got["code"], 0) << got.dump();
  EXPECT_EQ(got["msgBody"], "via-4");

  // Node 3's replica of the group moves to node 4: node 3 leaves the group (if it leads,
  // it hands over first and the call is retried). The other groups keep node 3.
  json removed = CallRetrying(c, 4, "RemoveNode", {{"nodeId", "3"}, {"groupId", gid}});
  ASSERT_EQ(removed["code"], 0) << removed.dump();
  group = ClusterProcesses::GroupOf(c.Status(1), g);
  std::set<int> members;
  for (const auto& r : group["replicas"]) members.insert(r["nodeId"].get<int>());
  EXPECT_EQ(members, (std::set<int>{1, 2, 4})) << group.dump();
  for (int other = 1; other <= 3; ++other) {
    if (other == g) continue;
    json og = ClusterProcesses::GroupOf(c.Status(1), other);
    EXPECT_EQ(og["replicas"].size(), 3u) << og.dump();
  }

  // Node 3 dies: {1, 2, 4} go on, and still survive the loss of their leader.
  c.node(3).Kill(SIGKILL);
  for (int i = 0; i < 10; ++i) send(4, "third-" + std::to_string(i));
  const int leader = c.WaitForLeader(4, 15s, g);
  ASSERT_NE(leader, 0);
  ASSERT_NE(leader, 3);
  c.node(leader).Kill(SIGKILL);
  const int survivor = leader == 4 ? 1 : 4;
  for (int i = 0; i < 10; ++i) send(survivor, "fourth-" + std::to_string(i));
  auto seen = Drain(c, survivor, "members");
  for (const std::string& body : acked) EXPECT_EQ(seen[body], 1) << body;
  EXPECT_EQ(seen.size(), acked.size());
}

// A long poll through a node that does not lead the queue's group is forwarded to the
// leader. When its client hangs up, the leader must hear of it: otherwise the receive waits
// on there, takes the next message, and answers it into the void, and that message stays
// hidden for the visibility timeout (30 s here) while other consumers poll in vain.
TEST(ClusterTest, AForwardedLongPollWhoseClientHungUpTakesNoMessage) {
  ClusterProcesses c(3, {"--no-leader-balance"});
  c.StartAll();
  const std::string queue = "hangup";
  const int g = static_cast<int>(mq::GroupOfName(queue, 3));
  const int leader = c.WaitForLeader(1, 15s, g);
  ASSERT_NE(leader, 0) << "no leader elected";
  const int via = leader % 3 + 1;  // not the leader
  json created =
      CallRetrying(c, leader, "CreateQueue", {{"queueName", queue}, {"visibilityTimeout", "30"}});
  ASSERT_EQ(created["code"], 0) << created.dump();

  {
    // A raw connection: the request goes out, the answer is never read.
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket socket(ioc);
    socket.connect(
        {boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(c.port(via))});
    const std::string body = EncodeForm(
        {{"Action", "ReceiveMessage"}, {"queueName", queue}, {"pollingWaitSeconds", "20"}});
    const std::string request =
        "POST /v2/index.php HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    boost::asio::write(socket, boost::asio::buffer(request));
    std::this_thread::sleep_for(700ms);  // forwarded, and waiting at the leader
  }                                      // hung up

  std::this_thread::sleep_for(500ms);  // the sender checks for gone clients every 100 ms
  HttpClient producer(c.port(leader));
  json sent = producer.Call("SendMessage", {{"queueName", queue}, {"msgBody", "for-the-living"}});
  ASSERT_EQ(sent["code"], 0) << sent.dump();
  HttpClient consumer(c.port(via));
  json got = consumer.Call("ReceiveMessage", {{"queueName", queue}, {"pollingWaitSeconds", "5"}});
  ASSERT_EQ(got["code"], 0) << "the hung-up long poll took the message: " << got.dump();
  EXPECT_EQ(got["msgBody"], "for-the-living");
}

const std::string kPeerTls = std::string(CMQ_TEST_FIXTURES_DIR) + "/peer-tls/";

std::vector<std::string> PeerTlsArgs(const std::string& name = "node") {
  return {"--peer-tls-cert",        kPeerTls + name + ".crt", "--peer-tls-key",
          kPeerTls + name + ".key", "--peer-tls-ca",          kPeerTls + "ca.crt"};
}

// Everything between the nodes goes over TLS: elections, replication, forwarded requests
// (through a follower) and a failover.
TEST(ClusterTest, TlsBetweenNodesCarriesReplicationForwardingAndFailover) {
  auto args = PeerTlsArgs();
  args.push_back("--no-leader-balance");
  ClusterProcesses c(3, args);
  c.StartAll();
  const int g = static_cast<int>(mq::GroupOfName("over-tls", 3));
  const int leader = c.WaitForLeader(1, 15s, g);
  ASSERT_NE(leader, 0) << "no leader elected over TLS";
  const int follower = leader % 3 + 1;
  CreateQueue(c, follower, {{"queueName", "over-tls"}});
  if (::testing::Test::HasFatalFailure()) return;
  std::set<std::string> acked = SendThroughEveryNode(c, "over-tls", "tls-", 30);
  if (::testing::Test::HasFailure()) return;  // a send was not acknowledged
  ASSERT_TRUE(c.WaitAllCaughtUp(follower)) << c.Status(follower).dump();
  c.node(leader).Kill(SIGKILL);
  ASSERT_FALSE(SendWithRetry(c, follower, "over-tls", "after-kill").empty())
      << "no new leader over TLS";
  acked.insert("after-kill");
  auto seen = Drain(c, follower, "over-tls");
  for (const std::string& body : acked) EXPECT_EQ(seen[body], 1) << body;
  EXPECT_EQ(seen.size(), acked.size());
  // The node-to-node port speaks nothing but TLS: plain bytes fail the TLS handshake.
  const std::string& address = c.peer_address(follower);
  const int peer_port = std::stoi(address.substr(address.rfind(':') + 1));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(peer_port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  const std::string plain = "plain text, not a TLS client hello\n";
  ASSERT_EQ(::write(fd, plain.data(), plain.size()), static_cast<ssize_t>(plain.size()));
  timeval read_timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &read_timeout, sizeof(read_timeout));
  char byte;
  (void)::read(fd, &byte, 1);  // until the node answers with an alert or closes
  ::close(fd);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (c.node(follower).log().find("TLS handshake with") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(c.node(follower).log().find("TLS handshake with"), std::string::npos);
}

// A node whose certificate another CA signed never joins: the other two elect leaders and
// serve without it, and it logs the failed TLS handshakes.
TEST(ClusterTest, ANodeWithAStrangersCertificateIsKeptOut) {
  ClusterProcesses c(3, {});
  // Nodes 1 and 2 trust the cluster's CA; node 3 shows a certificate of another CA.
  for (int id = 1; id <= 3; ++id) {
    auto args = PeerTlsArgs(id == 3 ? "stranger" : "node");
    c.node(id).AppendArgs(args);
  }
  c.StartAll();
  for (int g = 1; g <= 3; ++g) ASSERT_NE(c.WaitForLeader(1, 15s, g), 0) << "group " << g;
  CreateQueue(c, 1, {{"queueName", "kept-out"}});
  if (::testing::Test::HasFatalFailure()) return;
  ASSERT_FALSE(SendWithRetry(c, 2, "kept-out", "without node 3").empty());
  json status = c.Status(1);
  for (const auto& group : status["groups"]) {
    EXPECT_NE(group["leaderId"], 3) << status.dump();
  }
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (c.node(3).log().find("TLS handshake") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(c.node(3).log().find("TLS handshake"), std::string::npos) << c.node(3).log();
}

TEST(ClusterTest, ABadPeerTlsSetUpStopsTheStartWithTheCause) {
  const std::string peers = "1=127.0.0.1:" + std::to_string(FreeLoopbackPort()) +
                            ",2=127.0.0.1:" + std::to_string(FreeLoopbackPort());
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--peer-tls-cert", kPeerTls + "node.crt", "--peer-tls-key", kPeerTls + "node.key"},
       "all three"},
      {{"--peer-tls-cert", kPeerTls + "node.crt", "--peer-tls-key", kPeerTls + "stranger.key",
        "--peer-tls-ca", kPeerTls + "ca.crt"},
       "peer TLS key " + kPeerTls + "stranger.key"},
  };
  for (const auto& [tls_args, expected] : cases) {
    std::vector<std::string> args = {"--node-id", "1", "--peers", peers};
    args.insert(args.end(), tls_args.begin(), tls_args.end());
    CmqdProcess(MakeTempDir("cmq-peer-tls-bad"), args).ExpectStartFails(expected);
  }
}

}  // namespace
}  // namespace cmq::testing
