// OpenCMQ's cluster actions (ClusterStatus, TransferLeadership, AddNode, PromoteNode,
// RemoveNode) through the Dispatcher: parameter checks, what reaches the service, the
// status JSON, and a service error mapped to CMQ's envelope.

#include <gtest/gtest.h>

#include "api_test_util.h"

namespace cmq::api {
namespace {

using testing::DispatcherHarness;

class ClusterActionsTest : public ::testing::Test {
 protected:
  nlohmann::json Post(FormParams form) { return h.Post(form); }
  DispatcherHarness h;
};

TEST_F(ClusterActionsTest, StatusListsReplicasWithLagOnlyWhereTheLeaderKnowsIt) {
  cluster::NodeStats s;
  s.node_id = 2;
  s.group_id = 1;
  s.role = "leader";
  s.leader_id = 2;
  s.term = 7;
  s.commit_index = 90;
  s.last_index = 100;
  s.peers = {{1, 100, 101, "replicate", false},
             {2, 100, 101, "replicate", false},
             {3, 40, 41, "probe", false},
             {4, 0, 0, "", true}};
  h.service.group_status = s;
  auto j = Post({{"Action", "ClusterStatus"}});
  ASSERT_EQ(j["code"], 0) << j.dump();
  EXPECT_EQ(j["nodeId"], 2);
  const auto& g = j["groups"][0];
  EXPECT_EQ(g["role"], "leader");
  EXPECT_EQ(g["leaderId"], 2);
  EXPECT_EQ(g["term"], 7);
  EXPECT_EQ(g["commitIndex"], 90);
  EXPECT_EQ(g["lastIndex"], 100);
  ASSERT_EQ(g["replicas"].size(), 4u);
  EXPECT_EQ(g["replicas"][0]["lag"], 0);
  EXPECT_EQ(g["replicas"][2]["lag"], 60);
  EXPECT_EQ(g["replicas"][2]["state"], "probe");
  EXPECT_EQ(g["replicas"][3]["learner"], true);
  EXPECT_FALSE(g["replicas"][3].contains("lag"));  // progress unknown: no lag shown
  EXPECT_FALSE(g["replicas"][2].contains("stream"));
}

TEST_F(ClusterActionsTest, StatusShowsAStreamedSnapshotsProgress) {
  cluster::NodeStats s;
  s.node_id = 1;
  s.group_id = 1;
  s.role = "leader";
  s.leader_id = 1;
  s.last_index = 5000;
  cluster::NodeStats::Peer behind{3, 10, 11, "probe", false};
  behind.stream_first = 100;
  behind.stream_target = 4099;  // 4,000 entries, 1,500 staged
  behind.stream_staged_next = 1600;
  s.peers = {{1, 5000, 5001, "replicate", false}, behind};
  h.service.group_status = s;
  auto j = Post({{"Action", "ClusterStatus"}});
  ASSERT_EQ(j["code"], 0) << j.dump();
  const auto& replicas = j["groups"][0]["replicas"];
  EXPECT_FALSE(replicas[0].contains("stream"));
  ASSERT_TRUE(replicas[1].contains("stream")) << j.dump();
  EXPECT_EQ(replicas[1]["stream"]["firstIndex"], 100);
  EXPECT_EQ(replicas[1]["stream"]["snapshotIndex"], 4099);
  EXPECT_EQ(replicas[1]["stream"]["stagedEntries"], 1500);
  EXPECT_EQ(replicas[1]["stream"]["totalEntries"], 4000);
}

TEST_F(ClusterActionsTest, StatusErrorIsACmqError) {
  h.service.group_status = Status(ErrorCode::kUnavailable, "no status; retry");
  auto j = Post({{"Action", "ClusterStatus"}});
  EXPECT_EQ(j["code"], 6000);
  EXPECT_NE(j["message"].get<std::string>().find("retry"), std::string::npos);
}

TEST_F(ClusterActionsTest, NodeIdIsChecked) {
  for (const char* action : {"TransferLeadership", "PromoteNode", "RemoveNode"}) {
    EXPECT_EQ(Post({{"Action", action}})["message"].get<std::string>().substr(0, 7), "(10390)")
        << action;
    EXPECT_EQ(
        Post({{"Action", action}, {"nodeId", "x"}})["message"].get<std::string>().substr(0, 7),
        "(10360)")
        << action;
    EXPECT_EQ(
        Post({{"Action", action}, {"nodeId", "0"}})["message"].get<std::string>().substr(0, 7),
        "(10350)")
        << action;
  }
  EXPECT_TRUE(h.service.membership_changes.empty());
  EXPECT_EQ(h.service.transferred_to, 0u);
}

TEST_F(ClusterActionsTest, AddNodeNeedsAWellFormedAddress) {
  auto missing = Post({{"Action", "AddNode"}, {"nodeId", "4"}});
  EXPECT_EQ(missing["code"], 4000);
  EXPECT_EQ(missing["message"].get<std::string>().substr(0, 7), "(10390)");
  for (const char* bad : {"nohost", "host:", ":7001", "host:0", "host:99999"}) {
    auto j = Post({{"Action", "AddNode"}, {"nodeId", "4"}, {"address", bad}});
    EXPECT_EQ(j["message"].get<std::string>().substr(0, 7), "(10350)") << bad;
  }
  EXPECT_TRUE(h.service.membership_changes.empty());
}

TEST_F(ClusterActionsTest, MembershipActionsReachTheServiceAsConfChanges) {
  ASSERT_EQ(Post({{"Action", "AddNode"}, {"nodeId", "4"}, {"address", "10.0.0.4:7001"}})["code"],
            0);
  ASSERT_EQ(Post({{"Action", "PromoteNode"}, {"nodeId", "4"}})["code"], 0);
  ASSERT_EQ(Post({{"Action", "RemoveNode"}, {"nodeId", "3"}})["code"], 0);
  ASSERT_EQ(Post({{"Action", "TransferLeadership"}, {"nodeId", "2"}})["code"], 0);
  const auto& c = h.service.membership_changes;
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0], (raft::ConfChange{raft::ConfChangeType::kAddLearner, 4, "10.0.0.4:7001"}));
  EXPECT_EQ(c[1], (raft::ConfChange{raft::ConfChangeType::kPromoteLearner, 4, {}}));
  EXPECT_EQ(c[2], (raft::ConfChange{raft::ConfChangeType::kRemoveNode, 3, {}}));
  EXPECT_EQ(h.service.transferred_to, 2u);
}

TEST_F(ClusterActionsTest, RefusedChangesAnswerWithTheirErrors) {
  h.service.cluster_answer = Status(ErrorCode::kInvalidArgument, "node is already a member");
  auto refused = Post({{"Action", "AddNode"}, {"nodeId", "2"}, {"address", "h:1"}});
  EXPECT_EQ(refused["code"], 4000);
  EXPECT_NE(refused["message"].get<std::string>().find("already a member"), std::string::npos);
  h.service.cluster_answer = Status(ErrorCode::kUnavailable, "leadership is moving; retry");
  auto moving = Post({{"Action", "RemoveNode"}, {"nodeId", "1"}});
  EXPECT_EQ(moving["code"], 6000);
  EXPECT_NE(moving["message"].get<std::string>().find("retry"), std::string::npos);
}

}  // namespace
}  // namespace cmq::api
