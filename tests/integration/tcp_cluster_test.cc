// The CMQ TCP protocol on a 3-node cluster with three data groups: every node's TCP
// listener serves every queue (the official SDK has no redirect, spec §4.2), forwarding a
// command to its group's leader; QueryQueueRoute lists every node; after the leader of a
// queue's group is killed, a surviving node serves that queue again (a send meanwhile is
// answered, or its connection closes and the client sends again).

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "cluster_process.h"
#include "mq/placement.h"
#include "tcp_wire.h"

namespace cmq::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

TEST(TcpClusterTest, EveryNodeServesEveryQueueAndSurvivesALeadersDeath) {
  ClusterProcesses c(3, {}, 0, /*with_tcp=*/true);
  c.StartAll();
  for (int g = 1; g <= 3; ++g) ASSERT_NE(c.WaitForGroupLeader(1, g), 0) << "group " << g;
  // Queues until every group has one.
  std::map<uint32_t, std::string> queue_of_group;
  for (int i = 0; queue_of_group.size() < 3 && i < 100; ++i) {
    std::string name = "tcpq-" + std::to_string(i);
    queue_of_group.emplace(mq::GroupOfName(name, 3), name);
  }
  ASSERT_EQ(queue_of_group.size(), 3u);
  for (const auto& [group, name] : queue_of_group) {
    json r = CallRetrying(c, 1, "CreateQueue", {{"queueName", name}});
    ASSERT_EQ(r["code"], 0) << r.dump();
  }
  json route = CallRetrying(c, 2, "QueryQueueRoute", {{"queueName", queue_of_group[1]}});
  ASSERT_EQ(route["code"], 0) << route.dump();
  EXPECT_EQ(route["addr"].size(), 3u);

  // Through each node, to a queue of each group: two of three go through forwarding.
  for (int via = 1; via <= 3; ++via) {
    TcpWire wire(c.tcp_port(via));
    ASSERT_EQ(wire.Auth("any", "any").result(), 0);  // no account configured: any proof
    for (const auto& [group, queue] : queue_of_group) {
      std::string body = "via " + std::to_string(via) + " to group " + std::to_string(group);
      auto sent = wire.Call(SendRequest(queue, body));
      ASSERT_EQ(sent.result(), 0) << sent.error();
      auto pulled = wire.Call(PullRequest(queue, 2));
      ASSERT_EQ(pulled.result(), 0) << pulled.error();
      EXPECT_EQ(pulled.pull_rsp().msg_body(), body);
      EXPECT_EQ(pulled.pull_rsp().msg_id(), sent.msgids(0));
      EXPECT_EQ(wire.Call(DeleteRequest(queue, pulled.pull_rsp().receipt_handle())).result(), 0);
    }
  }

  // Kill the leader of group 1's queue's group; a node that survives keeps serving it,
  // once a new leader is elected. Meanwhile a send is never answered an error code (the
  // SDK would not retry it): it is answered, or its connection closes and the client
  // connects again and sends again, as the SDK does (spec §4.2).
  const std::string& queue = queue_of_group[1];
  const int leader = c.WaitForGroupLeader(1, 1);
  ASSERT_NE(leader, 0);
  const int survivor = leader == 1 ? 2 : 1;
  auto connect = [&] {
    auto wire = std::make_unique<TcpWire>(c.tcp_port(survivor));
    EXPECT_EQ(wire->Auth("any", "any").result(), 0);
    return wire;
  };
  auto wire = connect();
  ASSERT_EQ(wire->Call(SendRequest(queue, "before")).result(), 0);
  c.node(leader).Kill(SIGKILL);
  std::vector<std::string> acked = {"before"};
  std::set<std::string> sent_twice;
  int reconnects = 0;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (acked.size() < 4 && std::chrono::steady_clock::now() < deadline) {
    std::string body = "after " + std::to_string(acked.size());
    std::optional<cmq::tcp::CMQProto> sent;
    try {
      sent = wire->Call(SendRequest(queue, body));
    } catch (const std::runtime_error&) {  // closed: not served for want of a leader
      ++reconnects;
      sent_twice.insert(body);  // it may have been stored all the same (at least once)
      wire = connect();
      continue;  // the same body again
    }
    ASSERT_EQ(sent->result(), 0) << "an error code instead of silence: " << sent->error();
    acked.push_back(body);
  }
  EXPECT_LE(reconnects, 10);
  ASSERT_EQ(acked.size(), 4u);
  std::multiset<std::string> got;
  for (;;) {
    auto pulled = wire->Call(PullRequest(queue, 3));
    if (pulled.result() == 10200) break;
    ASSERT_EQ(pulled.result(), 0) << pulled.error();
    got.insert(pulled.pull_rsp().msg_body());
  }
  for (const std::string& body : acked) {
    EXPECT_GE(got.count(body), 1u) << body << " was acknowledged but is not there";
    EXPECT_LE(got.count(body), sent_twice.count(body) != 0 ? 2u : 1u) << body;
  }
  for (const std::string& body : got) {
    EXPECT_NE(std::find(acked.begin(), acked.end(), body), acked.end())
        << "a message that was never sent: " << body;
  }
}

// Transaction messages (spec §6.9, §6.10) through a node that does not lead the queue's
// group: half messages are not pulled; the node holding the producer's connection sends the
// check-back 1042 (once per check: the other replicas have no connection of it); the
// producer's one-way 1041 commits one and rolls back the other.
// Starts c, creates `queue` and returns the leader of its group (0 on failure).
int StartWithQueue(ClusterProcesses& c, const std::string& queue) {
  c.StartAll();
  for (int g = 1; g <= 3; ++g) {
    if (c.WaitForGroupLeader(1, g) == 0) return 0;
  }
  json r = CallRetrying(c, 1, "CreateQueue", {{"queueName", queue}});
  if (r["code"] != 0) return 0;
  return c.WaitForGroupLeader(1, static_cast<int>(mq::GroupOfName(queue, 3)));
}

TEST(TcpClusterTest, TransactionMessagesAreCheckedBackAndConfirmedThroughAnyNode) {
  ClusterProcesses c(3, {}, 0, /*with_tcp=*/true);
  const std::string queue = "txq";
  const int leader = StartWithQueue(c, queue);
  ASSERT_NE(leader, 0);
  const int via = leader % 3 + 1;  // another node: the send and confirm are forwarded

  TcpWire wire(c.tcp_port(via));
  ASSERT_EQ(wire.Auth("any", "any", "HmacSHA1", "txn-app@1").result(), 0);
  auto sent = wire.Call(HalfBatchSendRequest(queue, {"commit me", "roll me back"}, 1));
  ASSERT_EQ(sent.result(), 0) << sent.error();
  ASSERT_EQ(sent.msgids_size(), 2);
  const uint64_t commit_id = sent.msgids(0);
  const uint64_t rollback_id = sent.msgids(1);
  EXPECT_EQ(wire.Call(PullRequest(queue, 0)).result(), 10200);  // half: invisible

  // One check-back per message, on this connection, after about a second.
  std::set<uint64_t> asked;
  while (asked.size() < 2) {
    auto query = wire.ReadWithin(10s);
    ASSERT_TRUE(query.has_value()) << "no check-back within 10 s";
    ASSERT_EQ(query->cmd(), 1042);
    ASSERT_TRUE(query->has_transaction_query());
    EXPECT_EQ(query->transaction_query().queue_name(), queue);
    EXPECT_TRUE(asked.insert(query->transaction_query().msg_id()).second)
        << "asked twice about " << query->transaction_query().msg_id();
  }
  EXPECT_EQ(asked, (std::set<uint64_t>{commit_id, rollback_id}));

  // The answer is a one-way 1041 with a fresh seqno (the SDK's checker result).
  wire.Write(ConfirmRequest(wire.NextSeqno(), queue, {{commit_id, 1}, {rollback_id, 2}}));

  auto pulled = wire.Call(PullRequest(queue, 5));
  ASSERT_EQ(pulled.result(), 0) << pulled.error();
  EXPECT_EQ(pulled.pull_rsp().msg_id(), commit_id);
  EXPECT_EQ(pulled.pull_rsp().msg_body(), "commit me");
  EXPECT_EQ(wire.Call(DeleteRequest(queue, pulled.pull_rsp().receipt_handle())).result(), 0);
  EXPECT_EQ(wire.Call(PullRequest(queue, 1)).result(), 10200);  // rolled back
  // Resolved: nobody is asked about them again (the next check would be due by now).
  auto more = wire.ReadWithin(3s);
  EXPECT_FALSE(more.has_value()) << "cmd " << more->cmd();
}

// The leader of the queue's group dies right after a transaction send: the schedule is in
// the replicated state, so the new leader's housekeeping makes the check-back fall due, and
// the node holding the producer's connection asks; the producer's answers (one-way 1041s,
// resent at each further check-back should one be lost in the failover) commit one message
// and roll back the other.
TEST(TcpClusterTest, TransactionCheckBacksSurviveTheLeadersDeath) {
  ClusterProcesses c(3, {}, 0, /*with_tcp=*/true);
  const std::string queue = "txfail";
  const int leader = StartWithQueue(c, queue);
  ASSERT_NE(leader, 0);
  const int group = static_cast<int>(mq::GroupOfName(queue, 3));
  const int via = leader % 3 + 1;
  ASSERT_TRUE(c.WaitAllCaughtUp(leader, 30s, group));

  TcpWire wire(c.tcp_port(via));
  ASSERT_EQ(wire.Auth("any", "any", "HmacSHA1", "txn-failover@1").result(), 0);
  auto sent = wire.Call(HalfBatchSendRequest(queue, {"survives", "rolled back"}, 2));
  ASSERT_EQ(sent.result(), 0) << sent.error();
  const uint64_t commit_id = sent.msgids(0);
  const uint64_t rollback_id = sent.msgids(1);
  c.node(leader).Kill(SIGKILL);

  // Answers every check-back as the SDK's checker would; returns the answer to `request`.
  auto answer_checks = [&](const std::optional<cmq::tcp::CMQProto>& frame) {
    if (!frame || frame->cmd() != 1042) return;
    const uint64_t id = frame->transaction_query().msg_id();
    wire.Write(ConfirmRequest(wire.NextSeqno(), frame->transaction_query().queue_name(),
                              {{id, id == commit_id ? 1 : 2}}));
  };
  bool asked = false;
  std::optional<cmq::tcp::CMQProto> delivered;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!delivered && std::chrono::steady_clock::now() < deadline) {
    cmq::tcp::CMQProto pull = PullRequest(queue, 1);
    pull.set_seqno(wire.NextSeqno());
    wire.Write(pull);
    for (;;) {
      auto frame = wire.ReadWithin(20s);
      ASSERT_TRUE(frame.has_value()) << "no answer to a pull within 20 s";
      if (frame->cmd() == 1042) {
        asked = true;
        answer_checks(frame);
        continue;
      }
      ASSERT_EQ(frame->seqno(), pull.seqno());
      if (frame->result() == 0) delivered = frame;
      break;
    }
  }
  EXPECT_TRUE(asked) << "no check-back reached the producer";
  ASSERT_TRUE(delivered.has_value()) << "the committed message never became receivable";
  EXPECT_EQ(delivered->pull_rsp().msg_id(), commit_id);
  EXPECT_EQ(delivered->pull_rsp().msg_body(), "survives");
  // The rolled-back one never comes (answering any late check-back about it: rollback).
  const auto quiet_until = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < quiet_until) {
    cmq::tcp::CMQProto pull = PullRequest(queue, 1);
    pull.set_seqno(wire.NextSeqno());
    wire.Write(pull);
    for (;;) {
      auto frame = wire.ReadWithin(20s);
      ASSERT_TRUE(frame.has_value());
      if (frame->cmd() == 1042) {
        answer_checks(frame);
        continue;
      }
      ASSERT_EQ(frame->seqno(), pull.seqno());
      EXPECT_NE(frame->result(), 0) << "delivered: " << frame->pull_rsp().msg_body();
      if (frame->result() == 0) {
        EXPECT_NE(frame->pull_rsp().msg_id(), rollback_id);
      }
      break;
    }
  }
}

}  // namespace
}  // namespace cmq::testing

namespace cmq::testing {
namespace {

// A fourth node with a replica of another group only: a producer connected there is still
// asked about its transaction messages (the queue's leader passes the check to the nodes
// without a replica of the group), and its one-way answer, forwarded, commits the message.
TEST(TcpClusterTest, AProducerOnANodeWithoutAReplicaOfTheQueuesGroupIsAskedToo) {
  ClusterProcesses c(3, {"--no-leader-balance"}, /*spares=*/1, /*with_tcp=*/true);
  const std::string queue = "txfar";
  ASSERT_NE(StartWithQueue(c, queue), 0);
  const int group = static_cast<int>(mq::GroupOfName(queue, 3));
  const int other = group % 3 + 1;
  // Node 4 joins the other group only, as a learner: a peer of every node, no replica here.
  c.node(4).Start();
  json added = CallRetrying(
      c, 1, "AddNode",
      {{"nodeId", "4"}, {"address", c.peer_address(4)}, {"groupId", std::to_string(other)}});
  ASSERT_EQ(added["code"], 0) << added.dump();
  ASSERT_TRUE(c.WaitAllCaughtUp(1, 30s, other));

  TcpWire wire(c.tcp_port(4));
  ASSERT_EQ(wire.Auth("any", "any", "HmacSHA1", "txn-far@1").result(), 0);
  cmq::tcp::CMQProto send = HalfBatchSendRequest(queue, {"asked from afar"}, 1);
  // Node 4 learns the group's leader from the others' hints: retry until it forwards.
  std::optional<cmq::tcp::CMQProto> sent;
  for (int i = 0; i < 50 && !(sent && sent->result() == 0); ++i) {
    send.set_seqno(wire.NextSeqno());
    sent = wire.Call(send);
    if (sent->result() != 0) std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(sent->result(), 0) << sent->error();
  const uint64_t id = sent->msgids(0);

  auto query = wire.ReadWithin(15s);
  ASSERT_TRUE(query.has_value()) << "the producer on node 4 was never asked";
  ASSERT_EQ(query->cmd(), 1042);
  EXPECT_EQ(query->transaction_query().msg_id(), id);
  EXPECT_EQ(query->transaction_query().queue_name(), queue);
  wire.Write(ConfirmRequest(wire.NextSeqno(), queue, {{id, 1}}));

  std::optional<cmq::tcp::CMQProto> pulled;
  for (int i = 0; i < 20 && !pulled; ++i) {
    cmq::tcp::CMQProto pull = PullRequest(queue, 1);
    pull.set_seqno(wire.NextSeqno());
    wire.Write(pull);
    for (;;) {
      auto frame = wire.ReadWithin(10s);
      ASSERT_TRUE(frame.has_value()) << "no answer to a pull within 10 s";
      if (frame->cmd() == 1042) continue;  // a check that fell due before the confirm
      ASSERT_EQ(frame->seqno(), pull.seqno());
      if (frame->result() == 0) pulled = frame;
      break;
    }
  }
  ASSERT_TRUE(pulled.has_value()) << "the committed message never became receivable";
  EXPECT_EQ(pulled->pull_rsp().msg_id(), id);
  EXPECT_EQ(pulled->pull_rsp().msg_body(), "asked from afar");
}

}  // namespace
}  // namespace cmq::testing
