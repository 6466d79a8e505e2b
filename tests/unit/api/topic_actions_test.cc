// Topic actions through the Dispatcher, over a real state machine.

#include <gtest/gtest.h>

#include "mq/limits.h"
#include "topic_test_util.h"

namespace cmq::api {
namespace {

class TopicActionsTest : public testing::TopicTest {};

TEST_F(TopicActionsTest, CreateTopicAnswersATopicIdString) {
  auto j = CreateTopic("news");
  ASSERT_EQ(j["code"], 0) << j;
  ASSERT_TRUE(j["topicId"].is_string()) << j;
  EXPECT_FALSE(std::string(j["topicId"]).empty());
}

TEST_F(TopicActionsTest, CreateTopicTwiceIs4460) {
  ASSERT_EQ(CreateTopic("news")["code"], 0);
  auto j = CreateTopic("news");
  EXPECT_EQ(j["code"], 4460);
  EXPECT_EQ(j["message"], "(10550)topic is already existed");
  EXPECT_EQ(CreateTopic("NEWS")["code"], 4460);  // names compare case-insensitively
}

TEST_F(TopicActionsTest, CreateTopicValidation) {
  auto missing = Call("CreateTopic");
  EXPECT_EQ(missing["code"], 4000);
  EXPECT_EQ(missing["message"], "(10390)lacked of required parameter topicName");
  for (const char* bad : {"1topic", "", "a b", "topic!", "x.y"}) {
    auto j = CreateTopic(bad);
    EXPECT_EQ(j["code"], 4000) << bad;
    EXPECT_EQ(j["message"], "(10590)topic name format error") << bad;
  }
  EXPECT_EQ(Message(CreateTopic(std::string(65, 'a'))), "(10590)topic name format error");
  EXPECT_EQ(Message(CreateTopic("t", {{"maxMsgSize", "1023"}})),
            "(10350)parameter maxMsgSize value or length is out of range");
  EXPECT_EQ(CreateTopic("t", {{"maxMsgSize", "1048577"}})["code"], 4000);
  EXPECT_EQ(Message(CreateTopic("t", {{"maxMsgSize", "64k"}})),
            "(10360)parameter maxMsgSize error type");
  EXPECT_EQ(Message(CreateTopic("t", {{"filterType", "3"}})),
            "(10350)parameter filterType value or length is out of range");
  EXPECT_EQ(CreateTopic("t", {{"filterType", "0"}})["code"], 4000);
  EXPECT_EQ(h.service.submitted, 0);  // nothing reached the state machine
  // What the SDKs send: Python filterType 1 + maxMsgSize 65536; Java up to 1 MiB.
  EXPECT_EQ(CreateTopic("py", {{"filterType", "1"}, {"maxMsgSize", "65536"}})["code"], 0);
  EXPECT_EQ(CreateTopic("java", {{"maxMsgSize", "1048576"}})["code"], 0);
  EXPECT_EQ(CreateTopic("routed", {{"filterType", "2"}, {"maxMsgSize", "1024"}})["code"], 0);
  EXPECT_EQ(CreateTopic("with_underscore-and-dash9")["code"], 0);
}

TEST_F(TopicActionsTest, GetTopicAttributesHasAllFieldsAsNumbers) {
  ASSERT_EQ(CreateTopic("attrs", {{"filterType", "2"}})["code"], 0);
  auto j = Call("GetTopicAttributes", {{"topicName", "attrs"}});
  ASSERT_EQ(j["code"], 0) << j;
  for (const char* field : {"msgCount", "maxMsgSize", "msgRetentionSeconds", "createTime",
                            "lastModifyTime", "filterType", "LoggingEnabled"}) {
    EXPECT_TRUE(j[field].is_number_integer()) << field << " in " << j;
  }
  EXPECT_EQ(j["msgCount"], 0);
  EXPECT_EQ(j["maxMsgSize"], mq::kTopicMaxMsgSizeDefault);
  EXPECT_EQ(j["msgRetentionSeconds"], mq::kTopicMsgRetentionSeconds);
  EXPECT_EQ(j["filterType"], 2);
  EXPECT_EQ(j["createTime"], h.clock.NowMs() / 1000);  // seconds, not milliseconds
  EXPECT_EQ(j["lastModifyTime"], h.clock.NowMs() / 1000);
  EXPECT_EQ(j["LoggingEnabled"], 0);
  EXPECT_EQ(j["topicName"], "attrs");
  EXPECT_TRUE(j["topicId"].is_string());
  EXPECT_EQ(Call("GetTopicAttributes", {{"topicName", "ATTRS"}})["code"], 0);
}

TEST_F(TopicActionsTest, MissingTopicIs4440) {
  for (const char* action : {"GetTopicAttributes", "DeleteTopic", "SetTopicAttributes"}) {
    auto j = Call(action, {{"topicName", "ghost"}});
    EXPECT_EQ(j["code"], 4440) << action;
    EXPECT_EQ(j["message"], "(10600)topic is not existed, or deleted") << action;
  }
  EXPECT_EQ(Message(Publish("ghost", "x")), "(10600)topic is not existed, or deleted");
  EXPECT_EQ(Message(Publish("ghost", "x", {{"routingKey", ""}})),
            "(10600)topic is not existed, or deleted");
  EXPECT_EQ(Message(Call("BatchPublishMessage", {{"topicName", "ghost"}, {"msgBody.1", "x"}})),
            "(10600)topic is not existed, or deleted");
  EXPECT_EQ(Message(Call("GetTopicAttributes")), "(10390)lacked of required parameter topicName");
  EXPECT_EQ(Message(Call("GetTopicAttributes", {{"topicName", "-x"}})),
            "(10590)topic name format error");
}

TEST_F(TopicActionsTest, SetTopicAttributesChangesMaxMsgSize) {
  ASSERT_EQ(CreateTopic("t")["code"], 0);
  h.clock.Advance(5000);
  auto set = Call("SetTopicAttributes", {{"topicName", "t"}, {"maxMsgSize", "2048"}});
  EXPECT_EQ(set["code"], 0) << set;
  auto j = Call("GetTopicAttributes", {{"topicName", "t"}});
  EXPECT_EQ(j["maxMsgSize"], 2048);
  EXPECT_EQ(j["lastModifyTime"], h.clock.NowMs() / 1000);
  EXPECT_EQ(j["filterType"], 1);
  EXPECT_EQ(Message(Call("SetTopicAttributes", {{"topicName", "t"}, {"maxMsgSize", "100"}})),
            "(10350)parameter maxMsgSize value or length is out of range");
  // A body over the topic's maxMsgSize is refused by the state machine with the queue error.
  ASSERT_EQ(Subscribe("t", "s")["code"], 0);
  auto big = Publish("t", std::string(2049, 'x'));
  EXPECT_EQ(big["code"], 4400);
  EXPECT_EQ(big["message"], "(10230)exceed maximum message size");
}

TEST_F(TopicActionsTest, ListTopicWithSearchWordOffsetLimit) {
  for (const char* name : {"alpha", "beta", "alphabet", "gamma"}) {
    ASSERT_EQ(CreateTopic(name)["code"], 0);
  }
  auto all = Call("ListTopic");
  ASSERT_EQ(all["code"], 0) << all;
  EXPECT_EQ(all["totalCount"], 4);
  ASSERT_TRUE(all["topicList"].is_array());
  EXPECT_EQ(all["topicList"].size(), 4u);
  for (const auto& t : all["topicList"]) {
    EXPECT_TRUE(t["topicId"].is_string()) << t;
    EXPECT_TRUE(t["topicName"].is_string()) << t;
  }
  auto search = Call("ListTopic", {{"searchWord", "alpha"}, {"limit", "1"}});
  EXPECT_EQ(search["totalCount"], 2);
  EXPECT_EQ(search["topicList"].size(), 1u);
  auto page = Call("ListTopic", {{"offset", "3"}});
  EXPECT_EQ(page["totalCount"], 4);
  EXPECT_EQ(page["topicList"].size(), 1u);
  EXPECT_EQ(Message(Call("ListTopic", {{"limit", "51"}})),
            "(10350)parameter limit value or length is out of range");
  EXPECT_EQ(Call("ListTopic", {{"limit", "0"}})["code"], 4000);
  EXPECT_EQ(Call("ListTopic", {{"offset", "-1"}})["code"], 4000);
  auto empty = Call("ListTopic", {{"searchWord", "zzz"}});
  EXPECT_EQ(empty["totalCount"], 0);
  EXPECT_TRUE(empty["topicList"].is_array());
  // Queues and topics are separate namespaces.
  ASSERT_EQ(CreateQueue("alpha")["code"], 0);
  EXPECT_EQ(Call("ListTopic")["totalCount"], 4);
}

TEST_F(TopicActionsTest, DeleteTopicRefusedWhileSubscriptionsExist) {
  ASSERT_EQ(CreateTopic("t")["code"], 0);
  ASSERT_EQ(Subscribe("t", "s1")["code"], 0);
  auto refused = Call("DeleteTopic", {{"topicName", "t"}});
  EXPECT_EQ(refused["code"], 4000);
  EXPECT_EQ(refused["message"],
            "(10540)there exists subscriptions under this topic, please unsubscribe all of them "
            "before DeleteTopic");
  ASSERT_EQ(Call("Unsubscribe", {{"topicName", "t"}, {"subscriptionName", "s1"}})["code"], 0);
  auto deleted = Call("DeleteTopic", {{"topicName", "t"}});
  EXPECT_EQ(deleted["code"], 0) << deleted;
  EXPECT_EQ(Call("GetTopicAttributes", {{"topicName", "t"}})["code"], 4440);
  EXPECT_EQ(CreateTopic("t")["code"], 0);  // the name is free again
}

TEST_F(TopicActionsTest, PublishWithoutSubscriptionIs6030) {
  ASSERT_EQ(CreateTopic("t")["code"], 0);
  auto j = Publish("t", "hello");
  EXPECT_EQ(j["code"], 6030);
  EXPECT_EQ(j["message"],
            "(10650)topic has no subscription, please create a subscription before publishing "
            "message");
}

TEST_F(TopicActionsTest, PublishAnswersADecimalStringMsgId) {
  ASSERT_EQ(CreateTopic("t")["code"], 0);
  ASSERT_EQ(Subscribe("t", "s")["code"], 0);
  auto j = Publish("t", "hello");
  ASSERT_EQ(j["code"], 0) << j;
  EXPECT_TRUE(IsDecimal(j["msgId"])) << j;
  // Python sends routingKey "" also to filterType 1 topics.
  auto py = Publish("t", "hello", {{"routingKey", ""}});
  ASSERT_EQ(py["code"], 0) << py;
  EXPECT_NE(py["msgId"], j["msgId"]);
  // A routingKey on a tag topic is accepted (and ignored).
  EXPECT_EQ(Publish("t", "x", {{"routingKey", "a.b"}})["code"], 0);
}

TEST_F(TopicActionsTest, BatchPublishAnswersOneMsgIdPerBody) {
  ASSERT_EQ(CreateTopic("t")["code"], 0);
  ASSERT_EQ(Subscribe("t", "s")["code"], 0);
  auto j = Call("BatchPublishMessage", {{"topicName", "t"},
                                        {"msgBody.1", "a"},
                                        {"msgBody.2", "b"},
                                        {"msgBody.3", "c"},
                                        {"msgTag.1", "x"},
                                        {"routingKey", ""}});
  ASSERT_EQ(j["code"], 0) << j;
  ASSERT_TRUE(j["msgList"].is_array());
  ASSERT_EQ(j["msgList"].size(), 3u);
  for (const auto& m : j["msgList"]) EXPECT_TRUE(IsDecimal(m["msgId"])) << m;
  EXPECT_NE(j["msgList"][0]["msgId"], j["msgList"][1]["msgId"]);
}

TEST_F(TopicActionsTest, PublishValidation) {
  ASSERT_EQ(CreateTopic("t")["code"], 0);
  ASSERT_EQ(Subscribe("t", "s")["code"], 0);
  int submitted = h.service.submitted;
  EXPECT_EQ(Message(Call("PublishMessage", {{"topicName", "t"}})),
            "(10390)lacked of required parameter msgBody");
  EXPECT_EQ(Message(Call("PublishMessage", {{"msgBody", "x"}})),
            "(10390)lacked of required parameter topicName");
  EXPECT_EQ(Message(Publish("t", "")), "(10120)message body can't be empty");
  auto huge = Publish("t", std::string(mq::kTopicMaxMsgSizeMax + 1, 'x'));
  EXPECT_EQ(huge["code"], 4400);
  // Tags: at most 5 (10720), each 1..16 bytes (10350); indices consecutive (10380).
  FormParams six;
  for (int i = 1; i <= 6; ++i) six.emplace_back("msgTag." + std::to_string(i), "t");
  auto many = Publish("t", "x", six);
  EXPECT_EQ(many["code"], 4000);
  EXPECT_EQ(many["message"], "(10720)too many msgTag");
  EXPECT_EQ(Message(Publish("t", "x", {{"msgTag.1", std::string(17, 'a')}})),
            "(10350)parameter msgTag value or length is out of range");
  // Characters, not bytes (spec §10.5): 17 three-byte characters do not pass (16 do,
  // below).
  std::string han16;
  for (int i = 0; i < 16; ++i) han16 += "\xe6\xa0\x87";  // U+6807
  EXPECT_EQ(Message(Publish("t", "x", {{"msgTag.1", han16 + "\xe6\xa0\x87"}})),
            "(10350)parameter msgTag value or length is out of range");
  EXPECT_EQ(Message(Publish("t", "x", {{"msgTag.1", ""}})),
            "(10350)parameter msgTag value or length is out of range");
  EXPECT_EQ(Message(Publish("t", "x", {{"msgTag.1", "a"}, {"msgTag.3", "b"}})),
            "(10380)msgTag parameter is not consequent");
  // Routing keys: at most 64 bytes (10350) and 15 dots (10691).
  EXPECT_EQ(Message(Publish("t", "x", {{"routingKey", std::string(65, 'k')}})),
            "(10350)parameter routingKey value or length is out of range");
  std::string dots16 = "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a";  // 17 words
  auto delimiters = Publish("t", "x", {{"routingKey", dots16}});
  EXPECT_EQ(delimiters["code"], 4000);
  EXPECT_EQ(delimiters["message"], "(10691)too many delimeters");
  EXPECT_EQ(h.service.submitted, submitted);  // none of these reached the state machine
  // The limits themselves pass.
  EXPECT_EQ(Publish("t", "x", {{"msgTag.1", han16}})["code"], 0);
  FormParams five;
  for (int i = 1; i <= 5; ++i)
    five.emplace_back("msgTag." + std::to_string(i), "tag" + std::to_string(i));
  EXPECT_EQ(Publish("t", "x", five)["code"], 0);
  EXPECT_EQ(Publish("t", "x", {{"msgTag.0", std::string(16, 'a')}})["code"], 0);
  EXPECT_EQ(Publish("t", "x", {{"routingKey", dots16.substr(2)}})["code"], 0);  // 15 dots
}

TEST_F(TopicActionsTest, BatchPublishValidation) {
  ASSERT_EQ(CreateTopic("t")["code"], 0);
  ASSERT_EQ(Subscribe("t", "s")["code"], 0);
  FormParams seventeen = {{"topicName", "t"}};
  for (int i = 1; i <= 17; ++i) seventeen.emplace_back("msgBody." + std::to_string(i), "x");
  auto many = Call("BatchPublishMessage", seventeen);
  EXPECT_EQ(many["code"], 4000);
  EXPECT_EQ(many["message"], "(10370)msgBody parameter batch size is out of range");
  EXPECT_EQ(Message(Call("BatchPublishMessage",
                         {{"topicName", "t"}, {"msgBody.1", "a"}, {"msgBody.3", "c"}})),
            "(10380)msgBody parameter is not consequent");
  EXPECT_EQ(Message(Call("BatchPublishMessage", {{"topicName", "t"}})),
            "(10390)lacked of required parameter msgBody");
  EXPECT_EQ(Message(Call("BatchPublishMessage", {{"topicName", "t"}, {"msgBody.1", ""}})),
            "(10120)message body can't be empty");
  // Go's TDMQ client counts from 0.
  auto zero =
      Call("BatchPublishMessage", {{"topicName", "t"}, {"msgBody.0", "a"}, {"msgBody.1", "b"}});
  EXPECT_EQ(zero["code"], 0) << zero;
  EXPECT_EQ(zero["msgList"].size(), 2u);
}

TEST_F(TopicActionsTest, RoutingTopicNeedsTheRoutingKeyParameter) {
  ASSERT_EQ(CreateTopic("r", {{"filterType", "2"}})["code"], 0);
  ASSERT_EQ(Subscribe("r", "all", {{"bindingKey.1", "#"}})["code"], 0);
  auto missing = Publish("r", "x");
  EXPECT_EQ(missing["code"], 4000);
  EXPECT_EQ(missing["message"], "(10700)parameters lack of routingKey");
  auto batch = Call("BatchPublishMessage", {{"topicName", "r"}, {"msgBody.1", "x"}});
  EXPECT_EQ(batch["message"], "(10700)parameters lack of routingKey");
  // An empty routingKey is a key of zero words, matched by '#' (spec §16).
  auto empty = Publish("r", "x", {{"routingKey", ""}});
  EXPECT_EQ(empty["code"], 0) << empty;
  EXPECT_EQ(Publish("r", "x", {{"routingKey", "a.b.c"}})["code"], 0);
}

TEST_F(TopicActionsTest, PublishMatchingNoSubscriptionIs6030) {
  ASSERT_EQ(CreateTopic("t")["code"], 0);
  ASSERT_EQ(Subscribe("t", "s", {{"filterTag.1", "red"}})["code"], 0);
  auto j = Publish("t", "x", {{"msgTag.1", "blue"}});
  EXPECT_EQ(j["code"], 6030);
  EXPECT_EQ(j["message"], "(10730)no bindingKey or filterTag matches the routingKey or msgTag");
  EXPECT_EQ(Publish("t", "x")["code"], 6030);  // untagged reaches only tag-less subscriptions
  EXPECT_EQ(Publish("t", "x", {{"msgTag.1", "blue"}, {"msgTag.2", "red"}})["code"], 0);

  ASSERT_EQ(CreateTopic("r", {{"filterType", "2"}})["code"], 0);
  ASSERT_EQ(Subscribe("r", "s", {{"bindingKey.1", "1.*.0"}})["code"], 0);
  EXPECT_EQ(Publish("r", "x", {{"routingKey", "1.x.y.0"}})["code"], 6030);
  EXPECT_EQ(Publish("r", "x", {{"routingKey", "1.x.0"}})["code"], 0);
}

TEST_F(TopicActionsTest, PublishReachesAQueueSubscription) {
  ASSERT_EQ(CreateQueue("inbox")["code"], 0);
  ASSERT_EQ(CreateTopic("t")["code"], 0);
  // What the Python SDK sends: JSON format and the default strategy, also for queues.
  ASSERT_EQ(SubscribeQueue("t", "s", "inbox",
                           {{"notifyStrategy", "EXPONENTIAL_DECAY_RETRY"},
                            {"notifyContentFormat", "JSON"}})["code"],
            0);
  auto published = Publish("t", "hello \"topic\"", {{"routingKey", ""}});
  ASSERT_EQ(published["code"], 0) << published;
  auto received = Call("ReceiveMessage", {{"queueName", "inbox"}});
  ASSERT_EQ(received["code"], 0) << received;
  EXPECT_EQ(received["msgBody"], "hello \"topic\"");  // the raw body, not a JSON envelope
  EXPECT_TRUE(IsDecimal(received["msgId"]));
  EXPECT_EQ(Call("ReceiveMessage", {{"queueName", "inbox"}})["code"], 7000);
}

TEST_F(TopicActionsTest, PublishWithoutRoutingKeyReadsTheTopicFirst) {
  ASSERT_EQ(CreateQueue("inbox")["code"], 0);
  ASSERT_EQ(CreateTopic("t")["code"], 0);
  ASSERT_EQ(SubscribeQueue("t", "s", "inbox")["code"], 0);
  int reads = h.service.reads;
  ASSERT_EQ(Publish("t", "with key", {{"routingKey", ""}})["code"], 0);
  EXPECT_EQ(h.service.reads, reads);  // straight to the log
  // Java and C++ omit routingKey: the topic's filterType is read, then the publish (with
  // bodies and tags that outlived the request) is submitted.
  auto j = Call(
      "BatchPublishMessage",
      {{"topicName", "t"}, {"msgBody.1", "first"}, {"msgBody.2", "second"}, {"msgTag.1", "tag"}});
  ASSERT_EQ(j["code"], 0) << j;
  EXPECT_EQ(h.service.reads, reads + 1);
  EXPECT_EQ(h.service.last_command().msg_tags, std::vector<std::string>{"tag"});
  auto got = Call("BatchReceiveMessage", {{"queueName", "inbox"}, {"numOfMsg", "16"}});
  ASSERT_EQ(got["code"], 0) << got;
  ASSERT_EQ(got["msgInfoList"].size(), 3u);
  EXPECT_EQ(got["msgInfoList"][0]["msgBody"], "with key");
  EXPECT_EQ(got["msgInfoList"][1]["msgBody"], "first");
  EXPECT_EQ(got["msgInfoList"][2]["msgBody"], "second");
}

TEST_F(TopicActionsTest, BatchPublishAndRoutingReachQueueSubscriptions) {
  ASSERT_EQ(CreateQueue("orders")["code"], 0);
  ASSERT_EQ(CreateQueue("other")["code"], 0);
  ASSERT_EQ(CreateTopic("r", {{"filterType", "2"}})["code"], 0);
  ASSERT_EQ(SubscribeQueue("r", "s1", "orders", {{"bindingKey.1", "order.#"}})["code"], 0);
  ASSERT_EQ(SubscribeQueue("r", "s2", "other", {{"bindingKey.1", "other.*"}})["code"], 0);
  auto j = Call("BatchPublishMessage", {{"topicName", "r"},
                                        {"msgBody.1", "one"},
                                        {"msgBody.2", "two"},
                                        {"routingKey", "order.eu.new"}});
  ASSERT_EQ(j["code"], 0) << j;
  auto got = Call("BatchReceiveMessage", {{"queueName", "orders"}, {"numOfMsg", "16"}});
  ASSERT_EQ(got["code"], 0) << got;
  ASSERT_EQ(got["msgInfoList"].size(), 2u);
  EXPECT_EQ(got["msgInfoList"][0]["msgBody"], "one");
  EXPECT_EQ(got["msgInfoList"][1]["msgBody"], "two");
  EXPECT_EQ(Call("ReceiveMessage", {{"queueName", "other"}})["code"], 7000);
}

TEST_F(TopicActionsTest, ActionsMatchCaseInsensitively) {
  EXPECT_EQ(Call("createtopic", {{"topicName", "t"}})["code"], 0);
  EXPECT_EQ(Call("GETTOPICATTRIBUTES", {{"topicName", "t"}})["code"], 0);
  EXPECT_EQ(Call("listTopic")["totalCount"], 1);
  EXPECT_EQ(Call("subscribe", {{"topicName", "t"},
                               {"subscriptionName", "s"},
                               {"protocol", "http"},
                               {"endpoint", "http://h/p"}})["code"],
            0);
  auto published = Call("publishmessage", {{"topicName", "t"}, {"msgBody", "x"}});
  EXPECT_EQ(published["code"], 0) << published;
}

}  // namespace
}  // namespace cmq::api
