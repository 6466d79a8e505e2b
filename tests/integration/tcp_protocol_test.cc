// The CMQ TCP protocol against a real cmqd (spec/cmq-tcp-protocol.md): what the official
// TCP SDK does, frame by frame. Accounts are configured, so authentication is checked;
// queues and topics are made over signed HTTP, as the SDK's users do.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "cmqd_process.h"
#include "http_client.h"
#include "tcp_wire.h"
#include "test_support/free_port.h"

namespace cmq::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr char kSecretId[] = "AKIDtcp";
constexpr char kSecretKey[] = "tcp-s3cret";

class TcpProtocolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string dir = MakeTempDir("cmq-tcp");
    std::ofstream(dir + "/cmqd.json") << R"({"accounts": [{"secret_id": ")" << kSecretId
                                      << R"(", "secret_key": ")" << kSecretKey << R"("}]})";
    tcp_port_ = FreeLoopbackPort();
    server_ = new CmqdProcess(
        dir, {"--config", dir + "/cmqd.json", "--tcp", "127.0.0.1:" + std::to_string(tcp_port_)});
    server_->Start();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    http_ = std::make_unique<HttpClient>(server_->port());
    http_->SetCredentials(kSecretId, kSecretKey);
  }

  std::string Name(const std::string& prefix) {
    std::string name = prefix + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '_', '-');
    return name.substr(0, 64);
  }
  std::string CreateQueue(FormParams extra = {}) {
    std::string name = Name("q-");
    extra.insert(extra.begin(), {"queueName", name});
    json r = http_->Call("CreateQueue", extra);
    EXPECT_EQ(r["code"], 0) << r.dump();
    return name;
  }
  std::unique_ptr<TcpWire> Authed() {
    auto wire = std::make_unique<TcpWire>(tcp_port_);
    auto answer = wire->Auth(kSecretId, kSecretKey);
    EXPECT_EQ(answer.result(), 0) << answer.error();
    return wire;
  }

  static CmqdProcess* server_;
  static int tcp_port_;
  std::unique_ptr<HttpClient> http_;
};

CmqdProcess* TcpProtocolTest::server_ = nullptr;
int TcpProtocolTest::tcp_port_ = 0;

TEST_F(TcpProtocolTest, QueryQueueRouteAnswersTheTcpAddress) {
  std::string queue = CreateQueue();
  json r = http_->Call("QueryQueueRoute", {{"queueName", queue}});
  ASSERT_EQ(r["code"], 0) << r.dump();
  ASSERT_TRUE(r["addr"].is_array());
  ASSERT_EQ(r["addr"].size(), 1u);
  EXPECT_EQ(r["addr"][0], "127.0.0.1:" + std::to_string(tcp_port_));
  json missing = http_->Call("QueryQueueRoute", {{"queueName", "no-such-queue"}});
  EXPECT_NE(missing["code"], 0) << missing.dump();
  json r2 = http_->Call("CreateTopic", {{"topicName", Name("t-")}});
  ASSERT_EQ(r2["code"], 0) << r2.dump();
  json topic = http_->Call("QueryTopicRoute", {{"topicName", Name("t-")}});
  EXPECT_EQ(topic["code"], 0) << topic.dump();
  EXPECT_EQ(topic["addr"].size(), 1u);
}

TEST_F(TcpProtocolTest, AuthenticationIsOncePerConnectionAndChecked) {
  std::string queue = CreateQueue();
  TcpWire wire(tcp_port_);
  // A heartbeat is answered before authentication; a data command is refused with 306,
  // and the connection stays usable.
  cmq::tcp::CMQProto heartbeat;
  heartbeat.set_cmd(1040);
  EXPECT_EQ(wire.Call(heartbeat).cmd(), 1040);
  auto refused = wire.Call(SendRequest(queue, "x"));
  EXPECT_EQ(refused.result(), 306);
  // The wrong key: 4100 with a text; an unknown secret id too.
  auto wrong = wire.Auth(kSecretId, "not-the-key");
  EXPECT_EQ(wrong.result(), 4100);
  EXPECT_FALSE(wrong.error().empty());
  EXPECT_EQ(wire.Auth("AKIDnobody", kSecretKey).result(), 4100);
  EXPECT_EQ(wire.Call(SendRequest(queue, "x")).result(), 306);
  // The right key, SHA-1 or SHA-256.
  EXPECT_EQ(wire.Auth(kSecretId, kSecretKey, "HmacSHA256").result(), 0);
  auto sent = wire.Call(SendRequest(queue, "after auth"));
  EXPECT_EQ(sent.result(), 0) << sent.error();
  ASSERT_EQ(sent.msgids_size(), 1);
  EXPECT_NE(sent.msgids(0), 0u);
}

TEST_F(TcpProtocolTest, SendPullDeleteKeepBodiesByteForByte) {
  std::string queue = CreateQueue();
  auto wire = Authed();
  std::string body;
  for (int i = 0; i < 256; ++i) body.push_back(static_cast<char>(i));  // not UTF-8
  auto sent = wire->Call(SendRequest(queue, body));
  ASSERT_EQ(sent.result(), 0) << sent.error();
  EXPECT_EQ(sent.cmd(), 1021);
  auto pulled = wire->Call(PullRequest(queue, 1));
  ASSERT_EQ(pulled.result(), 0) << pulled.error();
  ASSERT_TRUE(pulled.has_pull_rsp());
  EXPECT_EQ(pulled.pull_rsp().msg_id(), sent.msgids(0));
  EXPECT_EQ(pulled.pull_rsp().msg_body(), body);
  EXPECT_EQ(pulled.pull_rsp().dequeue_count(), 1);
  EXPECT_GT(pulled.pull_rsp().enqueue_time(), 1'600'000'000);  // Unix seconds
  EXPECT_EQ(wire->Call(DeleteRequest(queue, pulled.pull_rsp().receipt_handle())).result(), 0);
  // The handle is spent, and the queue is empty: 10200, what the SDK's loop looks for.
  EXPECT_NE(wire->Call(DeleteRequest(queue, pulled.pull_rsp().receipt_handle())).result(), 0);
  auto empty = wire->Call(PullRequest(queue, 0));
  EXPECT_EQ(empty.result(), 10200);
  EXPECT_FALSE(empty.has_pull_rsp());
}

TEST_F(TcpProtocolTest, BatchesKeepOrderAndReportFailedHandles) {
  std::string queue = CreateQueue();
  auto wire = Authed();
  cmq::tcp::CMQProto batch;
  batch.set_cmd(1022);
  batch.mutable_tcp_batch_send_msg()->set_queue_name(queue);
  for (const char* b : {"one", "two", "three"}) batch.mutable_tcp_batch_send_msg()->add_msgbody(b);
  auto sent = wire->Call(batch);
  ASSERT_EQ(sent.result(), 0) << sent.error();
  ASSERT_EQ(sent.msgids_size(), 3);
  cmq::tcp::CMQProto pull;
  pull.set_cmd(1024);
  pull.mutable_tcp_batch_pull_msg()->set_queue_name(queue);
  pull.mutable_tcp_batch_pull_msg()->set_num_msg(16);
  pull.mutable_tcp_batch_pull_msg()->set_poll_wait_seconds(1);
  auto pulled = wire->Call(pull);
  ASSERT_EQ(pulled.result(), 0) << pulled.error();
  const auto& list = pulled.batch_pull_rsp().msg_list();
  ASSERT_EQ(list.size(), 3);
  std::set<uint64_t> ids(sent.msgids().begin(), sent.msgids().end());
  cmq::tcp::CMQProto del;
  del.set_cmd(1026);
  del.mutable_tcp_batch_delete_msg()->set_queue_name(queue);
  for (const auto& m : list) {
    EXPECT_TRUE(ids.count(m.msg_id())) << m.msg_id();
    del.mutable_tcp_batch_delete_msg()->add_receipt_handle_list(m.receipt_handle());
  }
  const uint64_t bogus = 12345;
  del.mutable_tcp_batch_delete_msg()->add_receipt_handle_list(bogus);
  auto deleted = wire->Call(del);
  EXPECT_EQ(deleted.result(), 6010);
  ASSERT_EQ(deleted.del_result_size(), 1);  // only the failed handle is listed
  EXPECT_EQ(deleted.del_result(0).receipt_handle(), bogus);
  EXPECT_NE(deleted.del_result(0).err_code(), 0);
  EXPECT_EQ(wire->Call(PullRequest(queue, 0)).result(), 10200);
}

TEST_F(TcpProtocolTest, ALongPollDoesNotHoldUpLaterRequests) {
  std::string queue = CreateQueue();
  auto wire = Authed();
  // A pull waiting on the empty queue, then a send on the same connection: the send's
  // answer comes first, then the pull's with the message it sent (answers out of order).
  cmq::tcp::CMQProto pull = PullRequest(queue, 10);
  pull.set_seqno(wire->NextSeqno());
  wire->Write(pull);
  std::this_thread::sleep_for(200ms);
  cmq::tcp::CMQProto send = SendRequest(queue, "wake up");
  send.set_seqno(wire->NextSeqno());
  const auto start = std::chrono::steady_clock::now();
  wire->Write(send);
  auto first = wire->Read();
  auto second = wire->Read();
  ASSERT_TRUE(first && second);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(first->seqno(), send.seqno());
  EXPECT_EQ(first->result(), 0);
  EXPECT_EQ(second->seqno(), pull.seqno());
  ASSERT_EQ(second->result(), 0) << second->error();
  EXPECT_EQ(second->pull_rsp().msg_body(), "wake up");
}

TEST_F(TcpProtocolTest, APerPullVisibilityTimeoutOverridesTheQueues) {
  std::string queue = CreateQueue({{"visibilityTimeout", "600"}});
  auto wire = Authed();
  ASSERT_EQ(wire->Call(SendRequest(queue, "soon again")).result(), 0);
  cmq::tcp::CMQProto pull = PullRequest(queue, 0);
  pull.mutable_tcp_pull_msg()->set_visible_timeout(1);
  auto first = wire->Call(pull);
  ASSERT_EQ(first.result(), 0) << first.error();
  // Visible again after one second, not ten minutes.
  auto again = wire->Call(PullRequest(queue, 5));
  ASSERT_EQ(again.result(), 0) << again.error();
  EXPECT_EQ(again.pull_rsp().msg_id(), first.pull_rsp().msg_id());
  EXPECT_EQ(again.pull_rsp().dequeue_count(), 2);
}

TEST_F(TcpProtocolTest, PublishReachesSubscribedQueuesByTag) {
  std::string queue = CreateQueue();
  std::string topic = Name("t-");
  ASSERT_EQ(http_->Call("CreateTopic", {{"topicName", topic}})["code"], 0);
  json sub = http_->Call("Subscribe", {{"topicName", topic},
                                       {"subscriptionName", "s1"},
                                       {"protocol", "queue"},
                                       {"endpoint", queue},
                                       {"filterTag.1", "paid"}});
  ASSERT_EQ(sub["code"], 0) << sub.dump();
  auto wire = Authed();
  cmq::tcp::CMQProto publish;
  publish.set_cmd(1027);
  publish.mutable_tcp_publish_msg()->set_topic_name(topic);
  publish.mutable_tcp_publish_msg()->set_msgbody("order-42");
  publish.mutable_tcp_publish_msg()->add_msgtags("paid");
  auto published = wire->Call(publish);
  ASSERT_EQ(published.result(), 0) << published.error();
  ASSERT_EQ(published.msgids_size(), 1);
  cmq::tcp::CMQProto other = publish;
  other.clear_seqno();
  other.mutable_tcp_publish_msg()->clear_msgtags();
  other.mutable_tcp_publish_msg()->add_msgtags("unpaid");
  other.mutable_tcp_publish_msg()->set_msgbody("order-43");
  // No subscription takes that tag: refused as over HTTP (6030, "(10730)...").
  EXPECT_EQ(wire->Call(other).result(), 6030);
  cmq::tcp::CMQProto batch;
  batch.set_cmd(1028);
  batch.mutable_tcp_batch_publish_msg()->set_topic_name(topic);
  batch.mutable_tcp_batch_publish_msg()->add_msgbody("order-44");
  batch.mutable_tcp_batch_publish_msg()->add_msgbody("order-45");
  batch.mutable_tcp_batch_publish_msg()->add_msgtags("paid");
  auto batched = wire->Call(batch);
  ASSERT_EQ(batched.result(), 0) << batched.error();
  EXPECT_EQ(batched.msgids_size(), 2);
  std::multiset<std::string> got;
  for (int i = 0; i < 3; ++i) {
    auto pulled = wire->Call(PullRequest(queue, 3));
    ASSERT_EQ(pulled.result(), 0) << pulled.error();
    got.insert(pulled.pull_rsp().msg_body());
  }
  EXPECT_EQ(got, (std::multiset<std::string>{"order-42", "order-44", "order-45"}));
  EXPECT_EQ(wire->Call(PullRequest(queue, 0)).result(), 10200);
}

TEST_F(TcpProtocolTest, ErrorsUseTheHttpCodes) {
  auto wire = Authed();
  auto missing = wire->Call(SendRequest("no-such-queue", "x"));
  EXPECT_EQ(missing.result(), 4440) << missing.error();
  EXPECT_EQ(missing.error().rfind("(", 0), 0u) << missing.error();
  EXPECT_EQ(wire->Call(SendRequest("1-bad-name", "x")).result(), 4000);
  std::string queue = CreateQueue();
  EXPECT_EQ(wire->Call(SendRequest(queue, "")).result(), 4000);  // empty body
  cmq::tcp::CMQProto transaction = SendRequest(queue, "half");
  transaction.mutable_tcp_send_msg()->set_is_transaction(1);
  transaction.mutable_tcp_send_msg()->set_delay_seconds(5);  // not for transactions
  EXPECT_EQ(wire->Call(transaction).result(), 4490);
  cmq::tcp::CMQProto unknown;
  unknown.set_cmd(1099);
  auto answer = wire->Call(unknown);
  EXPECT_EQ(answer.cmd(), 1099);
  EXPECT_EQ(answer.result(), 4000);
  // A send without its required queue_name: answered, not dropped.
  cmq::tcp::CMQProto partial;
  partial.set_cmd(1021);
  partial.mutable_tcp_send_msg()->set_msgbody("x");
  EXPECT_EQ(wire->Call(partial).result(), 4000);
  // A transaction confirm is one-way: no answer; the heartbeat after it is the next one.
  cmq::tcp::CMQProto confirm;
  confirm.set_cmd(1041);
  confirm.set_seqno(wire->NextSeqno());
  confirm.mutable_transaction_confirm()->set_queue_name(queue);
  wire->Write(confirm);
  cmq::tcp::CMQProto heartbeat;
  heartbeat.set_cmd(1040);
  EXPECT_EQ(wire->Call(heartbeat).cmd(), 1040);
}

TEST_F(TcpProtocolTest, AnUnreadableFrameClosesTheConnection) {
  {
    TcpWire wire(tcp_port_);
    wire.WriteRaw(std::string("\x01\x00\x10\x00\x00\x00", 6) + std::string(10, 'x'));
    EXPECT_FALSE(wire.Read().has_value());
  }
  {
    TcpWire wire(tcp_port_);
    wire.WriteRaw(std::string("\x00\x00\xff\xff\xff\x7f", 6));  // 2 GiB announced
    EXPECT_FALSE(wire.Read().has_value());
  }
  {
    TcpWire wire(tcp_port_);
    std::string frame;
    cmq::tcp::AppendFrameHeader(frame, 4);
    frame += "\xff\xff\xff\xff";  // not a CMQProto
    wire.WriteRaw(frame);
    EXPECT_FALSE(wire.Read().has_value());
  }
  // The server still serves.
  auto wire = Authed();
  cmq::tcp::CMQProto heartbeat;
  heartbeat.set_cmd(1040);
  EXPECT_EQ(wire->Call(heartbeat).cmd(), 1040);
}

}  // namespace
}  // namespace cmq::testing
