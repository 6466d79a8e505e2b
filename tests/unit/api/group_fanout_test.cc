// Actions over several data groups (api/group_fanout.h, docs/cluster.md "Data groups"),
// through a Dispatcher given GroupAccess{3, replica, run}:
//  - ListQueue / ListTopic ask every group's leader for the first offset + limit items and
//    cut the page from the merged union; an internal request pinned to a group is served
//    from that group's replica (and may ask for more than 50);
//  - any group's error or malformed answer fails the whole list (6000, retry);
//  - ClusterStatus gathers the groups' status objects in group order;
//  - Subscribe to a queue of another group checks the queue at that group's leader first;
//  - internal requests skip the signature check;
//  - ErrorInAnswer and EnqueueInGroup (a topic's copy sent to a queue of another group).
//
// The "remote leaders" are a fake run function: it records every request it is handed and
// answers canned CMQ JSON per group, synchronously unless told to hold the answers.

#include "api/group_fanout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>

#include "api_test_util.h"
#include "mq/placement.h"

namespace cmq::api {
namespace {

using testing::DispatcherHarness;
using testing::FakeQueueService;

constexpr uint32_t kGroups = 3;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The value of name in form, or "" (a missing parameter fails the caller's EXPECT).
std::string Get(const FormParams& form, std::string_view name) {
  for (const auto& [k, v] : form) {
    if (k == name) return v;
  }
  ADD_FAILURE() << "no parameter " << name;
  return {};
}

bool Has(const FormParams& form, std::string_view name) {
  return std::any_of(form.begin(), form.end(), [&](const auto& p) { return p.first == name; });
}

// One request handed to GroupAccess::run.
struct RemoteCall {
  uint32_t group = 0;
  HttpRequest request;
  FormParams form;  // request.body decoded
  std::string Action() const { return Get(form, "Action"); }
};

// What one group's leader holds and answers.
struct FakeGroup {
  std::vector<std::string> queues;  // names; listed in lower-cased order
  std::vector<std::string> topics;
  std::optional<std::string> answer;  // if set: the answer to any request, verbatim
  std::string get_queue_answer = R"({"code":0,"message":"","requestId":"7"})";
  std::string send_answer = R"({"code":0,"message":"","requestId":"7","msgId":"1"})";
};

// The CMQ answer of a List over names: the first `limit` after `offset` of those containing
// searchWord, in lower-cased order, with totalCount of all that match.
std::string ListAnswer(std::vector<std::string> names, const FormParams& form,
                       const std::string& list_key, const std::string& id_key,
                       const std::string& name_key) {
  const std::string search = Get(form, "searchWord");
  const uint64_t offset = std::stoull(Get(form, "offset"));
  const uint64_t limit = std::stoull(Get(form, "limit"));
  std::erase_if(names, [&](const std::string& n) { return n.find(search) == std::string::npos; });
  std::sort(names.begin(), names.end(),
            [](const std::string& a, const std::string& b) { return Lower(a) < Lower(b); });
  nlohmann::json j = {{"code", 0}, {"message", ""}, {"requestId", "9"}};
  j["totalCount"] = names.size();
  j[list_key] = nlohmann::json::array();
  for (uint64_t i = offset; i < names.size() && i - offset < limit; ++i) {
    j[list_key].push_back({{id_key, "id-" + names[i]}, {name_key, names[i]}});
  }
  return j.dump();
}

class GroupFanoutTest : public ::testing::Test {
 protected:
  GroupFanoutTest() {
    for (auto& r : replicas) r = std::make_unique<FakeQueueService>(h.clock);
    InstallGroups(h);
  }

  // Gives harness's dispatcher the three groups: replicas[g - 1] and the fake leaders.
  void InstallGroups(DispatcherHarness& harness) {
    GroupAccess access;
    access.count = kGroups;
    access.replica = [this](uint32_t g) -> cluster::QueueService& {
      EXPECT_GE(g, 1u);
      EXPECT_LE(g, kGroups);
      return *replicas.at(g - 1);
    };
    access.run = [this](uint32_t g, HttpRequest r, ResponseCallback done) {
      Run(g, std::move(r), std::move(done));
    };
    harness.dispatcher.SetGroups(std::move(access));
  }

  void Run(uint32_t g, HttpRequest r, ResponseCallback done) {
    EXPECT_GE(g, 1u);
    EXPECT_LE(g, kGroups);
    EXPECT_EQ(r.method, "POST");
    auto form = ParseForm(r.body);
    EXPECT_TRUE(form.has_value()) << r.body;
    RemoteCall call{g, r, form.value_or(FormParams{})};
    calls.push_back(call);
    if (real_leaders) {
      // As ForwardingHandler::RunInGroup: internal, pinned, served by that group's leader.
      r.internal = true;
      r.group = g;
      return leaders.at(g - 1)->dispatcher.Handle(std::move(r), std::move(done));
    }
    HttpResponse response;
    response.body = Answer(call);
    if (hold_answers) {
      held.emplace_back(std::move(done), std::move(response));
      return;
    }
    done(std::move(response));
  }

  std::string Answer(const RemoteCall& call) {
    if (call.group < 1 || call.group > kGroups) return "{}";
    const FakeGroup& group = groups[call.group - 1];
    if (group.answer) return *group.answer;
    const std::string action = call.Action();
    if (action == "ListQueue") {
      return ListAnswer(group.queues, call.form, "queueList", "queueId", "queueName");
    }
    if (action == "ListTopic") {
      return ListAnswer(group.topics, call.form, "topicList", "topicId", "topicName");
    }
    if (action == "ClusterStatus") {
      nlohmann::json j = {{"code", 0}, {"message", ""}, {"requestId", "9"}};
      j["nodeId"] = 10 + call.group;
      nlohmann::json g = nlohmann::json::object();
      g["groupId"] = call.group;
      g["reportedBy"] = 10 + call.group;
      g["role"] = "leader";
      g["leaderId"] = 10 + call.group;
      g["replicas"] = nlohmann::json::array();
      j["groups"] = nlohmann::json::array();
      j["groups"].push_back(g);
      return j.dump();
    }
    if (action == "GetQueueAttributes") return group.get_queue_answer;
    if (action == "SendMessage") return group.send_answer;
    ADD_FAILURE() << "unexpected remote action " << action;
    return R"({"code":4000,"message":"(10430)unknown action","requestId":"0"})";
  }

  // Posts {Action: action} plus extra as a client would.
  nlohmann::json Call(const std::string& action, FormParams extra = {}) {
    extra.insert(extra.begin(), {"Action", action});
    return h.Post(extra);
  }

  // Names of a list answer, in order.
  static std::vector<std::string> Names(const nlohmann::json& j, const std::string& list_key,
                                        const std::string& name_key) {
    std::vector<std::string> out;
    for (const auto& item : j[list_key]) out.push_back(item[name_key]);
    return out;
  }

  std::set<uint32_t> GroupsCalled() const {
    std::set<uint32_t> out;
    for (const RemoteCall& c : calls) out.insert(c.group);
    return out;
  }

  DispatcherHarness h;
  std::array<std::unique_ptr<FakeQueueService>, kGroups> replicas;
  std::array<FakeGroup, kGroups> groups;
  std::vector<RemoteCall> calls;
  bool hold_answers = false;
  std::vector<std::pair<ResponseCallback, HttpResponse>> held;
  // Instead of canned answers: every group's leader is a real Dispatcher (UseRealLeaders).
  bool real_leaders = false;
  std::array<std::unique_ptr<DispatcherHarness>, kGroups> leaders;

  // Leaders holding per_group queues each, named "g<group>-q<NN>".
  void UseRealLeaders(int per_group) {
    real_leaders = true;
    for (uint32_t g = 1; g <= kGroups; ++g) {
      leaders[g - 1] = std::make_unique<DispatcherHarness>();
      for (int i = 0; i < per_group; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "g%u-q%02d", g, i);
        ASSERT_EQ(leaders[g - 1]->Post({{"Action", "CreateQueue"}, {"queueName", name}})["code"],
                  0);
      }
    }
  }
};

// ---------------------------------------------------------------------------------------
// Lists

TEST_F(GroupFanoutTest, ListQueueMergesThePagesOfEveryGroup) {
  groups[0].queues = {"alpha", "Delta", "golf"};
  groups[1].queues = {"Bravo", "echo", "hotel"};
  // Seven: each group is asked for offset + limit = 5, so two are never sent.
  groups[2].queues = {"charlie", "Foxtrot", "india", "juliet", "kilo", "lima", "mike"};

  auto j = Call("ListQueue", {{"offset", "2"}, {"limit", "3"}});
  ASSERT_EQ(j["code"], 0) << j.dump();
  // totalCount counts every group's matches, not just the items they sent.
  EXPECT_EQ(j["totalCount"], 13);
  // Union in case-insensitive order: alpha Bravo charlie Delta echo Foxtrot golf ...
  EXPECT_EQ(Names(j, "queueList", "queueName"),
            (std::vector<std::string>{"charlie", "Delta", "echo"}));
  EXPECT_EQ(j["queueList"][1]["queueId"], "id-Delta");  // ids travel with their names

  ASSERT_EQ(calls.size(), kGroups);
  EXPECT_EQ(GroupsCalled(), (std::set<uint32_t>{1, 2, 3}));
  for (const RemoteCall& c : calls) {
    EXPECT_EQ(c.Action(), "ListQueue");
    EXPECT_EQ(Get(c.form, "offset"), "0");
    EXPECT_EQ(Get(c.form, "limit"), "5");  // offset + limit
    EXPECT_EQ(Get(c.form, "searchWord"), "");
    EXPECT_FALSE(Has(c.form, "Signature"));
  }
  // Nothing was read from this node's own services: the parts came from the leaders.
  EXPECT_EQ(h.service.submitted, 0);
}

TEST_F(GroupFanoutTest, ListQueuePassesTheSearchWordAndDefaults) {
  groups[0].queues = {"orders-eu", "billing"};
  groups[1].queues = {"Orders-us", "audit"};
  groups[2].queues = {"orders-asia"};
  auto j = Call("ListQueue", {{"searchWord", "rders"}});
  ASSERT_EQ(j["code"], 0) << j.dump();
  EXPECT_EQ(j["totalCount"], 3);
  EXPECT_EQ(Names(j, "queueList", "queueName"),
            (std::vector<std::string>{"orders-asia", "orders-eu", "Orders-us"}));
  ASSERT_EQ(calls.size(), kGroups);
  for (const RemoteCall& c : calls) {
    EXPECT_EQ(Get(c.form, "searchWord"), "rders");
    EXPECT_EQ(Get(c.form, "offset"), "0");
    EXPECT_EQ(Get(c.form, "limit"), "20");  // the default page
  }
}

TEST_F(GroupFanoutTest, ListQueueOffsetPastTheUnionIsEmptyButCounted) {
  groups[0].queues = {"a1"};
  groups[1].queues = {"b1", "b2"};
  auto j = Call("ListQueue", {{"offset", "10"}, {"limit", "5"}});
  ASSERT_EQ(j["code"], 0) << j.dump();
  EXPECT_EQ(j["totalCount"], 3);
  EXPECT_TRUE(j["queueList"].empty()) << j.dump();
  for (const RemoteCall& c : calls) EXPECT_EQ(Get(c.form, "limit"), "15");
}

TEST_F(GroupFanoutTest, ClientLimitAbove50IsRefusedButAnInternalPinnedListIsServedByTheReplica) {
  auto refused = Call("ListQueue", {{"limit", "51"}});
  EXPECT_EQ(refused["code"], 4000);
  EXPECT_EQ(refused["message"].get<std::string>().substr(0, 7), "(10350)") << refused.dump();
  EXPECT_TRUE(calls.empty());  // refused before anyone was asked

  // Group 2's replica here holds 60 queues; the others none.
  DispatcherHarness group2;
  for (int i = 0; i < 60; ++i) {
    ASSERT_EQ(group2.Post({{"Action", "CreateQueue"},
                           {"queueName", std::string("q") + std::to_string(i)}})["code"],
              0);
  }
  // Point group 2 at group2's service.
  GroupAccess access;
  access.count = kGroups;
  access.replica = [&](uint32_t g) -> cluster::QueueService& {
    return g == 2 ? static_cast<cluster::QueueService&>(group2.service) : *replicas.at(g - 1);
  };
  access.run = [this](uint32_t g, HttpRequest r, ResponseCallback done) {
    Run(g, std::move(r), std::move(done));
  };
  h.dispatcher.SetGroups(std::move(access));

  HttpRequest r;
  r.method = "POST";
  r.target = "/v2/index.php";
  r.body = EncodeForm({{"Action", "ListQueue"}, {"offset", "0"}, {"limit", "200"}});
  r.internal = true;
  r.group = 2;
  auto j = DispatcherHarness::Parse(h.Raw(r));
  ASSERT_EQ(j["code"], 0) << j.dump();
  EXPECT_EQ(j["totalCount"], 60);
  EXPECT_EQ(j["queueList"].size(), 60u);  // more than a client's 50
  EXPECT_TRUE(calls.empty());             // pinned: no fan-out

  // Pinned to group 1 (an empty replica): its part only.
  r.group = 1;
  auto one = DispatcherHarness::Parse(h.Raw(r));
  ASSERT_EQ(one["code"], 0) << one.dump();
  EXPECT_EQ(one["totalCount"], 0);

  // A pinned but external request (never made by a client, but the limit rule is about
  // trust) still may not ask for more than 50.
  r.internal = false;
  r.group = 2;
  auto external = DispatcherHarness::Parse(h.Raw(r));
  EXPECT_EQ(external["message"].get<std::string>().substr(0, 7), "(10350)") << external.dump();
}

// Through real leaders: each part asks for offset + limit (here 60, past a client's 50),
// which the leaders accept because the request is internal.
TEST_F(GroupFanoutTest, ListQueueThroughRealLeadersAsksForMoreThan50) {
  UseRealLeaders(30);
  auto j = Call("ListQueue", {{"offset", "40"}, {"limit", "20"}});
  ASSERT_EQ(j["code"], 0) << j.dump();
  EXPECT_EQ(j["totalCount"], 90);
  // g1-q00..g1-q29 g2-q00..g2-q29 g3-...: [40, 60) is g2-q10..g2-q29.
  std::vector<std::string> expected;
  for (int i = 10; i < 30; ++i) expected.push_back(std::string("g2-q") + std::to_string(i));
  EXPECT_EQ(Names(j, "queueList", "queueName"), expected);
  ASSERT_EQ(calls.size(), kGroups);
  for (const RemoteCall& c : calls) EXPECT_EQ(Get(c.form, "limit"), "60");
}

// A client may page with any offset up to 2^63 - 1 (PageParamsOf); with one group that is an
// empty page. Over several groups the same request must not turn into an error because the
// parts ask for offset + limit past what a leader accepts.
TEST_F(GroupFanoutTest, ListQueueWithTheLargestOffsetIsAnEmptyPage) {
  UseRealLeaders(2);
  auto single = leaders[0]->Post(
      {{"Action", "ListQueue"}, {"offset", std::to_string(INT64_MAX)}, {"limit", "20"}});
  ASSERT_EQ(single["code"], 0) << single.dump();  // what one group answers
  auto j = Call("ListQueue", {{"offset", std::to_string(INT64_MAX)}, {"limit", "20"}});
  EXPECT_EQ(j["code"], 0) << j.dump();
  EXPECT_EQ(j["totalCount"], 6);
  EXPECT_TRUE(j["queueList"].empty());
}

TEST_F(GroupFanoutTest, ListTopicMergesThePagesOfEveryGroup) {
  groups[0].topics = {"news", "Alerts"};
  groups[1].topics = {"billing", "zeta"};
  groups[2].topics = {"Metrics", "chat", "orders"};
  auto j = Call("ListTopic", {{"offset", "1"}, {"limit", "4"}});
  ASSERT_EQ(j["code"], 0) << j.dump();
  EXPECT_EQ(j["totalCount"], 7);
  // Alerts billing chat Metrics news orders zeta → [1, 5)
  EXPECT_EQ(Names(j, "topicList", "topicName"),
            (std::vector<std::string>{"billing", "chat", "Metrics", "news"}));
  EXPECT_EQ(j["topicList"][2]["topicId"], "id-Metrics");
  EXPECT_FALSE(j.contains("queueList"));
  ASSERT_EQ(calls.size(), kGroups);
  for (const RemoteCall& c : calls) {
    EXPECT_EQ(c.Action(), "ListTopic");
    EXPECT_EQ(Get(c.form, "offset"), "0");
    EXPECT_EQ(Get(c.form, "limit"), "5");
  }
}

TEST_F(GroupFanoutTest, AGroupThatAsksToRetryFailsTheWholeList) {
  groups[0].queues = {"a"};
  groups[1].answer =
      R"({"code":6000,"message":"(10050)server internal error: no leader; retry","requestId":"3"})";
  groups[2].queues = {"c"};
  auto j = Call("ListQueue");
  EXPECT_EQ(j["code"], 6000) << j.dump();
  EXPECT_NE(j["message"].get<std::string>().find("retry"), std::string::npos);
  EXPECT_FALSE(j.contains("queueList"));
}

TEST_F(GroupFanoutTest, AMalformedPartFailsTheWholeListWith6000) {
  for (const char* bad : {"<html>bad gateway</html>", "", R"({"code":0,"message":""})",
                          R"({"code":0,"totalCount":1,"queueList":{}})", R"([1,2])"}) {
    groups[2].answer = bad;
    auto j = Call("ListQueue");
    EXPECT_EQ(j["code"], 6000) << bad << " → " << j.dump();
  }
}

// A part whose fields have the wrong JSON types (another version, a damaged answer) must
// also be a 6000, not an exception thrown through the network thread.
TEST_F(GroupFanoutTest, AWronglyTypedPartFailsTheWholeListWith6000) {
  for (const char* bad :
       {R"({"code":0,"message":"","totalCount":"1","queueList":[]})",
        R"({"code":0,"message":"","totalCount":1,"queueList":[7]})",
        R"({"code":0,"message":"","totalCount":1,"queueList":[{"queueId":1,"queueName":"x"}]})"}) {
    groups[2].answer = bad;
    nlohmann::json j;
    EXPECT_NO_THROW(j = Call("ListQueue")) << bad;
    EXPECT_EQ(j["code"], 6000) << bad << " → " << j.dump();
  }
}

// ---------------------------------------------------------------------------------------
// ClusterStatus

TEST_F(GroupFanoutTest, ClusterStatusListsEveryGroupInGroupOrder) {
  // The leaders answer in reverse order; the groups still come out 1, 2, 3.
  hold_answers = true;
  std::optional<HttpResponse> answer;
  HttpRequest r;
  r.method = "POST";
  r.target = "/v2/index.php";
  r.body = "Action=ClusterStatus";
  h.dispatcher.Handle(r, [&](HttpResponse resp) { answer = std::move(resp); });
  ASSERT_EQ(held.size(), kGroups);
  for (auto it = held.rbegin(); it != held.rend(); ++it) {
    EXPECT_FALSE(answer.has_value());  // not before the last group answered
    it->first(std::move(it->second));
  }
  ASSERT_TRUE(answer.has_value());
  auto j = DispatcherHarness::Parse(*answer);
  ASSERT_EQ(j["code"], 0) << j.dump();
  ASSERT_EQ(j["groups"].size(), kGroups) << j.dump();
  for (uint32_t g = 1; g <= kGroups; ++g) {
    EXPECT_EQ(j["groups"][g - 1]["groupId"], g);
    EXPECT_EQ(j["groups"][g - 1]["reportedBy"], 10 + g);  // each from its own leader
  }
  for (const RemoteCall& c : calls) EXPECT_EQ(c.Action(), "ClusterStatus");
  EXPECT_EQ(GroupsCalled(), (std::set<uint32_t>{1, 2, 3}));
}

TEST_F(GroupFanoutTest, ClusterStatusPinnedToAGroupReadsItsReplica) {
  cluster::NodeStats s;
  s.node_id = 5;
  s.group_id = 3;
  s.role = "follower";
  replicas[2]->group_status = s;
  HttpRequest r;
  r.method = "POST";
  r.target = "/v2/index.php";
  r.body = "Action=ClusterStatus";
  r.internal = true;
  r.group = 3;
  auto j = DispatcherHarness::Parse(h.Raw(r));
  ASSERT_EQ(j["code"], 0) << j.dump();
  ASSERT_EQ(j["groups"].size(), 1u);
  EXPECT_EQ(j["groups"][0]["groupId"], 3);
  EXPECT_EQ(j["groups"][0]["role"], "follower");
  EXPECT_TRUE(calls.empty());
}

TEST_F(GroupFanoutTest, ClusterStatusFailsIfAGroupFails) {
  groups[0].answer = R"({"code":6000,"message":"(10050)no leader; retry","requestId":"1"})";
  EXPECT_EQ(Call("ClusterStatus")["code"], 6000);
  groups[0].answer = R"({"code":0,"message":"","requestId":"1"})";  // no "groups"
  EXPECT_EQ(Call("ClusterStatus")["code"], 6000);
}

TEST_F(GroupFanoutTest, MembershipAndLeadershipActionsReachTheNamedGroup) {
  ASSERT_EQ(Call("TransferLeadership", {{"nodeId", "2"}, {"groupId", "3"}})["code"], 0);
  EXPECT_EQ(replicas[2]->transferred_to, 2u);
  EXPECT_EQ(replicas[0]->transferred_to, 0u);
  ASSERT_EQ(Call("RemoveNode", {{"nodeId", "4"}})["code"], 0);  // groupId defaults to 1
  ASSERT_EQ(replicas[0]->membership_changes.size(), 1u);
  EXPECT_EQ(replicas[0]->membership_changes[0],
            (raft::ConfChange{raft::ConfChangeType::kRemoveNode, 4, {}}));
  ASSERT_EQ(Call("AddNode", {{"nodeId", "5"}, {"address", "h:7001"}, {"groupId", "2"}})["code"], 0);
  ASSERT_EQ(replicas[1]->membership_changes.size(), 1u);
  for (const char* bad : {"0", "4"}) {
    auto j = Call("PromoteNode", {{"nodeId", "5"}, {"groupId", bad}});
    EXPECT_EQ(j["message"].get<std::string>().substr(0, 7), "(10350)") << bad << j.dump();
  }
  EXPECT_EQ(Call("PromoteNode", {{"nodeId", "5"}, {"groupId", "x"}})["code"], 4000);
  // Nothing reached the router-level service or another group.
  EXPECT_TRUE(h.service.membership_changes.empty());
  EXPECT_EQ(h.service.transferred_to, 0u);
  EXPECT_TRUE(replicas[2]->membership_changes.empty());
  EXPECT_TRUE(calls.empty());
}

// ---------------------------------------------------------------------------------------
// Subscribe to a queue

class GroupSubscribeTest : public GroupFanoutTest {
 protected:
  // A name starting with prefix whose group is (same ? equal to : other than) topic's.
  static std::string QueueNamed(const std::string& prefix, const std::string& topic, bool same) {
    const uint32_t tg = mq::GroupOfName(topic, kGroups);
    for (int i = 0; i < 1000; ++i) {
      std::string name = prefix + std::to_string(i);
      if ((mq::GroupOfName(name, kGroups) == tg) == same) return name;
    }
    ADD_FAILURE() << "no name found";
    return prefix;
  }

  void SetUp() override { ASSERT_EQ(Call("CreateTopic", {{"topicName", topic}})["code"], 0); }

  nlohmann::json SubscribeQueue(const std::string& queue) {
    return Call("Subscribe", {{"topicName", topic},
                              {"subscriptionName", "sub"},
                              {"protocol", "queue"},
                              {"endpoint", queue}});
  }

  const std::string topic = "orders";
};

TEST_F(GroupSubscribeTest, AMissingQueueOfAnotherGroupIsRefusedWithItsError) {
  const std::string queue = QueueNamed("remote", topic, false);
  const uint32_t queue_group = mq::GroupOfName(queue, kGroups);
  ASSERT_NE(queue_group, mq::GroupOfName(topic, kGroups));
  groups[queue_group - 1].get_queue_answer =
      R"({"code":4440,"message":"(10100)queue is not existed, or deleted","requestId":"4"})";
  const int submitted = h.service.submitted;

  auto j = SubscribeQueue(queue);
  EXPECT_EQ(j["code"], 4440) << j.dump();
  EXPECT_EQ(j["message"], "(10100)queue is not existed, or deleted");
  EXPECT_EQ(h.service.submitted, submitted);  // no kSubscribe proposed
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].group, queue_group);  // asked where the queue lives
  EXPECT_EQ(calls[0].Action(), "GetQueueAttributes");
  EXPECT_EQ(Get(calls[0].form, "queueName"), queue);
}

TEST_F(GroupSubscribeTest, AnExistingQueueOfAnotherGroupIsSubscribedToInTheTopicsGroup) {
  const std::string queue = QueueNamed("remote", topic, false);
  const uint32_t queue_group = mq::GroupOfName(queue, kGroups);
  // The fake service is one machine holding everything: give it the queue too, so that the
  // kSubscribe applies (the topic's group of a real cluster does not look for it).
  ASSERT_EQ(Call("CreateQueue", {{"queueName", queue}})["code"], 0);
  const int submitted = h.service.submitted;

  auto j = SubscribeQueue(queue);
  ASSERT_EQ(j["code"], 0) << j.dump();
  EXPECT_TRUE(j["subscriptionId"].is_string());
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].group, queue_group);
  EXPECT_EQ(calls[0].Action(), "GetQueueAttributes");
  EXPECT_EQ(h.service.submitted, submitted + 1);
  const mq::Command& cmd = h.service.last_command();
  EXPECT_EQ(cmd.type, mq::CommandType::kSubscribe);
  EXPECT_EQ(cmd.topic_name, topic);
  EXPECT_EQ(cmd.subscription.protocol, "queue");
  EXPECT_EQ(cmd.subscription.endpoint, queue);
}

TEST_F(GroupSubscribeTest, ARetryFromTheQueuesGroupIsPassedOn) {
  const std::string queue = QueueNamed("remote", topic, false);
  groups[mq::GroupOfName(queue, kGroups) - 1].get_queue_answer = "connection reset";
  const int submitted = h.service.submitted;
  auto j = SubscribeQueue(queue);
  EXPECT_EQ(j["code"], 6000) << j.dump();
  EXPECT_EQ(h.service.submitted, submitted);
}

TEST_F(GroupSubscribeTest, AQueueOfTheTopicsGroupIsCheckedLocally) {
  const std::string queue = QueueNamed("local", topic, true);
  ASSERT_EQ(mq::GroupOfName(queue, kGroups), mq::GroupOfName(topic, kGroups));
  // Missing: the topic's own group refuses it, nobody else is asked.
  auto missing = SubscribeQueue(queue);
  EXPECT_EQ(missing["code"], 4440) << missing.dump();
  EXPECT_EQ(missing["message"], "(10100)queue is not existed, or deleted");
  ASSERT_EQ(Call("CreateQueue", {{"queueName", queue}})["code"], 0);
  auto ok = SubscribeQueue(queue);
  EXPECT_EQ(ok["code"], 0) << ok.dump();
  EXPECT_EQ(h.service.last_command().type, mq::CommandType::kSubscribe);
  // An http subscription has no queue to look for.
  auto http = Call("Subscribe", {{"topicName", topic},
                                 {"subscriptionName", "web"},
                                 {"protocol", "http"},
                                 {"endpoint", "http://127.0.0.1:9/push"}});
  EXPECT_EQ(http["code"], 0) << http.dump();
  EXPECT_TRUE(calls.empty());
}

// ---------------------------------------------------------------------------------------
// Signatures

TEST_F(GroupFanoutTest, InternalRequestsSkipTheSignatureCheck) {
  ServerConfig config;
  config.accounts = {{"AKIDexample", "secretkey"}};
  DispatcherHarness signed_harness(config);
  InstallGroups(signed_harness);

  HttpRequest r;
  r.method = "POST";
  r.target = "/v2/index.php";
  r.host = "127.0.0.1:8080";
  r.body = EncodeForm({{"Action", "CreateQueue"}, {"queueName", "q1"}});
  auto refused = DispatcherHarness::Parse(signed_harness.Raw(r));
  EXPECT_EQ(refused["code"], 4100) << refused.dump();
  EXPECT_EQ(signed_harness.service.submitted, 0);

  r.internal = true;
  auto served = DispatcherHarness::Parse(signed_harness.Raw(r));
  EXPECT_EQ(served["code"], 0) << served.dump();
  EXPECT_EQ(signed_harness.service.submitted, 1);
  EXPECT_EQ(signed_harness.service.last_command().queue_name, "q1");

  // A fan-out's part too: pinned to a group, unsigned, served from the replica.
  HttpRequest list = r;
  list.body = EncodeForm({{"Action", "ListQueue"}});
  list.group = 1;
  auto listed = DispatcherHarness::Parse(signed_harness.Raw(list));
  EXPECT_EQ(listed["code"], 0) << listed.dump();
  list.internal = false;
  EXPECT_EQ(DispatcherHarness::Parse(signed_harness.Raw(list))["code"], 4100);
}

// ---------------------------------------------------------------------------------------
// ErrorInAnswer

TEST(ErrorInAnswerTest, CodeZeroIsNoError) {
  EXPECT_FALSE(ErrorInAnswer(R"({"code":0,"message":"","requestId":"1"})").has_value());
  EXPECT_FALSE(ErrorInAnswer(R"({"code":0})").has_value());
}

TEST(ErrorInAnswerTest, ModuleCodeAndTextAreParsed) {
  auto e = ErrorInAnswer(R"({"code":4440,"message":"(10100)queue is not existed, or deleted"})");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, 4440);
  EXPECT_EQ(e->module_code, 10100);
  EXPECT_EQ(e->text, "queue is not existed, or deleted");
  EXPECT_EQ(e->Message(), "(10100)queue is not existed, or deleted");
}

TEST(ErrorInAnswerTest, AMessageWithoutAModuleIsKeptWhole) {
  auto e = ErrorInAnswer(R"({"code":4000,"message":"(abc)odd"})");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, 4000);
  EXPECT_EQ(e->text, "(abc)odd");
  auto plain = ErrorInAnswer(R"({"code":4000,"message":"plain"})");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->text, "plain");
}

TEST(ErrorInAnswerTest, AnythingButACmqAnswerIsA6000) {
  for (const char* bad : {"", "not json", "[]", "{}", R"({"code":"0"})", R"({"code":1.5})",
                          R"({"message":"(10100)x"})"}) {
    auto e = ErrorInAnswer(bad);
    ASSERT_TRUE(e.has_value()) << bad;
    EXPECT_EQ(e->code, 6000) << bad;
    EXPECT_NE(e->Message().find("retry"), std::string::npos) << bad;
  }
}

// ---------------------------------------------------------------------------------------
// EnqueueInGroup

class EnqueueInGroupTest : public ::testing::Test {
 protected:
  EnqueueInGroupTest() {
    access.count = kGroups;
    access.run = [this](uint32_t g, HttpRequest r, ResponseCallback done) {
      group = g;
      request = r;
      HttpResponse resp;
      resp.body = answer;
      done(std::move(resp));
    };
  }

  Status Enqueue(uint32_t g, std::string queue, std::string body) {
    std::optional<Status> result;
    EnqueueInGroup(access, g, std::move(queue), std::move(body),
                   [&](Status st) { result = std::move(st); });
    EXPECT_TRUE(result.has_value()) << "done not called";
    return result.value_or(Status(ErrorCode::kInternal, "no answer"));
  }

  GroupAccess access;
  std::string answer = R"({"code":0,"message":"","requestId":"1","msgId":"5"})";
  uint32_t group = 0;
  HttpRequest request;
};

TEST_F(EnqueueInGroupTest, SendsTheBodyAsASendMessageTheReceiverDecodesExactly) {
  std::string body = "a&b=c%2F%zz+d e\n\xC3\xBC\xE4\xB8\xAD\xE6\x96\x87?#;";
  body.push_back('\0');
  body += "end";
  Status st = Enqueue(2, "target-queue", body);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(group, 2u);
  EXPECT_EQ(request.method, "POST");
  auto form = ParseForm(request.body);
  ASSERT_TRUE(form.has_value()) << request.body;
  ASSERT_EQ(form->size(), 3u) << request.body;  // nothing split off the body
  EXPECT_EQ(Get(*form, "Action"), "SendMessage");
  EXPECT_EQ(Get(*form, "queueName"), "target-queue");
  EXPECT_EQ(Get(*form, "msgBody"), body);
}

TEST_F(EnqueueInGroupTest, A6000IsWorthRetrying) {
  answer = R"({"code":6000,"message":"(10050)server internal error: no leader; retry"})";
  Status st = Enqueue(1, "q", "x");
  EXPECT_EQ(st.code(), ErrorCode::kUnavailable) << st.ToString();
  // So is an answer that is not one (the link broke mid-answer).
  answer = "garbage";
  EXPECT_EQ(Enqueue(1, "q", "x").code(), ErrorCode::kUnavailable);
}

TEST_F(EnqueueInGroupTest, TheQueuesRefusalIsFinal) {
  answer = R"({"code":4440,"message":"(10100)queue is not existed, or deleted"})";
  Status st = Enqueue(3, "gone", "x");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.code(), ErrorCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("(10100)"), std::string::npos) << st.ToString();
  answer = R"({"code":4430,"message":"(10230)message too large"})";
  Status large = Enqueue(3, "full", "x");
  EXPECT_FALSE(large.ok());
  EXPECT_NE(large.code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace cmq::api
