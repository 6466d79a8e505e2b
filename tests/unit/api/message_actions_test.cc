// Message actions through the Dispatcher, over a real state machine.

#include <gtest/gtest.h>

#include "api_test_util.h"

namespace cmq::api {
namespace {

using testing::DispatcherHarness;

class MessageActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(h.Post({{"Action", "CreateQueue"}, {"queueName", "q"}})["code"], 0);
  }
  nlohmann::json Send(const std::string& body, FormParams extra = {}) {
    FormParams form = {{"Action", "SendMessage"}, {"queueName", "q"}, {"msgBody", body}};
    form.insert(form.end(), extra.begin(), extra.end());
    return h.Post(form);
  }
  nlohmann::json Receive(FormParams extra = {}) {
    FormParams form = {{"Action", "ReceiveMessage"}, {"queueName", "q"}};
    form.insert(form.end(), extra.begin(), extra.end());
    return h.Post(form);
  }
  static void ExpectMessageTypes(const nlohmann::json& m) {
    EXPECT_TRUE(m["msgBody"].is_string()) << m;
    EXPECT_TRUE(m["msgId"].is_string()) << m;
    EXPECT_TRUE(m["receiptHandle"].is_string()) << m;
    for (const char* f : {"enqueueTime", "nextVisibleTime", "firstDequeueTime", "dequeueCount"}) {
      EXPECT_TRUE(m[f].is_number_integer()) << f << " in " << m;
    }
  }
  DispatcherHarness h;
};

TEST_F(MessageActionsTest, SendAnswersADecimalStringMsgId) {
  auto j = Send("hello", {{"delaySeconds", "0"}});
  ASSERT_EQ(j["code"], 0) << j;
  ASSERT_TRUE(j["msgId"].is_string());
  std::string id = j["msgId"];
  EXPECT_EQ(id.find_first_not_of("0123456789"), std::string::npos);
}

TEST_F(MessageActionsTest, SendValidation) {
  EXPECT_EQ(Send("")["message"], "(10120)message body can't be empty");
  EXPECT_EQ(h.Post({{"Action", "SendMessage"}, {"queueName", "q"}})["message"],
            "(10390)lacked of required parameter msgBody");
  auto delay = Send("x", {{"delaySeconds", "3601"}});
  EXPECT_EQ(delay["code"], 4000);
  EXPECT_EQ(delay["message"], "(10692)delay seconds is out of range");
  EXPECT_EQ(Send("x", {{"delaySeconds", "1.5"}})["message"],
            "(10360)parameter delaySeconds error type");
  auto big = Send(std::string(65537, 'x'));  // over the queue's default maxMsgSize
  EXPECT_EQ(big["code"], 4400);
  EXPECT_EQ(big["message"], "(10230)exceed maximum message size");
}

TEST_F(MessageActionsTest, ReceiveAnswersAllSevenFieldsWithTypes) {
  h.clock.Set(1'700'000'000'500);
  auto sent = Send("body \"quoted\"\n\xe4\xbd\xa0");
  ASSERT_EQ(sent["code"], 0);
  h.clock.Advance(1000);
  auto j = Receive();
  ASSERT_EQ(j["code"], 0) << j;
  ExpectMessageTypes(j);
  EXPECT_EQ(j["msgBody"], "body \"quoted\"\n\xe4\xbd\xa0");
  EXPECT_EQ(j["msgId"], sent["msgId"]);
  EXPECT_EQ(j["enqueueTime"], 1'700'000'000);  // seconds
  EXPECT_EQ(j["firstDequeueTime"], 1'700'000'001);
  EXPECT_EQ(j["nextVisibleTime"], 1'700'000'001 + 30);
  EXPECT_EQ(j["dequeueCount"], 1);
  std::string handle = j["receiptHandle"];
  EXPECT_EQ(handle.find_first_not_of("0123456789"), std::string::npos);
}

TEST_F(MessageActionsTest, ReceiveOnEmptyQueueIs7000) {
  auto j = Receive({{"pollingWaitSeconds", "3"}});
  EXPECT_EQ(j["code"], 7000);
  EXPECT_EQ(j["message"], "(10200)no message");
  EXPECT_EQ(h.service.last_wait_seconds, 3);
  Receive();
  EXPECT_FALSE(h.service.last_wait_seconds.has_value());  // the queue's attribute
  EXPECT_EQ(Receive({{"pollingWaitSeconds", "31"}})["code"], 4000);
  EXPECT_EQ(Receive({{"pollingWaitSeconds", "-1"}})["code"], 4000);
}

// The connection's AbandonFlag reaches the service with the receive (a long poll then takes
// no message once its client is gone).
TEST_F(MessageActionsTest, ReceivePassesItsConnectionsAbandonFlagOn) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/";
  r.body = EncodeForm({{"Action", "ReceiveMessage"}, {"queueName", "q"}});
  auto flag = std::make_shared<std::atomic<bool>>(false);
  r.abandoned = flag;
  h.Raw(std::move(r));
  EXPECT_EQ(h.service.last_abandoned, flag);
  Receive();
  EXPECT_EQ(h.service.last_abandoned, nullptr);
}

TEST_F(MessageActionsTest, BatchSendKeepsOrderAndBatchReceiveGetsThem) {
  FormParams form = {{"Action", "BatchSendMessage"}, {"queueName", "q"}};
  for (int i = 3; i >= 0; --i)
    form.emplace_back("msgBody." + std::to_string(i), "m" + std::to_string(i));
  auto sent = h.Post(form);
  ASSERT_EQ(sent["code"], 0) << sent;
  ASSERT_EQ(sent["msgList"].size(), 4u);
  for (const auto& m : sent["msgList"]) EXPECT_TRUE(m["msgId"].is_string());
  auto j = h.Post({{"Action", "BatchReceiveMessage"}, {"queueName", "q"}, {"numOfMsg", "16"}});
  ASSERT_EQ(j["code"], 0) << j;
  ASSERT_EQ(j["msgInfoList"].size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    ExpectMessageTypes(j["msgInfoList"][i]);
    EXPECT_EQ(j["msgInfoList"][i]["msgBody"], "m" + std::to_string(i));
    EXPECT_EQ(j["msgInfoList"][i]["msgId"], sent["msgList"][i]["msgId"]);
  }
  auto none = h.Post({{"Action", "BatchReceiveMessage"}, {"queueName", "q"}, {"numOfMsg", "2"}});
  EXPECT_EQ(none["code"], 7000);
}

TEST_F(MessageActionsTest, BatchValidation) {
  FormParams gap = {
      {"Action", "BatchSendMessage"}, {"queueName", "q"}, {"msgBody.1", "a"}, {"msgBody.3", "b"}};
  EXPECT_EQ(h.Post(gap)["message"], "(10380)msgBody parameter is not consequent");
  FormParams many = {{"Action", "BatchSendMessage"}, {"queueName", "q"}};
  for (int i = 1; i <= 17; ++i) many.emplace_back("msgBody." + std::to_string(i), "x");
  EXPECT_EQ(h.Post(many)["message"], "(10370)msgBody parameter batch size is out of range");
  FormParams total = {{"Action", "BatchSendMessage"}, {"queueName", "q"}};
  for (int i = 1; i <= 2; ++i)
    total.emplace_back("msgBody." + std::to_string(i), std::string(600'000, 'x'));
  EXPECT_EQ(h.Post(total)["code"], 4470);
  EXPECT_EQ(h.Post({{"Action", "BatchReceiveMessage"}, {"queueName", "q"}})["message"],
            "(10390)lacked of required parameter numOfMsg");
  EXPECT_EQ(
      h.Post({{"Action", "BatchReceiveMessage"}, {"queueName", "q"}, {"numOfMsg", "17"}})["code"],
      4000);
}

TEST_F(MessageActionsTest, DeleteMessage) {
  ASSERT_EQ(Send("x")["code"], 0);
  std::string handle = Receive()["receiptHandle"];
  EXPECT_EQ(
      h.Post({{"Action", "DeleteMessage"}, {"queueName", "q"}, {"receiptHandle", handle}})["code"],
      0);
  auto again = h.Post({{"Action", "DeleteMessage"}, {"queueName", "q"}, {"receiptHandle", handle}});
  EXPECT_EQ(again["code"], 4430);
  EXPECT_EQ(again["message"], "(10260)receipt handle is invalid");
  auto malformed =
      h.Post({{"Action", "DeleteMessage"}, {"queueName", "q"}, {"receiptHandle", "abc"}});
  EXPECT_EQ(malformed["code"], 4000);
  EXPECT_EQ(malformed["message"], "(10470)receiptHandle error");
}

TEST_F(MessageActionsTest, BatchDeleteListsExactlyTheFailedHandles) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Send("m" + std::to_string(i))["code"], 0);
  auto received =
      h.Post({{"Action", "BatchReceiveMessage"}, {"queueName", "q"}, {"numOfMsg", "3"}});
  ASSERT_EQ(received["msgInfoList"].size(), 3u);
  std::string h0 = received["msgInfoList"][0]["receiptHandle"];
  std::string h1 = received["msgInfoList"][1]["receiptHandle"];
  std::string h2 = received["msgInfoList"][2]["receiptHandle"];
  ASSERT_EQ(
      h.Post({{"Action", "DeleteMessage"}, {"queueName", "q"}, {"receiptHandle", h1}})["code"], 0);
  auto j = h.Post({{"Action", "BatchDeleteMessage"},
                   {"queueName", "q"},
                   {"receiptHandle.1", h0},
                   {"receiptHandle.2", h1},
                   {"receiptHandle.3", h2}});
  EXPECT_EQ(j["code"], 6010) << j;
  EXPECT_EQ(j["message"], "(10150)delete message partially failed");
  ASSERT_EQ(j["errorList"].size(), 1u);
  EXPECT_EQ(j["errorList"][0]["code"], 4430);
  EXPECT_EQ(j["errorList"][0]["message"], "(10260)receipt handle is invalid");
  EXPECT_EQ(j["errorList"][0]["receiptHandle"], h1);
  // All failed: still 6010 with every handle.
  auto all = h.Post({{"Action", "BatchDeleteMessage"},
                     {"queueName", "q"},
                     {"receiptHandle.0", h0},
                     {"receiptHandle.1", h2}});
  EXPECT_EQ(all["code"], 6010);
  EXPECT_EQ(all["errorList"].size(), 2u);
}

// A handle that is not a number fails alone (spec §16): the others are still deleted, and
// errorList echoes each failed handle as it was sent.
TEST_F(MessageActionsTest, BatchDeleteListsAMalformedHandleAndDeletesTheOthers) {
  for (int i = 0; i < 2; ++i) ASSERT_EQ(Send("m" + std::to_string(i))["code"], 0);
  auto received =
      h.Post({{"Action", "BatchReceiveMessage"}, {"queueName", "q"}, {"numOfMsg", "2"}});
  ASSERT_EQ(received["msgInfoList"].size(), 2u);
  std::string h0 = received["msgInfoList"][0]["receiptHandle"];
  std::string h1 = received["msgInfoList"][1]["receiptHandle"];
  auto j = h.Post({{"Action", "BatchDeleteMessage"},
                   {"queueName", "q"},
                   {"receiptHandle.1", h0},
                   {"receiptHandle.2", "invalid"},
                   {"receiptHandle.3", "0" + h1},
                   {"receiptHandle.4", "999"}});
  EXPECT_EQ(j["code"], 6010) << j;
  ASSERT_EQ(j["errorList"].size(), 2u) << j;
  EXPECT_EQ(j["errorList"][0]["code"], 4000);
  EXPECT_EQ(j["errorList"][0]["message"], "(10470)receiptHandle error");
  EXPECT_EQ(j["errorList"][0]["receiptHandle"], "invalid");
  EXPECT_EQ(j["errorList"][1]["code"], 4430);
  EXPECT_EQ(j["errorList"][1]["receiptHandle"], "999");
  // h0 and h1 (sent as "0<h1>") were deleted: deleting them again fails.
  for (const std::string& handle : {h0, h1}) {
    EXPECT_EQ(
        h.Post(
            {{"Action", "DeleteMessage"}, {"queueName", "q"}, {"receiptHandle", handle}})["code"],
        4430);
  }
  // Every handle malformed: 6010, each listed.
  auto all = h.Post({{"Action", "BatchDeleteMessage"},
                     {"queueName", "q"},
                     {"receiptHandle.1", "x"},
                     {"receiptHandle.2", "-1"}});
  EXPECT_EQ(all["code"], 6010);
  ASSERT_EQ(all["errorList"].size(), 2u);
  EXPECT_EQ(all["errorList"][1]["receiptHandle"], "-1");
}

TEST_F(MessageActionsTest, BatchDeleteAllOk) {
  for (int i = 0; i < 2; ++i) ASSERT_EQ(Send("m")["code"], 0);
  auto received =
      h.Post({{"Action", "BatchReceiveMessage"}, {"queueName", "q"}, {"numOfMsg", "2"}});
  ASSERT_EQ(received["msgInfoList"].size(), 2u);
  auto j = h.Post({{"Action", "BatchDeleteMessage"},
                   {"queueName", "q"},
                   {"receiptHandle.1", received["msgInfoList"][0]["receiptHandle"]},
                   {"receiptHandle.2", received["msgInfoList"][1]["receiptHandle"]}});
  EXPECT_EQ(j["code"], 0) << j;
  EXPECT_FALSE(j.contains("errorList"));
  auto ghost =
      h.Post({{"Action", "BatchDeleteMessage"}, {"queueName", "ghost"}, {"receiptHandle.1", "1"}});
  EXPECT_EQ(ghost["code"], 4440);
}

TEST_F(MessageActionsTest, InvalidUtf8BodyStillGivesValidJson) {
  ASSERT_EQ(Send("ok\xff")["code"], 0);
  auto j = Receive();  // Parse() fails the test on invalid JSON
  EXPECT_EQ(j["msgBody"], "ok\xef\xbf\xbd");
}

}  // namespace
}  // namespace cmq::api
