// Subscription actions through the Dispatcher, over a real state machine.

#include <gtest/gtest.h>

#include "topic_test_util.h"

namespace cmq::api {
namespace {

class SubscriptionActionsTest : public testing::TopicTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(CreateTopic("t")["code"], 0);
    ASSERT_EQ(CreateQueue("q")["code"], 0);
  }
  // Subscribe's answer message for one bad parameter set (protocol http unless given).
  std::string SubscribeError(FormParams extra) { return Message(Subscribe("t", "s", extra)); }
};

TEST_F(SubscriptionActionsTest, SubscribeAnswersASubscriptionIdString) {
  auto j = Subscribe("t", "s");
  ASSERT_EQ(j["code"], 0) << j;
  ASSERT_TRUE(j["subscriptionId"].is_string()) << j;
  EXPECT_FALSE(std::string(j["subscriptionId"]).empty());
  auto q = SubscribeQueue("t", "toqueue", "q");
  ASSERT_EQ(q["code"], 0) << q;
  EXPECT_NE(q["subscriptionId"], j["subscriptionId"]);
}

TEST_F(SubscriptionActionsTest, SubscribeTwiceIs4490) {
  ASSERT_EQ(Subscribe("t", "s")["code"], 0);
  auto j = Subscribe("t", "s");
  EXPECT_EQ(j["code"], 4490);
  EXPECT_EQ(j["message"], "(10470)subscribtion is already existed");
  EXPECT_EQ(Subscribe("t", "S")["code"], 4490);  // names compare case-insensitively
  // The same name under another topic is another subscription.
  ASSERT_EQ(CreateTopic("t2")["code"], 0);
  EXPECT_EQ(Subscribe("t2", "s")["code"], 0);
}

TEST_F(SubscriptionActionsTest, SubscribeToMissingTopicOrQueue) {
  auto topic = Subscribe("ghost", "s");
  EXPECT_EQ(topic["code"], 4440);
  EXPECT_EQ(topic["message"], "(10600)topic is not existed, or deleted");
  auto queue = SubscribeQueue("t", "s", "noqueue");
  EXPECT_EQ(queue["code"], 4440);
  EXPECT_EQ(queue["message"], "(10100)queue is not existed, or deleted");
}

TEST_F(SubscriptionActionsTest, SubscribeNameValidation) {
  EXPECT_EQ(Message(Call("Subscribe", {{"topicName", "t"}})),
            "(10390)lacked of required parameter subscriptionName");
  EXPECT_EQ(Message(Call("Subscribe", {{"subscriptionName", "s"}})),
            "(10390)lacked of required parameter topicName");
  auto bad = Subscribe("t", "9lives");
  EXPECT_EQ(bad["code"], 4000);
  EXPECT_EQ(bad["message"], "(10590)subscription name format error");
  EXPECT_EQ(Message(Subscribe("t", std::string(65, 's'))), "(10590)subscription name format error");
  EXPECT_EQ(Message(Subscribe("t t", "s")), "(10590)topic name format error");
}

TEST_F(SubscriptionActionsTest, SubscribeProtocolAndEndpointValidation) {
  EXPECT_EQ(Message(Call("Subscribe",
                         {{"topicName", "t"}, {"subscriptionName", "s"}, {"endpoint", "q"}})),
            "(10390)lacked of required parameter protocol");
  EXPECT_EQ(SubscribeError({{"protocol", "queue"}}),
            "(10390)lacked of required parameter endpoint");
  auto protocol = Subscribe("t", "s", {{"protocol", "smtp"}, {"endpoint", "a@b"}});
  EXPECT_EQ(protocol["code"], 4000);
  EXPECT_EQ(protocol["message"], "(10510)undefined protocol");
  auto scheme = Subscribe("t", "s", {{"protocol", "http"}, {"endpoint", "ftp://host/x"}});
  EXPECT_EQ(scheme["code"], 4000);
  EXPECT_EQ(scheme["message"], "(10500)endpoint format error");
  EXPECT_EQ(SubscribeError({{"protocol", "http"}, {"endpoint", "host:80/x"}}),
            "(10500)endpoint format error");
  EXPECT_EQ(SubscribeError({{"protocol", "http"}, {"endpoint", "http://"}}),
            "(10500)endpoint format error");
  EXPECT_EQ(SubscribeError({{"protocol", "http"}, {"endpoint", ""}}),
            "(10500)endpoint format error");
  EXPECT_EQ(
      SubscribeError({{"protocol", "http"}, {"endpoint", "http://h/" + std::string(492, 'p')}}),
      "(10500)endpoint format error");  // 501 bytes
  auto blank = Subscribe("t", "s", {{"protocol", "http"}, {"endpoint", "http://h/a b"}});
  EXPECT_EQ(blank["code"], 4510);
  EXPECT_EQ(blank["message"], "(10570)url cannot contain any blank characters");
  EXPECT_EQ(Subscribe("t", "s", {{"protocol", "http"}, {"endpoint", " http://h/"}})["code"], 4510);
  EXPECT_EQ(Subscribe("t", "s", {{"protocol", "http"}, {"endpoint", "http://h/\t"}})["code"], 4510);
  EXPECT_EQ(SubscribeError({{"protocol", "queue"}, {"endpoint", "not a queue"}}),
            "(10500)endpoint format error");
  EXPECT_EQ(h.service.submitted, 2);  // only the two setup commands reached the state machine
  // Accepted forms.
  EXPECT_EQ(Subscribe("t", "s1",
                      {{"protocol", "http"}, {"endpoint", "https://h.example:8443/p?x=1"}})["code"],
            0);
  EXPECT_EQ(
      Subscribe("t", "s2",
                {{"protocol", "http"}, {"endpoint", "http://h/" + std::string(491, 'p')}})["code"],
      0);  // 500 bytes
  EXPECT_EQ(SubscribeError({{"protocol", "http"}, {"endpoint", "HTTP://H/"}}),
            "(10500)endpoint format error");  // the scheme is lower-case
  EXPECT_EQ(Subscribe("t", "s3", {{"protocol", "HTTP"}, {"endpoint", "http://H/"}})["code"], 0);
  EXPECT_EQ(GetSubscription("t", "s3")["protocol"], "http");
}

TEST_F(SubscriptionActionsTest, SubscribeSettingsValidation) {
  auto strategy = Subscribe("t", "s", {{"notifyStrategy", "RETRY_FOREVER"}});
  EXPECT_EQ(strategy["code"], 4000);
  EXPECT_EQ(strategy["message"], "(10520)undefined notify retry stragety");
  auto format = Subscribe("t", "s", {{"notifyContentFormat", "XML"}});
  EXPECT_EQ(format["code"], 4000);
  EXPECT_EQ(format["message"], "(10530)undefined notify content format");
  // Tags: at most 5 (10490), each 1..16 bytes (10350), consecutive (10380).
  FormParams six_tags, six_keys;
  for (int i = 1; i <= 6; ++i) {
    six_tags.emplace_back("filterTag." + std::to_string(i), "tag");
    six_keys.emplace_back("bindingKey." + std::to_string(i), "key");
  }
  auto tags = Subscribe("t", "s", six_tags);
  EXPECT_EQ(tags["code"], 4000);
  EXPECT_EQ(tags["message"], "(10490)number of filterTag exceed limit");
  EXPECT_EQ(SubscribeError({{"filterTag.1", std::string(17, 'a')}}),
            "(10350)parameter filterTag value or length is out of range");
  EXPECT_EQ(SubscribeError({{"filterTag.1", "a"}, {"filterTag.3", "b"}}),
            "(10380)filterTag parameter is not consequent");
  // Binding keys: at most 5 (10680), each ≤ 64 bytes (10350) and ≤ 15 dots (10691).
  auto keys = Subscribe("t", "s", six_keys);
  EXPECT_EQ(keys["code"], 4000);
  EXPECT_EQ(keys["message"], "(10680)too many bindingKey");
  EXPECT_EQ(SubscribeError({{"bindingKey.1", std::string(65, 'k')}}),
            "(10350)parameter bindingKey value or length is out of range");
  EXPECT_EQ(SubscribeError({{"bindingKey.1", ""}}),
            "(10350)parameter bindingKey value or length is out of range");
  EXPECT_EQ(SubscribeError({{"filterTag.1", ""}}),
            "(10350)parameter filterTag value or length is out of range");
  auto dots = Subscribe("t", "s", {{"bindingKey.1", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q"}});
  EXPECT_EQ(dots["code"], 4000);
  EXPECT_EQ(dots["message"], "(10691)too many delimeters");
  EXPECT_EQ(h.service.submitted, 2);
  // The limits themselves pass.
  FormParams five = {{"notifyStrategy", "BACKOFF_RETRY"}, {"notifyContentFormat", "SIMPLIFIED"}};
  for (int i = 1; i <= 5; ++i) {
    five.emplace_back("filterTag." + std::to_string(i), std::string(16, 'a' + i));
    five.emplace_back("bindingKey." + std::to_string(i),
                      std::to_string(i) + ".b.c.d.e.f.g.h.i.j.k.l.m.n.o.p");  // 15 dots
  }
  auto ok = Subscribe("t", "s", five);
  EXPECT_EQ(ok["code"], 0) << ok;
}

TEST_F(SubscriptionActionsTest, GetSubscriptionAttributesHasEveryField) {
  ASSERT_EQ(Subscribe("t", "s",
                      {{"notifyStrategy", "BACKOFF_RETRY"},
                       {"notifyContentFormat", "SIMPLIFIED"},
                       {"filterTag.1", "red"},
                       {"filterTag.2", "blue"},
                       {"bindingKey.1", "a.*"}})["code"],
            0);
  auto j = GetSubscription("t", "s");
  ASSERT_EQ(j["code"], 0) << j;
  EXPECT_TRUE(j["topicOwner"].is_string()) << j;
  for (const char* field : {"msgCount", "createTime", "lastModifyTime"}) {
    EXPECT_TRUE(j[field].is_number_integer()) << field << " in " << j;
  }
  EXPECT_EQ(j["msgCount"], 0);
  EXPECT_EQ(j["createTime"], h.clock.NowMs() / 1000);
  EXPECT_EQ(j["protocol"], "http");
  EXPECT_EQ(j["protocal"], "http");  // Python's and C++'s spelling
  EXPECT_EQ(j["endpoint"], "http://127.0.0.1:9/push");
  EXPECT_EQ(j["notifyStrategy"], "BACKOFF_RETRY");
  EXPECT_EQ(j["notifyContentFormat"], "SIMPLIFIED");
  EXPECT_EQ(j["filterTag"], nlohmann::json({"red", "blue"}));
  EXPECT_EQ(j["filterTags"], nlohmann::json({"red", "blue"}));  // Python's spelling
  EXPECT_EQ(j["bindingKey"], nlohmann::json({"a.*"}));
}

TEST_F(SubscriptionActionsTest, GetSubscriptionAttributesDefaultsAndEmptyLists) {
  ASSERT_EQ(SubscribeQueue("t", "s", "q")["code"], 0);
  auto j = GetSubscription("t", "s");
  ASSERT_EQ(j["code"], 0) << j;
  EXPECT_EQ(j["protocol"], "queue");
  EXPECT_EQ(j["protocal"], "queue");
  EXPECT_EQ(j["endpoint"], "q");
  EXPECT_TRUE(j["notifyStrategy"] == "EXPONENTIAL_DECAY_RETRY" ||
              j["notifyStrategy"] == "BACKOFF_RETRY")
      << j;
  EXPECT_TRUE(j["notifyContentFormat"] == "JSON" || j["notifyContentFormat"] == "SIMPLIFIED") << j;
  // [] rather than null or absent: Java would crash on null.
  for (const char* field : {"filterTag", "filterTags", "bindingKey"}) {
    ASSERT_TRUE(j[field].is_array()) << field << " in " << j;
    EXPECT_TRUE(j[field].empty()) << field;
  }
}

TEST_F(SubscriptionActionsTest, MissingSubscriptionIs4440) {
  for (const char* action : {"GetSubscriptionAttributes", "SetSubscriptionAttributes",
                             "Unsubscribe", "ClearSubscriptionFilterTags"}) {
    auto j = Call(action, {{"topicName", "t"}, {"subscriptionName", "ghost"}});
    EXPECT_EQ(j["code"], 4440) << action;
    EXPECT_EQ(j["message"], "(10620)subscription is not existed") << action;
    auto topic = Call(action, {{"topicName", "nope"}, {"subscriptionName", "ghost"}});
    EXPECT_EQ(topic["code"], 4440) << action;
    EXPECT_EQ(topic["message"], "(10600)topic is not existed, or deleted") << action;
    EXPECT_EQ(Message(Call(action, {{"topicName", "t"}})),
              "(10390)lacked of required parameter subscriptionName")
        << action;
    EXPECT_EQ(Message(Call(action, {{"topicName", "t"}, {"subscriptionName", "a b"}})),
              "(10590)subscription name format error")
        << action;
  }
}

TEST_F(SubscriptionActionsTest, ListSubscriptionByTopic) {
  ASSERT_EQ(Subscribe("t", "web")["code"], 0);
  ASSERT_EQ(SubscribeQueue("t", "webqueue", "q")["code"], 0);
  ASSERT_EQ(Subscribe("t", "other")["code"], 0);
  auto all = Call("ListSubscriptionByTopic", {{"topicName", "t"}});
  ASSERT_EQ(all["code"], 0) << all;
  EXPECT_EQ(all["totalCount"], 3);
  ASSERT_TRUE(all["subscriptionList"].is_array());
  ASSERT_EQ(all["subscriptionList"].size(), 3u);
  for (const auto& s : all["subscriptionList"]) {
    for (const char* field : {"subscriptionId", "subscriptionName", "protocol", "endpoint"}) {
      EXPECT_TRUE(s[field].is_string()) << field << " in " << s;
    }
  }
  auto search =
      Call("ListSubscriptionByTopic", {{"topicName", "t"}, {"searchWord", "web"}, {"limit", "1"}});
  EXPECT_EQ(search["totalCount"], 2);
  EXPECT_EQ(search["subscriptionList"].size(), 1u);
  auto page = Call("ListSubscriptionByTopic", {{"topicName", "t"}, {"offset", "2"}});
  EXPECT_EQ(page["subscriptionList"].size(), 1u);
  EXPECT_EQ(Message(Call("ListSubscriptionByTopic", {{"topicName", "t"}, {"limit", "51"}})),
            "(10350)parameter limit value or length is out of range");
  EXPECT_EQ(Message(Call("ListSubscriptionByTopic", {{"topicName", "ghost"}})),
            "(10600)topic is not existed, or deleted");
  EXPECT_EQ(Message(Call("ListSubscriptionByTopic")),
            "(10390)lacked of required parameter topicName");
  ASSERT_EQ(CreateTopic("empty")["code"], 0);
  auto none = Call("ListSubscriptionByTopic", {{"topicName", "empty"}});
  EXPECT_EQ(none["totalCount"], 0);
  EXPECT_TRUE(none["subscriptionList"].is_array());
}

TEST_F(SubscriptionActionsTest, SetSubscriptionAttributesReplacesWhatIsGiven) {
  ASSERT_EQ(Subscribe("t", "s", {{"filterTag.1", "red"}, {"notifyContentFormat", "JSON"}})["code"],
            0);
  h.clock.Advance(3000);
  auto set = Call("SetSubscriptionAttributes", {{"topicName", "t"},
                                                {"subscriptionName", "s"},
                                                {"notifyStrategy", "BACKOFF_RETRY"},
                                                {"filterTag.1", "green"},
                                                {"filterTag.2", "blue"}});
  ASSERT_EQ(set["code"], 0) << set;
  auto j = GetSubscription("t", "s");
  EXPECT_EQ(j["notifyStrategy"], "BACKOFF_RETRY");
  EXPECT_EQ(j["notifyContentFormat"], "JSON");  // not given: kept
  EXPECT_EQ(j["filterTag"], nlohmann::json({"green", "blue"}));
  EXPECT_EQ(j["lastModifyTime"], h.clock.NowMs() / 1000);
  // Validation as on Subscribe.
  auto base = FormParams{{"topicName", "t"}, {"subscriptionName", "s"}};
  auto with = [&](FormParams extra) {
    FormParams form = base;
    form.insert(form.end(), extra.begin(), extra.end());
    return Message(Call("SetSubscriptionAttributes", form));
  };
  EXPECT_EQ(with({{"notifyStrategy", "x"}}), "(10520)undefined notify retry stragety");
  EXPECT_EQ(with({{"notifyContentFormat", "x"}}), "(10530)undefined notify content format");
  FormParams six;
  for (int i = 1; i <= 6; ++i) six.emplace_back("filterTag." + std::to_string(i), "x");
  EXPECT_EQ(with(six), "(10490)number of filterTag exceed limit");
  EXPECT_EQ(with({{"bindingKey.1", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q"}}),
            "(10691)too many delimeters");
}

TEST_F(SubscriptionActionsTest, ClearSubscriptionFilterTagsWithJavasSpelling) {
  ASSERT_EQ(Subscribe("t", "s", {{"filterTag.1", "red"}, {"filterTag.2", "blue"}})["code"], 0);
  // Java's Subscription.clearFilterTags sends this spelling.
  auto clear = Call("ClearSUbscriptionFIlterTags", {{"topicName", "t"}, {"subscriptionName", "s"}});
  ASSERT_EQ(clear["code"], 0) << clear;
  auto j = GetSubscription("t", "s");
  EXPECT_TRUE(j["filterTag"].is_array() && j["filterTag"].empty()) << j;
  EXPECT_TRUE(j["filterTags"].is_array() && j["filterTags"].empty()) << j;
  // Now untagged messages reach it.
  EXPECT_EQ(Publish("t", "x")["code"], 0);
  EXPECT_EQ(
      Call("ClearSubscriptionFilterTags", {{"topicName", "t"}, {"subscriptionName", "s"}})["code"],
      0);
}

TEST_F(SubscriptionActionsTest, UnsubscribeRemovesTheSubscription) {
  ASSERT_EQ(Subscribe("t", "s")["code"], 0);
  auto j = Call("Unsubscribe", {{"topicName", "t"}, {"subscriptionName", "s"}});
  ASSERT_EQ(j["code"], 0) << j;
  EXPECT_EQ(GetSubscription("t", "s")["message"], "(10620)subscription is not existed");
  EXPECT_EQ(Call("ListSubscriptionByTopic", {{"topicName", "t"}})["totalCount"], 0);
  EXPECT_EQ(Publish("t", "x")["code"], 6030);
  EXPECT_EQ(Subscribe("t", "s")["code"], 0);  // the name is free again
}

TEST_F(SubscriptionActionsTest, ActionsMatchCaseInsensitively) {
  ASSERT_EQ(Call("SUBSCRIBE", {{"topicName", "t"},
                               {"subscriptionName", "s"},
                               {"protocol", "queue"},
                               {"endpoint", "q"}})["code"],
            0);
  EXPECT_EQ(
      Call("getsubscriptionattributes", {{"topicName", "t"}, {"subscriptionName", "s"}})["code"],
      0);
  EXPECT_EQ(Call("listsubscriptionbytopic", {{"topicName", "t"}})["totalCount"], 1);
  EXPECT_EQ(
      Call("setSubscriptionAttributes", {{"topicName", "t"}, {"subscriptionName", "s"}})["code"],
      0);
  EXPECT_EQ(Call("UNSUBSCRIBE", {{"topicName", "t"}, {"subscriptionName", "s"}})["code"], 0);
}

}  // namespace
}  // namespace cmq::api
