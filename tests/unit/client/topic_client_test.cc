// The topic and subscription actions of the sync client (spec §11, §12) against the fake
// server, and the parsing of their responses.
#include <gtest/gtest.h>

#include "client/client.h"
#include "client/topic_responses.h"
#include "unit/client/fake_server.h"

namespace cmq::client {
namespace {

using testing::FakeRequest;
using testing::FakeResponse;
using testing::FakeServer;

constexpr char kOk[] = R"({"code":0,"message":"","requestId":"11"})";

ClientOptions OptionsFor(const FakeServer& server) {
  ClientOptions o;
  o.endpoint = server.endpoint();
  o.request_timeout = std::chrono::milliseconds(5000);
  return o;
}

FakeResponse Json(std::string body) {
  FakeResponse r;
  r.body = std::move(body);
  return r;
}

constexpr char kTopicMeta[] = R"({"code":0,"message":"","requestId":"1","topicId":"topic-7",
  "topicName":"t","msgCount":3,"maxMsgSize":65536,"msgRetentionSeconds":86400,"createTime":10,
  "lastModifyTime":11,"filterType":2,"LoggingEnabled":0})";

constexpr char kSubscriptionMeta[] = R"({"code":0,"message":"","requestId":"1",
  "subscriptionId":"subscription-1","subscriptionName":"s","topicOwner":"0","msgCount":4,
  "protocol":"http","protocal":"http","endpoint":"http://127.0.0.1:9/x",
  "notifyStrategy":"BACKOFF_RETRY","notifyContentFormat":"SIMPLIFIED","createTime":20,
  "lastModifyTime":21,"filterTag":["a","b"],"filterTags":["a","b"],"bindingKey":[]})";

TEST(TopicClientTest, TopicActionsSendTheirParams) {
  FakeServer server([](const FakeRequest& r) {
    std::string a = r.Param("Action");
    if (a == "CreateTopic")
      return Json(R"({"code":0,"message":"","requestId":"1","topicId":"topic-x"})");
    if (a == "ListTopic") {
      return Json(R"({"code":0,"message":"","requestId":"1","totalCount":7,
        "topicList":[{"topicId":"topic-a","topicName":"t1"},{"topicId":"topic-b","topicName":"t2"}]})");
    }
    if (a == "GetTopicAttributes") return Json(kTopicMeta);
    return Json(kOk);
  });
  Client client(OptionsFor(server));
  TopicAttributes attrs;
  attrs.max_msg_size = 4096;
  attrs.filter_type = kFilterTypeRouting;
  auto id = client.CreateTopic("t", attrs);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_EQ(*id, "topic-x");
  auto list = client.ListTopic("t", 0, 2);
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  EXPECT_EQ(list->total_count, 7);
  ASSERT_EQ(list->topics.size(), 2u);
  EXPECT_EQ(list->topics[1].topic_id, "topic-b");
  EXPECT_EQ(list->topics[1].topic_name, "t2");
  auto meta = client.GetTopicAttributes("t");
  ASSERT_TRUE(meta.ok()) << meta.error().ToString();
  EXPECT_EQ(meta->topic_id, "topic-7");
  EXPECT_EQ(meta->topic_name, "t");
  EXPECT_EQ(meta->msg_count, 3);
  EXPECT_EQ(meta->max_msg_size, 65536);
  EXPECT_EQ(meta->msg_retention_seconds, 86400);
  EXPECT_EQ(meta->create_time, 10);
  EXPECT_EQ(meta->last_modify_time, 11);
  EXPECT_EQ(meta->filter_type, 2);
  TopicAttributes set;
  set.max_msg_size = 1024;
  ASSERT_TRUE(client.SetTopicAttributes("t", set).ok());
  ASSERT_TRUE(client.DeleteTopic("t").ok());
  ASSERT_TRUE(client.ListTopic().ok());

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 6u);
  EXPECT_EQ(reqs[0].Param("Action"), "CreateTopic");
  EXPECT_EQ(reqs[0].Param("topicName"), "t");
  EXPECT_EQ(reqs[0].Param("maxMsgSize"), "4096");
  EXPECT_EQ(reqs[0].Param("filterType"), "2");
  EXPECT_EQ(reqs[1].Param("searchWord"), "t");
  EXPECT_EQ(reqs[1].Param("offset"), "0");
  EXPECT_EQ(reqs[1].Param("limit"), "2");
  EXPECT_EQ(reqs[2].Param("topicName"), "t");
  EXPECT_EQ(reqs[3].Param("Action"), "SetTopicAttributes");
  EXPECT_EQ(reqs[3].Param("maxMsgSize"), "1024");
  EXPECT_EQ(reqs[3].Param("filterType"), "<absent>");
  EXPECT_EQ(reqs[4].Param("Action"), "DeleteTopic");
  EXPECT_EQ(reqs[4].Param("topicName"), "t");
  EXPECT_EQ(reqs[5].Param("searchWord"), "<absent>");
  EXPECT_EQ(reqs[5].Param("offset"), "<absent>");
  EXPECT_EQ(reqs[5].Param("limit"), "<absent>");
}

TEST(TopicClientTest, PublishSendsTagsAndRoutingKey) {
  FakeServer server([](const FakeRequest& r) {
    if (r.Param("Action") == "BatchPublishMessage") {
      return Json(R"({"code":0,"message":"","requestId":"1",
        "msgList":[{"msgId":"8"},{"msgId":"9"},{"msgId":"10"}]})");
    }
    return Json(R"({"code":0,"message":"","requestId":"1","msgId":"18446744073709551614"})");
  });
  Client client(OptionsFor(server));
  std::vector<std::string> tags = {"red", "big"};
  auto id = client.PublishMessage("t", "hello & bye", tags, "a.b.c");
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_EQ(*id, 18446744073709551614ull);
  ASSERT_TRUE(client.PublishMessage("t", "plain").ok());
  ASSERT_TRUE(client.PublishMessage("t", "empty key", {}, "").ok());
  std::vector<std::string> bodies = {"x", "y", "z"};
  auto ids = client.BatchPublishMessage("t", bodies, tags, "k");
  ASSERT_TRUE(ids.ok()) << ids.error().ToString();
  EXPECT_EQ(*ids, (std::vector<uint64_t>{8, 9, 10}));

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].Param("Action"), "PublishMessage");
  EXPECT_EQ(reqs[0].Param("topicName"), "t");
  EXPECT_EQ(reqs[0].Param("msgBody"), "hello & bye");
  EXPECT_EQ(reqs[0].Param("msgTag.1"), "red");
  EXPECT_EQ(reqs[0].Param("msgTag.2"), "big");
  EXPECT_EQ(reqs[0].Param("msgTag.3"), "<absent>");
  EXPECT_EQ(reqs[0].Param("routingKey"), "a.b.c");
  EXPECT_EQ(reqs[0].Param("delaySeconds"), "<absent>");
  EXPECT_EQ(reqs[1].Param("msgTag.1"), "<absent>");
  EXPECT_EQ(reqs[1].Param("routingKey"), "<absent>");
  EXPECT_EQ(reqs[2].Param("routingKey"), "");
  EXPECT_EQ(reqs[3].Param("Action"), "BatchPublishMessage");
  EXPECT_EQ(reqs[3].Param("msgBody.1"), "x");
  EXPECT_EQ(reqs[3].Param("msgBody.3"), "z");
  EXPECT_EQ(reqs[3].Param("msgBody"), "<absent>");
  EXPECT_EQ(reqs[3].Param("msgTag.2"), "big");
  EXPECT_EQ(reqs[3].Param("routingKey"), "k");
}

TEST(TopicClientTest, SubscriptionActionsSendTheirParams) {
  FakeServer server([](const FakeRequest& r) {
    std::string a = r.Param("Action");
    if (a == "Subscribe") {
      return Json(R"({"code":0,"message":"","requestId":"1","subscriptionId":"subscription-9"})");
    }
    if (a == "ListSubscriptionByTopic") {
      return Json(R"({"code":0,"message":"","requestId":"1","totalCount":2,"subscriptionList":[
        {"subscriptionId":"subscription-1","subscriptionName":"s1","protocol":"queue","endpoint":"q1"},
        {"subscriptionId":"subscription-2","subscriptionName":"s2","protocol":"http",
         "endpoint":"http://h/p"}]})");
    }
    if (a == "GetSubscriptionAttributes") return Json(kSubscriptionMeta);
    return Json(kOk);
  });
  Client client(OptionsFor(server));
  SubscriptionOptions opts;
  opts.notify_strategy = "BACKOFF_RETRY";
  opts.notify_content_format = "SIMPLIFIED";
  opts.filter_tags = {"a", "b"};
  opts.binding_keys = {"x.*", "#"};
  auto id = client.Subscribe("t", "s", "http", "http://127.0.0.1:9/x", opts);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_EQ(*id, "subscription-9");
  ASSERT_TRUE(client.Subscribe("t", "s2", "queue", "q1").ok());
  auto list = client.ListSubscriptionByTopic("t", "s", 1, 10);
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  EXPECT_EQ(list->total_count, 2);
  ASSERT_EQ(list->subscriptions.size(), 2u);
  EXPECT_EQ(list->subscriptions[0].protocol, "queue");
  EXPECT_EQ(list->subscriptions[0].endpoint, "q1");
  EXPECT_EQ(list->subscriptions[1].subscription_id, "subscription-2");
  EXPECT_EQ(list->subscriptions[1].subscription_name, "s2");
  EXPECT_EQ(list->subscriptions[1].endpoint, "http://h/p");
  auto meta = client.GetSubscriptionAttributes("t", "s");
  ASSERT_TRUE(meta.ok()) << meta.error().ToString();
  EXPECT_EQ(meta->subscription_id, "subscription-1");
  EXPECT_EQ(meta->subscription_name, "s");
  EXPECT_EQ(meta->topic_owner, "0");
  EXPECT_EQ(meta->msg_count, 4);
  EXPECT_EQ(meta->protocol, "http");
  EXPECT_EQ(meta->endpoint, "http://127.0.0.1:9/x");
  EXPECT_EQ(meta->notify_strategy, "BACKOFF_RETRY");
  EXPECT_EQ(meta->notify_content_format, "SIMPLIFIED");
  EXPECT_EQ(meta->create_time, 20);
  EXPECT_EQ(meta->last_modify_time, 21);
  EXPECT_EQ(meta->filter_tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(meta->binding_keys.empty());
  SubscriptionOptions set;
  set.notify_strategy = "EXPONENTIAL_DECAY_RETRY";
  set.filter_tags = {"c"};
  ASSERT_TRUE(client.SetSubscriptionAttributes("t", "s", set).ok());
  ASSERT_TRUE(client.ClearSubscriptionFilterTags("t", "s").ok());
  ASSERT_TRUE(client.Unsubscribe("t", "s").ok());

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 7u);
  EXPECT_EQ(reqs[0].Param("Action"), "Subscribe");
  EXPECT_EQ(reqs[0].Param("topicName"), "t");
  EXPECT_EQ(reqs[0].Param("subscriptionName"), "s");
  EXPECT_EQ(reqs[0].Param("protocol"), "http");
  EXPECT_EQ(reqs[0].Param("endpoint"), "http://127.0.0.1:9/x");
  EXPECT_EQ(reqs[0].Param("notifyStrategy"), "BACKOFF_RETRY");
  EXPECT_EQ(reqs[0].Param("notifyContentFormat"), "SIMPLIFIED");
  EXPECT_EQ(reqs[0].Param("filterTag.1"), "a");
  EXPECT_EQ(reqs[0].Param("filterTag.2"), "b");
  EXPECT_EQ(reqs[0].Param("bindingKey.1"), "x.*");
  EXPECT_EQ(reqs[0].Param("bindingKey.2"), "#");
  EXPECT_EQ(reqs[1].Param("protocol"), "queue");
  EXPECT_EQ(reqs[1].Param("endpoint"), "q1");
  EXPECT_EQ(reqs[1].Param("notifyStrategy"), "<absent>");
  EXPECT_EQ(reqs[1].Param("notifyContentFormat"), "<absent>");
  EXPECT_EQ(reqs[1].Param("filterTag.1"), "<absent>");
  EXPECT_EQ(reqs[2].Param("Action"), "ListSubscriptionByTopic");
  EXPECT_EQ(reqs[2].Param("topicName"), "t");
  EXPECT_EQ(reqs[2].Param("searchWord"), "s");
  EXPECT_EQ(reqs[2].Param("offset"), "1");
  EXPECT_EQ(reqs[2].Param("limit"), "10");
  EXPECT_EQ(reqs[3].Param("subscriptionName"), "s");
  EXPECT_EQ(reqs[4].Param("Action"), "SetSubscriptionAttributes");
  EXPECT_EQ(reqs[4].Param("notifyStrategy"), "EXPONENTIAL_DECAY_RETRY");
  EXPECT_EQ(reqs[4].Param("notifyContentFormat"), "<absent>");
  EXPECT_EQ(reqs[4].Param("filterTag.1"), "c");
  EXPECT_EQ(reqs[4].Param("bindingKey.1"), "<absent>");
  EXPECT_EQ(reqs[4].Param("protocol"), "<absent>");
  EXPECT_EQ(reqs[5].Param("Action"), "ClearSubscriptionFilterTags");
  EXPECT_EQ(reqs[5].Param("topicName"), "t");
  EXPECT_EQ(reqs[5].Param("subscriptionName"), "s");
  EXPECT_EQ(reqs[6].Param("Action"), "Unsubscribe");
  EXPECT_EQ(reqs[6].Param("subscriptionName"), "s");
}

TEST(TopicClientTest, ServerErrorsSurfaceTheirCodes) {
  FakeServer server([](const FakeRequest& r) {
    std::string a = r.Param("Action");
    if (a == "Subscribe") {
      return Json(R"({"code":4490,"message":"(10470)subscribtion is already existed",
        "requestId":"5"})");
    }
    if (a == "PublishMessage") {
      return Json(R"({"code":6030,"message":"(10650)topic has no subscription, )"
                  R"(please create a subscription before publishing message","requestId":"6"})");
    }
    return Json(R"({"code":4440,"message":"(10600)topic is not existed, or deleted",
      "requestId":"7"})");
  });
  Client client(OptionsFor(server));
  auto s = client.Subscribe("t", "s", "queue", "q");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, kCodeSubscriptionExists);
  EXPECT_EQ(s.error().request_id, "5");
  auto p = client.PublishMessage("t", "x");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, kCodeNoSubscription);
  auto g = client.GetTopicAttributes("t");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, 4440);
  EXPECT_EQ(g.error().message, "(10600)topic is not existed, or deleted");
  EXPECT_FALSE(client.DeleteTopic("t").ok());
  EXPECT_FALSE(client.Unsubscribe("t", "s").ok());
}

TEST(TopicClientTest, MissingResponseFieldsAreProtocolErrors) {
  FakeServer server([](const FakeRequest&) { return Json(kOk); });
  Client client(OptionsFor(server));
  auto checks = {client.CreateTopic("t").ok(),
                 client.PublishMessage("t", "x").ok(),
                 client.Subscribe("t", "s", "queue", "q").ok(),
                 client.ListTopic().ok(),
                 client.GetTopicAttributes("t").ok(),
                 client.GetSubscriptionAttributes("t", "s").ok(),
                 client.ListSubscriptionByTopic("t").ok()};
  for (bool ok : checks) EXPECT_FALSE(ok);
  auto r = client.PublishMessage("t", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Error::Kind::kProtocol);
  std::vector<std::string> bodies = {"a"};
  EXPECT_FALSE(client.BatchPublishMessage("t", bodies).ok());
}

TEST(TopicResponsesTest, TopicMetaNeedsTheSixFields) {
  auto j = ParseSuccess(kTopicMeta);
  ASSERT_TRUE(j.ok());
  j->erase("LoggingEnabled");
  j->erase("topicId");
  j->erase("topicName");
  auto m = ParseTopicMeta(*j);
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->logging_enabled, 0);
  EXPECT_TRUE(m->topic_name.empty());
  for (const char* field : {"msgCount", "maxMsgSize", "msgRetentionSeconds", "createTime",
                            "lastModifyTime", "filterType"}) {
    auto copy = *j;
    copy.erase(field);
    EXPECT_FALSE(ParseTopicMeta(copy).ok()) << field;
  }
  (*j)["filterType"] = "2";
  EXPECT_FALSE(ParseTopicMeta(*j).ok());
}

TEST(TopicResponsesTest, SubscriptionMetaAcceptsEitherSpelling) {
  // Python's spellings only: protocal, filterTags; bindingKey null; topicOwner a number.
  auto j = ParseSuccess(R"({"code":0,"topicOwner":1250000000,"msgCount":0,"protocal":"queue",
    "endpoint":"q","notifyStrategy":"EXPONENTIAL_DECAY_RETRY","notifyContentFormat":"JSON",
    "createTime":1,"lastModifyTime":2,"filterTags":["x"],"bindingKey":null})");
  ASSERT_TRUE(j.ok());
  auto m = ParseSubscriptionMeta(*j);
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->protocol, "queue");
  EXPECT_EQ(m->topic_owner, "1250000000");
  EXPECT_EQ(m->filter_tags, (std::vector<std::string>{"x"}));
  EXPECT_TRUE(m->binding_keys.empty());
  EXPECT_TRUE(m->subscription_id.empty());
  // Neither tag spelling: no tags.
  auto no_tags = *j;
  no_tags.erase("filterTags");
  ASSERT_TRUE(ParseSubscriptionMeta(no_tags).ok());
  EXPECT_TRUE(ParseSubscriptionMeta(no_tags)->filter_tags.empty());
  // No protocol under either name, a missing string, a bad list: protocol errors.
  for (const char* field : {"protocal", "endpoint", "notifyStrategy", "notifyContentFormat",
                            "msgCount", "createTime", "lastModifyTime"}) {
    auto copy = *j;
    copy.erase(field);
    EXPECT_FALSE(ParseSubscriptionMeta(copy).ok()) << field;
  }
  auto bad = *j;
  bad["bindingKey"] = "a";
  EXPECT_FALSE(ParseSubscriptionMeta(bad).ok());
  bad = *j;
  bad["filterTags"] = nlohmann::json::array({1});
  EXPECT_FALSE(ParseSubscriptionMeta(bad).ok());
}

TEST(TopicResponsesTest, ListsMayOmitTheArrayButNotTheCount) {
  auto t = ParseTopicList(*ParseSuccess(R"({"code":0,"totalCount":0})"));
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->topics.empty());
  auto s = ParseSubscriptionList(*ParseSuccess(R"({"code":0,"totalCount":0})"));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->subscriptions.empty());
  EXPECT_FALSE(ParseTopicList(*ParseSuccess(R"({"code":0,"topicList":[]})")).ok());
  EXPECT_FALSE(ParseSubscriptionList(*ParseSuccess(R"({"code":0,"subscriptionList":[]})")).ok());
  EXPECT_FALSE(
      ParseTopicList(*ParseSuccess(R"({"code":0,"totalCount":1,"topicList":[{"topicId":"x"}]})"))
          .ok());
  EXPECT_FALSE(ParseSubscriptionList(*ParseSuccess(R"({"code":0,"totalCount":1,
    "subscriptionList":[{"subscriptionId":"x","subscriptionName":"s","protocol":"queue"}]})"))
                   .ok());
  EXPECT_FALSE(ParseTopicList(*ParseSuccess(R"({"code":0,"totalCount":1,"topicList":{}})")).ok());
}

}  // namespace
}  // namespace cmq::client
