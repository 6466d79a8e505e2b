// Every queue action of CMQ HTTP API 2.0 against a real cmqd over HTTP, checking the
// fields and JSON types the official SDKs read (spec §12) and the error codes of §6.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "cmqd_process.h"
#include "http_client.h"

namespace cmq::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

class QueueApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new CmqdProcess(MakeTempDir("cmq-api"));
    server_->Start();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override { client_ = std::make_unique<HttpClient>(server_->port()); }

  // A queue name unique to this test.
  std::string Queue(const std::string& suffix = "") {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("q-") + info->name() + suffix;
    std::replace(name.begin(), name.end(), '_', '-');
    return name.substr(0, 64);
  }

  json Create(const std::string& name, FormParams extra = {}) {
    extra.insert(extra.begin(), {"queueName", name});
    json r = client_->Call("CreateQueue", extra);
    EXPECT_EQ(r["code"], 0) << r.dump();
    return r;
  }

  static void ExpectEnvelope(const json& r) {
    ASSERT_TRUE(r.contains("code") && r["code"].is_number_integer()) << r.dump();
    ASSERT_TRUE(r.contains("message") && r["message"].is_string()) << r.dump();
    ASSERT_TRUE(r.contains("requestId") && r["requestId"].is_string()) << r.dump();
  }

  static void ExpectError(const json& r, int code, const std::string& module) {
    ExpectEnvelope(r);
    EXPECT_EQ(r["code"], code) << r.dump();
    EXPECT_EQ(r["message"].get<std::string>().rfind("(" + module + ")", 0), 0u) << r.dump();
  }

  static CmqdProcess* server_;
  std::unique_ptr<HttpClient> client_;
};

CmqdProcess* QueueApiTest::server_ = nullptr;

TEST_F(QueueApiTest, CreateQueueAnswersAQueueIdString) {
  json r = Create(Queue());
  ExpectEnvelope(r);
  EXPECT_EQ(r["message"], "");
  ASSERT_TRUE(r["queueId"].is_string());
  EXPECT_FALSE(r["queueId"].get<std::string>().empty());
}

TEST_F(QueueApiTest, DuplicateQueueNameIsRefusedCaseInsensitively) {
  Create(Queue());
  std::string upper = Queue();
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  ExpectError(client_->Call("CreateQueue", {{"queueName", upper}}), 4460, "10210");
}

TEST_F(QueueApiTest, MalformedQueueNamesAreRefused) {
  for (const std::string& bad :
       std::vector<std::string>{"1abc", "a b", "a.b", std::string(65, 'a'), ""}) {
    json r = client_->Call("CreateQueue", {{"queueName", bad}});
    EXPECT_EQ(r["code"], 4000) << bad << " " << r.dump();
  }
}

TEST_F(QueueApiTest, GetQueueAttributesHasEveryFieldAsANumber) {
  Create(Queue(), {{"visibilityTimeout", "45"}, {"rewindSeconds", "600"}});
  json r = client_->Call("GetQueueAttributes", {{"queueName", Queue()}});
  ExpectEnvelope(r);
  ASSERT_EQ(r["code"], 0) << r.dump();
  for (const char* f :
       {"maxMsgHeapNum", "pollingWaitSeconds", "visibilityTimeout", "maxMsgSize",
        "msgRetentionSeconds", "createTime", "lastModifyTime", "activeMsgNum", "inactiveMsgNum",
        "rewindSeconds", "rewindmsgNum", "rewindMsgNum", "minMsgTime", "delayMsgNum"}) {
    ASSERT_TRUE(r.contains(f)) << f << " missing in " << r.dump();
    EXPECT_TRUE(r[f].is_number_integer()) << f << " in " << r.dump();
  }
  EXPECT_EQ(r["visibilityTimeout"], 45);
  EXPECT_EQ(r["rewindSeconds"], 600);
  EXPECT_EQ(r["pollingWaitSeconds"], 0);
  EXPECT_EQ(r["maxMsgSize"], 65536);
  EXPECT_EQ(r["msgRetentionSeconds"], 345600);
  int64_t now = time(nullptr);
  EXPECT_NEAR(r["createTime"].get<int64_t>(), now, 60);  // seconds, not milliseconds
}

TEST_F(QueueApiTest, SetQueueAttributesChangesOnlyWhatIsGiven) {
  Create(Queue(), {{"visibilityTimeout", "45"}});
  json r = client_->Call("SetQueueAttributes", {{"queueName", Queue()}, {"maxMsgSize", "2048"}});
  ASSERT_EQ(r["code"], 0) << r.dump();
  json a = client_->Call("GetQueueAttributes", {{"queueName", Queue()}});
  EXPECT_EQ(a["maxMsgSize"], 2048);
  EXPECT_EQ(a["visibilityTimeout"], 45);
}

TEST_F(QueueApiTest, AttributeOutOfRangeIsRefused) {
  ExpectError(client_->Call("CreateQueue", {{"queueName", Queue()}, {"visibilityTimeout", "0"}}),
              4000, "10350");
  ExpectError(client_->Call("CreateQueue", {{"queueName", Queue()}, {"maxMsgSize", "abc"}}), 4000,
              "10360");
}

TEST_F(QueueApiTest, DeletedQueueIsGone) {
  Create(Queue());
  ASSERT_EQ(client_->Call("DeleteQueue", {{"queueName", Queue()}})["code"], 0);
  ExpectError(client_->Call("GetQueueAttributes", {{"queueName", Queue()}}), 4440, "10100");
  ExpectError(client_->Call("SendMessage", {{"queueName", Queue()}, {"msgBody", "x"}}), 4440,
              "10100");
}

TEST_F(QueueApiTest, ListQueueFiltersAndPages) {
  for (int i = 0; i < 3; ++i) Create(Queue("-" + std::to_string(i)));
  json r = client_->Call("ListQueue", {{"searchWord", Queue()}, {"offset", "1"}, {"limit", "1"}});
  ASSERT_EQ(r["code"], 0) << r.dump();
  EXPECT_EQ(r["totalCount"], 3);
  ASSERT_EQ(r["queueList"].size(), 1u);
  EXPECT_TRUE(r["queueList"][0]["queueId"].is_string());
  EXPECT_EQ(r["queueList"][0]["queueName"], Queue("-1"));
  ExpectError(client_->Call("ListQueue", {{"limit", "51"}}), 4000, "10350");
}

TEST_F(QueueApiTest, SendReceiveDeleteRoundTrip) {
  Create(Queue());
  std::string body = "hello \xe4\xbd\xa0\xe5\xa5\xbd & = + % \"quoted\" \\ \n tab\t end";
  json s = client_->Call("SendMessage", {{"queueName", Queue()}, {"msgBody", body}});
  ASSERT_EQ(s["code"], 0) << s.dump();
  ASSERT_TRUE(s["msgId"].is_string());
  EXPECT_GT(std::stoull(s["msgId"].get<std::string>()), 0u);

  json r = client_->Call("ReceiveMessage", {{"queueName", Queue()}});
  ASSERT_EQ(r["code"], 0) << r.dump();
  EXPECT_EQ(r["msgBody"], body);
  EXPECT_EQ(r["msgId"], s["msgId"]);
  ASSERT_TRUE(r["receiptHandle"].is_string());
  for (const char* f : {"enqueueTime", "nextVisibleTime", "firstDequeueTime", "dequeueCount"}) {
    EXPECT_TRUE(r[f].is_number_integer()) << f << " in " << r.dump();
  }
  EXPECT_EQ(r["dequeueCount"], 1);
  EXPECT_EQ(r["nextVisibleTime"].get<int64_t>() - r["firstDequeueTime"].get<int64_t>(), 30);

  json d = client_->Call("DeleteMessage",
                         {{"queueName", Queue()}, {"receiptHandle", r["receiptHandle"]}});
  EXPECT_EQ(d["code"], 0) << d.dump();
  ExpectError(client_->Call("DeleteMessage",
                            {{"queueName", Queue()}, {"receiptHandle", r["receiptHandle"]}}),
              4430, "10260");
  ExpectError(
      client_->Call("ReceiveMessage", {{"queueName", Queue()}, {"pollingWaitSeconds", "0"}}), 7000,
      "10200");
}

TEST_F(QueueApiTest, EmptyBodyAndOversizedBodyAreRefused) {
  Create(Queue(), {{"maxMsgSize", "1024"}});
  ExpectError(client_->Call("SendMessage", {{"queueName", Queue()}, {"msgBody", ""}}), 4000,
              "10120");
  ExpectError(
      client_->Call("SendMessage", {{"queueName", Queue()}, {"msgBody", std::string(1025, 'x')}}),
      4400, "10230");
  EXPECT_EQ(client_->Call("SendMessage",
                          {{"queueName", Queue()}, {"msgBody", std::string(1024, 'x')}})["code"],
            0);
}

TEST_F(QueueApiTest, BatchSendReceiveAndPartialBatchDelete) {
  Create(Queue());
  json s = client_->Call(
      "BatchSendMessage",
      {{"queueName", Queue()}, {"msgBody.1", "a"}, {"msgBody.2", "b"}, {"msgBody.3", "c"}});
  ASSERT_EQ(s["code"], 0) << s.dump();
  ASSERT_EQ(s["msgList"].size(), 3u);
  json r = client_->Call("BatchReceiveMessage", {{"queueName", Queue()}, {"numOfMsg", "16"}});
  ASSERT_EQ(r["code"], 0) << r.dump();
  ASSERT_EQ(r["msgInfoList"].size(), 3u);
  std::vector<std::string> bodies;
  for (const auto& m : r["msgInfoList"]) bodies.push_back(m["msgBody"]);
  EXPECT_EQ(bodies, (std::vector<std::string>{"a", "b", "c"}));  // FIFO
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(r["msgInfoList"][i]["msgId"], s["msgList"][i]["msgId"]);

  json d = client_->Call("BatchDeleteMessage",
                         {{"queueName", Queue()},
                          {"receiptHandle.1", r["msgInfoList"][0]["receiptHandle"]},
                          {"receiptHandle.2", "12345"},
                          {"receiptHandle.3", r["msgInfoList"][2]["receiptHandle"]}});
  ExpectError(d, 6010, "10150");
  ASSERT_EQ(d["errorList"].size(), 1u) << d.dump();
  EXPECT_EQ(d["errorList"][0]["receiptHandle"], "12345");
  EXPECT_EQ(d["errorList"][0]["code"], 4430);
  json a = client_->Call("GetQueueAttributes", {{"queueName", Queue()}});
  EXPECT_EQ(a["inactiveMsgNum"], 1);  // only "b" is left, in flight
}

TEST_F(QueueApiTest, ListParametersMayStartAtZeroButMustBeConsecutive) {
  Create(Queue());
  json ok = client_->Call("BatchSendMessage",
                          {{"queueName", Queue()}, {"msgBody.0", "x"}, {"msgBody.1", "y"}});
  EXPECT_EQ(ok["code"], 0) << ok.dump();
  ExpectError(client_->Call("BatchSendMessage",
                            {{"queueName", Queue()}, {"msgBody.1", "x"}, {"msgBody.3", "y"}}),
              4000, "10380");
  FormParams many = {{"queueName", Queue()}};
  for (int i = 1; i <= 17; ++i) many.emplace_back("msgBody." + std::to_string(i), "m");
  ExpectError(client_->Call("BatchSendMessage", many), 4000, "10370");
}

TEST_F(QueueApiTest, LongPollWaitsThenAnswersNoMessage) {
  Create(Queue());
  auto start = std::chrono::steady_clock::now();
  json r = client_->Call("ReceiveMessage", {{"queueName", Queue()}, {"pollingWaitSeconds", "2"}});
  ExpectError(r, 7000, "10200");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1900ms);
}

TEST_F(QueueApiTest, ReceiveWithoutAWaitUsesTheQueuesPollingWaitSeconds) {
  Create(Queue(), {{"pollingWaitSeconds", "1"}});
  auto start = std::chrono::steady_clock::now();
  ExpectError(client_->Call("ReceiveMessage", {{"queueName", Queue()}}), 7000, "10200");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 950ms);
}

TEST_F(QueueApiTest, LongPollReturnsWhenAMessageArrives) {
  Create(Queue());
  std::thread sender([&] {
    std::this_thread::sleep_for(300ms);
    HttpClient other(server_->port());
    other.Call("SendMessage", {{"queueName", Queue()}, {"msgBody", "late"}});
  });
  json r = client_->Call("ReceiveMessage", {{"queueName", Queue()}, {"pollingWaitSeconds", "10"}});
  sender.join();
  ASSERT_EQ(r["code"], 0) << r.dump();
  EXPECT_EQ(r["msgBody"], "late");
}

TEST_F(QueueApiTest, DelayedMessageIsHiddenThenVisible) {
  Create(Queue());
  ASSERT_EQ(
      client_->Call("SendMessage",
                    {{"queueName", Queue()}, {"msgBody", "d"}, {"delaySeconds", "1"}})["code"],
      0);
  ExpectError(
      client_->Call("ReceiveMessage", {{"queueName", Queue()}, {"pollingWaitSeconds", "0"}}), 7000,
      "10200");
  EXPECT_EQ(client_->Call("GetQueueAttributes", {{"queueName", Queue()}})["delayMsgNum"], 1);
  json r = client_->Call("ReceiveMessage", {{"queueName", Queue()}, {"pollingWaitSeconds", "5"}});
  EXPECT_EQ(r["code"], 0) << r.dump();
  ExpectError(client_->Call("SendMessage",
                            {{"queueName", Queue()}, {"msgBody", "d"}, {"delaySeconds", "3601"}}),
              4000, "10692");
}

TEST_F(QueueApiTest, VisibilityTimeoutRedeliversAndInvalidatesTheOldHandle) {
  Create(Queue(), {{"visibilityTimeout", "1"}});
  client_->Call("SendMessage", {{"queueName", Queue()}, {"msgBody", "v"}});
  json first = client_->Call("ReceiveMessage", {{"queueName", Queue()}});
  ASSERT_EQ(first["code"], 0);
  json second =
      client_->Call("ReceiveMessage", {{"queueName", Queue()}, {"pollingWaitSeconds", "5"}});
  ASSERT_EQ(second["code"], 0) << second.dump();
  EXPECT_EQ(second["msgId"], first["msgId"]);
  EXPECT_EQ(second["dequeueCount"], 2);
  ExpectError(client_->Call("DeleteMessage",
                            {{"queueName", Queue()}, {"receiptHandle", first["receiptHandle"]}}),
              4430, "10260");
  EXPECT_EQ(client_->Call("DeleteMessage", {{"queueName", Queue()},
                                            {"receiptHandle", second["receiptHandle"]}})["code"],
            0);
}

TEST_F(QueueApiTest, RewindServesDeletedMessagesAgain) {
  Create(Queue("-off"));
  ExpectError(client_->Call("RewindQueue", {{"queueName", Queue("-off")},
                                            {"startConsumeTime", std::to_string(time(nullptr))}}),
              6050, "10670");
  Create(Queue(), {{"rewindSeconds", "3600"}});
  int64_t start = time(nullptr) - 1;
  json s = client_->Call("SendMessage", {{"queueName", Queue()}, {"msgBody", "again"}});
  json r = client_->Call("ReceiveMessage", {{"queueName", Queue()}});
  ASSERT_EQ(client_->Call("DeleteMessage",
                          {{"queueName", Queue()}, {"receiptHandle", r["receiptHandle"]}})["code"],
            0);
  EXPECT_EQ(client_->Call("GetQueueAttributes", {{"queueName", Queue()}})["rewindmsgNum"], 1);
  ASSERT_EQ(client_->Call("RewindQueue", {{"queueName", Queue()},
                                          {"startConsumeTime", std::to_string(start)}})["code"],
            0);
  json again = client_->Call("ReceiveMessage", {{"queueName", Queue()}});
  ASSERT_EQ(again["code"], 0) << again.dump();
  EXPECT_EQ(again["msgId"], s["msgId"]);
  EXPECT_EQ(again["msgBody"], "again");
}

TEST_F(QueueApiTest, BadRequestsGetCmqErrors) {
  ExpectError(client_->Call("NoSuchAction", {}), 4000, "10430");
  ExpectError(client_->Call("SendMessage", {{"msgBody", "x"}}), 4000, "10390");
  RawResponse missing = client_->Request(http::verb::post, "/v2/index.php", "queueName=x");
  EXPECT_EQ(missing.status, 200u);
  ExpectError(json::parse(missing.body), 4000, "10280");
  RawResponse put = client_->Request(http::verb::put, "/v2/index.php", "Action=ListQueue");
  EXPECT_EQ(put.status, 200u);
  ExpectError(json::parse(put.body), 4000, "10410");
  RawResponse dup = client_->Request(http::verb::post, "/", "Action=ListQueue&limit=1&limit=2");
  ExpectError(json::parse(dup.body), 4000, "10330");
}

TEST_F(QueueApiTest, GetWithQueryStringAndAnyPathWorks) {
  Create(Queue());
  RawResponse r =
      client_->Request(http::verb::get, "/?Action=getQueueAttributes&queueName=" + Queue(), "", "");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(json::parse(r.body)["code"], 0) << r.body;
}

TEST_F(QueueApiTest, OversizedRequestIsRefusedWithACmqError) {
  std::string body = "Action=SendMessage&queueName=x&msgBody=" + std::string(5 << 20, 'a');
  RawResponse r = client_->Request(http::verb::post, "/v2/index.php", body);
  EXPECT_EQ(r.status, 200u);
  ExpectError(json::parse(r.body), 4000, "10420");
}

TEST_F(QueueApiTest, ActionNamesMatchCaseInsensitively) {
  json r = client_->Call("listqueue", {});
  EXPECT_EQ(r["code"], 0) << r.dump();
}

}  // namespace
}  // namespace cmq::testing
