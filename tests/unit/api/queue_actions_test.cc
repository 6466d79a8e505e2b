// Queue management actions through the Dispatcher, over a real state machine.

#include <gtest/gtest.h>

#include "api_test_util.h"
#include "mq/limits.h"

namespace cmq::api {
namespace {

using testing::DispatcherHarness;

class QueueActionsTest : public ::testing::Test {
 protected:
  nlohmann::json Create(const std::string& name, FormParams extra = {}) {
    FormParams form = {{"Action", "CreateQueue"}, {"queueName", name}};
    form.insert(form.end(), extra.begin(), extra.end());
    return h.Post(form);
  }
  DispatcherHarness h;
};

TEST_F(QueueActionsTest, CreateQueueAnswersAQueueIdString) {
  auto j = Create("orders");
  EXPECT_EQ(j["code"], 0) << j;
  ASSERT_TRUE(j["queueId"].is_string());
  EXPECT_FALSE(std::string(j["queueId"]).empty());
}

TEST_F(QueueActionsTest, CreateQueueTwiceIs4460CaseInsensitive) {
  ASSERT_EQ(Create("orders")["code"], 0);
  auto j = Create("ORDERS");
  EXPECT_EQ(j["code"], 4460);
  EXPECT_EQ(j["message"], "(10210)queue is already existed");
}

TEST_F(QueueActionsTest, CreateQueueValidatesNameAndAttributes) {
  EXPECT_EQ(Create("1bad")["message"], "(10020)queue name format error");
  EXPECT_EQ(h.Post({{"Action", "CreateQueue"}})["message"],
            "(10390)lacked of required parameter queueName");
  auto range = Create("q", {{"visibilityTimeout", "0"}});
  EXPECT_EQ(range["code"], 4000);
  EXPECT_EQ(range["message"], "(10350)parameter visibilityTimeout value or length is out of range");
  EXPECT_EQ(Create("q", {{"maxMsgSize", "big"}})["message"],
            "(10360)parameter maxMsgSize error type");
  EXPECT_EQ(Create("q", {{"pollingWaitSeconds", "31"}})["code"], 4000);
  EXPECT_EQ(Create("q", {{"rewindSeconds", "3600"}, {"msgRetentionSeconds", "600"}})["code"], 4000);
  // What the Python SDK sends by default.
  EXPECT_EQ(Create("q", {{"pollingWaitSeconds", "0"},
                         {"visibilityTimeout", "30"},
                         {"maxMsgSize", "65536"},
                         {"msgRetentionSeconds", "345600"},
                         {"rewindSeconds", "0"}})["code"],
            0);
}

TEST_F(QueueActionsTest, GetQueueAttributesHasAllFieldsAsNumbers) {
  ASSERT_EQ(Create("attrs", {{"visibilityTimeout", "45"}, {"rewindSeconds", "60"}})["code"], 0);
  auto j = h.Post({{"Action", "GetQueueAttributes"}, {"queueName", "attrs"}});
  ASSERT_EQ(j["code"], 0) << j;
  for (const char* field : {"maxMsgHeapNum", "pollingWaitSeconds", "visibilityTimeout",
                            "maxMsgSize", "msgRetentionSeconds", "createTime", "lastModifyTime",
                            "activeMsgNum", "inactiveMsgNum", "rewindSeconds", "rewindmsgNum",
                            "rewindMsgNum", "minMsgTime", "delayMsgNum", "transactionMsgNum"}) {
    EXPECT_TRUE(j[field].is_number_integer()) << field << " in " << j;
  }
  EXPECT_EQ(j["queueName"], "attrs");
  EXPECT_EQ(j["visibilityTimeout"], 45);
  EXPECT_EQ(j["rewindSeconds"], 60);
  EXPECT_EQ(j["maxMsgSize"], mq::kMaxMsgSizeDefault);
  EXPECT_EQ(j["msgRetentionSeconds"], mq::kMsgRetentionSecondsDefault);
  EXPECT_EQ(j["createTime"], h.clock.NowMs() / 1000);  // seconds, not milliseconds
  EXPECT_EQ(j["activeMsgNum"], 0);
}

TEST_F(QueueActionsTest, MissingQueueIs4440) {
  auto j = h.Post({{"Action", "GetQueueAttributes"}, {"queueName", "ghost"}});
  EXPECT_EQ(j["code"], 4440);
  EXPECT_EQ(j["message"], "(10100)queue is not existed, or deleted");
  EXPECT_EQ(h.Post({{"Action", "DeleteQueue"}, {"queueName", "ghost"}})["code"], 4440);
  EXPECT_EQ(h.Post({{"Action", "SendMessage"}, {"queueName", "ghost"}, {"msgBody", "x"}})["code"],
            4440);
}

TEST_F(QueueActionsTest, SetQueueAttributesUpdatesOnlyWhatIsGiven) {
  ASSERT_EQ(Create("q", {{"visibilityTimeout", "45"}})["code"], 0);
  h.clock.Advance(5000);
  auto set = h.Post({{"Action", "SetQueueAttributes"}, {"queueName", "q"}, {"maxMsgSize", "2048"}});
  EXPECT_EQ(set["code"], 0) << set;
  auto j = h.Post({{"Action", "GetQueueAttributes"}, {"queueName", "q"}});
  EXPECT_EQ(j["maxMsgSize"], 2048);
  EXPECT_EQ(j["visibilityTimeout"], 45);
  EXPECT_EQ(j["lastModifyTime"], h.clock.NowMs() / 1000);
  EXPECT_EQ(
      h.Post({{"Action", "SetQueueAttributes"}, {"queueName", "q"}, {"maxMsgSize", "1"}})["code"],
      4000);
}

TEST_F(QueueActionsTest, ListQueueWithSearchWordOffsetLimit) {
  for (const char* name : {"alpha", "beta", "alphabet", "gamma"})
    ASSERT_EQ(Create(name)["code"], 0);
  auto all = h.Post({{"Action", "ListQueue"}});
  EXPECT_EQ(all["totalCount"], 4);
  ASSERT_TRUE(all["queueList"].is_array());
  EXPECT_EQ(all["queueList"].size(), 4u);
  for (const auto& q : all["queueList"]) {
    EXPECT_TRUE(q["queueId"].is_string());
    EXPECT_TRUE(q["queueName"].is_string());
  }
  auto search = h.Post({{"Action", "ListQueue"}, {"searchWord", "alpha"}, {"limit", "1"}});
  EXPECT_EQ(search["totalCount"], 2);
  EXPECT_EQ(search["queueList"].size(), 1u);
  auto page = h.Post({{"Action", "ListQueue"}, {"offset", "3"}});
  EXPECT_EQ(page["totalCount"], 4);
  EXPECT_EQ(page["queueList"].size(), 1u);
  EXPECT_EQ(h.Post({{"Action", "ListQueue"}, {"limit", "51"}})["code"], 4000);
  EXPECT_EQ(h.Post({{"Action", "ListQueue"}, {"offset", "-1"}})["code"], 4000);
  auto empty = h.Post({{"Action", "ListQueue"}, {"searchWord", "zzz"}});
  EXPECT_EQ(empty["totalCount"], 0);
  EXPECT_TRUE(empty["queueList"].is_array());
}

TEST_F(QueueActionsTest, DeleteQueue) {
  ASSERT_EQ(Create("gone")["code"], 0);
  EXPECT_EQ(h.Post({{"Action", "DeleteQueue"}, {"queueName", "gone"}})["code"], 0);
  EXPECT_EQ(h.Post({{"Action", "GetQueueAttributes"}, {"queueName", "gone"}})["code"], 4440);
}

TEST_F(QueueActionsTest, RewindQueue) {
  ASSERT_EQ(Create("norewind")["code"], 0);
  auto disabled = h.Post({{"Action", "RewindQueue"},
                          {"queueName", "norewind"},
                          {"startConsumeTime", std::to_string(h.clock.NowMs() / 1000)}});
  EXPECT_EQ(disabled["code"], 6050);
  EXPECT_EQ(disabled["message"], "(10670)your queue cannot be rewinded");
  ASSERT_EQ(Create("rw", {{"rewindSeconds", "600"}})["code"], 0);
  auto ok = h.Post({{"Action", "RewindQueue"},
                    {"queueName", "rw"},
                    {"startConsumeTime", std::to_string(h.clock.NowMs() / 1000)}});
  EXPECT_EQ(ok["code"], 0) << ok;
  EXPECT_EQ(h.Post({{"Action", "RewindQueue"}, {"queueName", "rw"}})["message"],
            "(10390)lacked of required parameter startConsumeTime");
}

}  // namespace
}  // namespace cmq::api
