// The request pipeline in front of the actions: methods, sizes, Action matching, the
// envelope, signatures.

#include "api/dispatcher.h"

#include <gtest/gtest.h>

#include <set>

#include "api_test_util.h"
#include "common/signature.h"

namespace cmq::api {
namespace {

using testing::DispatcherHarness;

HttpRequest Request(std::string method, std::string target, std::string body) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.host = "127.0.0.1:8080";
  r.body = std::move(body);
  return r;
}

TEST(DispatcherTest, SuccessEnvelope) {
  DispatcherHarness h;
  auto j = h.Post({{"Action", "ListQueue"}});
  EXPECT_EQ(j["code"], 0);
  EXPECT_EQ(j["message"], "");
  std::string id = j["requestId"];
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(id.find_first_not_of("0123456789"), std::string::npos);
  EXPECT_FALSE(j.contains("clientRequestId"));
}

TEST(DispatcherTest, RequestIdsAreUnique) {
  DispatcherHarness h;
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.insert(h.Post({{"Action", "ListQueue"}})["requestId"]);
  EXPECT_EQ(ids.size(), 100u);
}

TEST(DispatcherTest, ClientRequestIdIsEchoedAsANumber) {
  DispatcherHarness h;
  auto ok = h.Post({{"Action", "ListQueue"}, {"clientRequestId", "42"}});
  EXPECT_TRUE(ok["clientRequestId"].is_number_integer());
  EXPECT_EQ(ok["clientRequestId"], 42);
  auto error = h.Post({{"Action", "Nope"}, {"clientRequestId", "0"}});
  EXPECT_EQ(error["clientRequestId"], 0);
}

TEST(DispatcherTest, ActionIsCaseInsensitive) {
  DispatcherHarness h;
  EXPECT_EQ(h.Post({{"Action", "listqueue"}})["code"], 0);
  EXPECT_EQ(h.Post({{"Action", "LISTQUEUE"}})["code"], 0);
}

TEST(DispatcherTest, MissingAction) {
  DispatcherHarness h;
  auto j = h.Post({{"queueName", "q"}});
  EXPECT_EQ(j["code"], 4000);
  EXPECT_EQ(j["message"], "(10280)action is not existed");
}

TEST(DispatcherTest, UnknownAction) {
  DispatcherHarness h;
  auto j = h.Post({{"Action", "Frobnicate"}});
  EXPECT_EQ(j["code"], 4000);
  EXPECT_EQ(j["message"], "(10430)action name Frobnicate is not existed");
}

TEST(DispatcherTest, EveryCmqActionIsImplemented) {
  for (const char* name : {"SendMessage",
                           "ReceiveMessage",
                           "DeleteMessage",
                           "BatchSendMessage",
                           "BatchReceiveMessage",
                           "BatchDeleteMessage",
                           "CreateQueue",
                           "ListQueue",
                           "GetQueueAttributes",
                           "SetQueueAttributes",
                           "DeleteQueue",
                           "RewindQueue",
                           "CreateTopic",
                           "SetTopicAttributes",
                           "ListTopic",
                           "GetTopicAttributes",
                           "DeleteTopic",
                           "PublishMessage",
                           "BatchPublishMessage",
                           "Subscribe",
                           "ListSubscriptionByTopic",
                           "GetSubscriptionAttributes",
                           "SetSubscriptionAttributes",
                           "Unsubscribe",
                           "ClearSubscriptionFilterTags",
                           "ClearSUbscriptionFIlterTags",
                           "createtopic"}) {
    const Dispatcher::Action* action = Dispatcher::FindAction(name);
    ASSERT_NE(action, nullptr) << name;
    EXPECT_NE(action->fn, nullptr) << name;
  }
  EXPECT_EQ(Dispatcher::FindAction("ClearSubscriptionFilterTag"), nullptr);
}

TEST(DispatcherTest, GetUsesTheQueryString) {
  DispatcherHarness h;
  auto j = DispatcherHarness::Parse(
      h.Raw(Request("GET", "/v2/index.php?Action=CreateQueue&queueName=fromget", "")));
  EXPECT_EQ(j["code"], 0) << j;
  auto list = h.Post({{"Action", "ListQueue"}});
  EXPECT_EQ(list["totalCount"], 1);
}

TEST(DispatcherTest, OtherMethodsAre10410) {
  DispatcherHarness h;
  auto j = DispatcherHarness::Parse(h.Raw(Request("PUT", "/", "Action=ListQueue")));
  EXPECT_EQ(j["code"], 4000);
  EXPECT_EQ(j["message"], "(10410)unexpected http PUT only GET or POST is supported");
}

TEST(DispatcherTest, TooLargeIs10420AndCloses) {
  DispatcherHarness h;
  HttpRequest r = Request("POST", "/", "");
  r.too_large = true;
  HttpResponse response = h.Raw(std::move(r));
  EXPECT_FALSE(response.keep_alive);
  auto j = DispatcherHarness::Parse(response);
  EXPECT_EQ(j["code"], 4000);
  EXPECT_EQ(std::string(j["message"]).rfind("(10420)", 0), 0u);
}

TEST(DispatcherTest, KeepAliveFollowsTheRequest) {
  DispatcherHarness h;
  HttpRequest r = Request("POST", "/", "Action=ListQueue");
  r.keep_alive = false;
  EXPECT_FALSE(h.Raw(std::move(r)).keep_alive);
  EXPECT_TRUE(h.Raw(Request("POST", "/", "Action=ListQueue")).keep_alive);
}

TEST(DispatcherTest, DuplicateParameterIs10330) {
  DispatcherHarness h;
  auto j = DispatcherHarness::Parse(
      h.Raw(Request("POST", "/", "Action=CreateQueue&queueName=a&queueName=b")));
  EXPECT_EQ(j["code"], 4000);
  EXPECT_EQ(j["message"], "(10330)parameter queueName is NOT a repeatable parameter");
}

TEST(DispatcherTest, SignedRequestsWhenAccountsAreConfigured) {
  ServerConfig config;
  config.accounts = {{"AKIDx", "key"}};
  DispatcherHarness h(config);
  FormParams form = {{"Action", "ListQueue"},
                     {"SecretId", "AKIDx"},
                     {"Nonce", "1"},
                     {"Timestamp", std::to_string(h.clock.NowMs() / 1000)},
                     {"SignatureMethod", "HmacSHA256"}};
  std::string text = StringToSign("POST", "127.0.0.1:8080", "/v2/index.php", form);
  FormParams good = form;
  good.emplace_back("Signature", Sign(text, "key", SignatureAlgorithm::kHmacSha256));
  EXPECT_EQ(h.Post(good)["code"], 0);
  FormParams bad = form;
  bad.emplace_back("Signature", Sign(text, "nokey", SignatureAlgorithm::kHmacSha256));
  auto j = h.Post(bad);
  EXPECT_EQ(j["code"], 4100);
  EXPECT_EQ(j["message"], "(10030)authentication failed");
  EXPECT_EQ(h.Post(form)["code"], 4100);  // no Signature
}

}  // namespace
}  // namespace cmq::api
