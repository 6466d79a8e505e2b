// The CMQ TCP protocol's data commands (1021..1028) through the Dispatcher, as the TCP
// listener hands them on: HttpRequest{tcp = true, body = a serialized CMQProto}, answered
// with a serialized CMQProto that echoes seqno and cmd (spec/cmq-tcp-protocol.md §6, §7).

#include "api/tcp_actions.h"

#include <gtest/gtest.h>

#include <set>

#include "api_test_util.h"

namespace cmq::api {
namespace {

using testing::DispatcherHarness;

class TcpActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(h.Post({{"Action", "CreateQueue"}, {"queueName", "q"}})["code"], 0);
    ASSERT_EQ(h.Post({{"Action", "CreateTopic"}, {"topicName", "t"}})["code"], 0);
    ASSERT_EQ(h.Post({{"Action", "CreateTopic"}, {"topicName", "rt"}, {"filterType", "2"}})["code"],
              0);
    // Publishing needs a subscription (6030 otherwise): one queue takes both topics'.
    ASSERT_EQ(h.Post({{"Action", "CreateQueue"}, {"queueName", "sink"}})["code"], 0);
    ASSERT_EQ(h.Post({{"Action", "Subscribe"},
                      {"topicName", "t"},
                      {"subscriptionName", "s"},
                      {"protocol", "queue"},
                      {"endpoint", "sink"}})["code"],
              0);
    ASSERT_EQ(h.Post({{"Action", "Subscribe"},
                      {"topicName", "rt"},
                      {"subscriptionName", "s"},
                      {"protocol", "queue"},
                      {"endpoint", "sink"},
                      {"bindingKey.1", "#"}})["code"],
              0);
    h.service.submitted = 0;  // counts what the tests submit
  }

  // A request with a fresh seqno (large, to see that all 64 bits come back).
  tcp::CMQProto Request(int cmd) {
    tcp::CMQProto m;
    m.set_seqno(next_seqno_++);
    m.set_cmd(cmd);
    return m;
  }

  static HttpRequest TcpRequest(std::string body) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.tcp = true;
    r.body = std::move(body);
    return r;
  }

  // Parses an answer; it must carry every required field (the SDK drops it otherwise).
  static tcp::CMQProto Parse(const HttpResponse& response) {
    tcp::CMQProto answer;
    EXPECT_TRUE(answer.ParseFromString(response.body))
        << "not a complete CMQProto: " << answer.InitializationErrorString();
    return answer;
  }

  // Runs m (serialized even if a required field is missing) and checks the echo.
  tcp::CMQProto Call(const tcp::CMQProto& m) {
    HttpRequest r = TcpRequest(m.SerializePartialAsString());
    r.route_name = TcpRouteName(m);
    tcp::CMQProto answer = Parse(h.Raw(std::move(r)));
    EXPECT_EQ(answer.seqno(), m.seqno());
    EXPECT_EQ(answer.cmd(), m.cmd());
    return answer;
  }

  tcp::CMQProto Send(const std::string& body, const std::string& queue = "q") {
    tcp::CMQProto m = Request(kTcpSend);
    m.mutable_tcp_send_msg()->set_queue_name(queue);
    m.mutable_tcp_send_msg()->set_msgbody(body);
    return Call(m);
  }

  tcp::CMQProto Pull(const std::string& queue = "q") {
    tcp::CMQProto m = Request(kTcpPull);
    m.mutable_tcp_pull_msg()->set_queue_name(queue);
    m.mutable_tcp_pull_msg()->set_poll_wait_seconds(0);
    return Call(m);
  }

  tcp::CMQProto BatchPull(int num, const std::string& queue = "q") {
    tcp::CMQProto m = Request(kTcpBatchPull);
    m.mutable_tcp_batch_pull_msg()->set_queue_name(queue);
    m.mutable_tcp_batch_pull_msg()->set_num_msg(num);
    return Call(m);
  }

  static std::string AllBytes() {
    std::string bytes;
    for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
    return bytes;
  }

  DispatcherHarness h;
  int64_t next_seqno_ = (int64_t{1} << 40) + 1;
};

TEST_F(TcpActionsTest, SendAnswersTheMintedMsgId) {
  tcp::CMQProto m = Request(kTcpSend);
  m.mutable_tcp_send_msg()->set_queue_name("q");
  m.mutable_tcp_send_msg()->set_msgbody("hello");
  m.mutable_tcp_send_msg()->set_delay_seconds(0);
  m.set_request_id(7);
  tcp::CMQProto a = Call(m);
  EXPECT_EQ(a.result(), 0) << a.error();
  EXPECT_FALSE(a.has_error());
  ASSERT_EQ(a.msgids_size(), 1);
  EXPECT_NE(a.msgids(0), 0u);
  auto received = h.Post({{"Action", "ReceiveMessage"}, {"queueName", "q"}});
  ASSERT_EQ(received["code"], 0) << received;
  EXPECT_EQ(received["msgId"], std::to_string(a.msgids(0)));
  EXPECT_EQ(received["msgBody"], "hello");
}

TEST_F(TcpActionsTest, SendPassesDelaySeconds) {
  tcp::CMQProto m = Request(kTcpSend);
  m.mutable_tcp_send_msg()->set_queue_name("q");
  m.mutable_tcp_send_msg()->set_msgbody("later");
  m.mutable_tcp_send_msg()->set_delay_seconds(5);
  ASSERT_EQ(Call(m).result(), 0);
  EXPECT_EQ(h.service.last_command().type, mq::CommandType::kSendMessages);
  EXPECT_EQ(h.service.last_command().queue_name, "q");
  EXPECT_EQ(h.service.last_command().delay_seconds, 5);
  EXPECT_EQ(Pull().result(), kTcpResultNoMessage);  // not visible yet
}

TEST_F(TcpActionsTest, BatchSendAnswersIdsInRequestOrder) {
  tcp::CMQProto m = Request(kTcpBatchSend);
  auto* b = m.mutable_tcp_batch_send_msg();
  b->set_queue_name("q");
  for (int i = 0; i < 4; ++i) b->add_msgbody("m" + std::to_string(i));
  tcp::CMQProto a = Call(m);
  EXPECT_EQ(a.result(), 0) << a.error();
  ASSERT_EQ(a.msgids_size(), 4);
  auto received =
      h.Post({{"Action", "BatchReceiveMessage"}, {"queueName", "q"}, {"numOfMsg", "16"}});
  ASSERT_EQ(received["msgInfoList"].size(), 4u) << received;
  for (const auto& info : received["msgInfoList"]) {
    const std::string body = info["msgBody"];
    const int index = body[1] - '0';
    EXPECT_EQ(info["msgId"], std::to_string(a.msgids(index))) << body;
  }
}

TEST_F(TcpActionsTest, PullAnswersEveryFieldAndABinaryBodyByteExact) {
  h.clock.Set(1'700'000'000'500);
  const std::string bytes = AllBytes();
  tcp::CMQProto sent = Send(bytes);
  ASSERT_EQ(sent.result(), 0) << sent.error();
  ASSERT_EQ(sent.msgids_size(), 1);
  h.clock.Advance(1000);
  tcp::CMQProto a = Pull();
  EXPECT_EQ(a.result(), 0) << a.error();
  ASSERT_TRUE(a.has_pull_rsp());
  EXPECT_FALSE(a.has_batch_pull_rsp());
  const tcp::cmq_pull_msg_rsp& p = a.pull_rsp();
  EXPECT_EQ(p.msg_id(), sent.msgids(0));
  EXPECT_NE(p.receipt_handle(), 0u);
  ASSERT_EQ(p.msg_body().size(), 256u);
  EXPECT_EQ(p.msg_body(), bytes);
  EXPECT_EQ(p.enqueue_time(), 1'700'000'000);  // seconds, as HTTP answers them
  EXPECT_EQ(p.first_dequeue_time(), 1'700'000'001);
  EXPECT_EQ(p.next_visible_time(), 1'700'000'001 + 30);  // the queue's visibility timeout
  EXPECT_EQ(p.dequeue_count(), 1);
  EXPECT_EQ(h.service.last_wait_seconds, 0);
  ASSERT_TRUE(h.service.last_receive.has_value());
  EXPECT_EQ(h.service.last_receive->num_messages, 1u);
  EXPECT_FALSE(h.service.last_receive->visibility_timeout_s.has_value());
}

TEST_F(TcpActionsTest, PullWaitAndVisibleTimeoutReachTheService) {
  ASSERT_EQ(Send("x").result(), 0);
  tcp::CMQProto m = Request(kTcpPull);
  m.mutable_tcp_pull_msg()->set_queue_name("q");
  m.mutable_tcp_pull_msg()->set_poll_wait_seconds(7);
  m.mutable_tcp_pull_msg()->set_visible_timeout(100);
  tcp::CMQProto a = Call(m);
  ASSERT_EQ(a.result(), 0) << a.error();
  EXPECT_EQ(h.service.last_wait_seconds, 7);
  ASSERT_TRUE(h.service.last_receive.has_value());
  EXPECT_EQ(h.service.last_receive->visibility_timeout_s, 100);
  EXPECT_EQ(a.pull_rsp().next_visible_time() - a.pull_rsp().first_dequeue_time(), 100);

  // No poll_wait_seconds: the queue's pollingWaitSeconds.
  tcp::CMQProto no_wait = Request(kTcpPull);
  no_wait.mutable_tcp_pull_msg()->set_queue_name("q");
  EXPECT_EQ(Call(no_wait).result(), kTcpResultNoMessage);
  EXPECT_FALSE(h.service.last_wait_seconds.has_value());

  // Batch pulls take both too.
  tcp::CMQProto batch = Request(kTcpBatchPull);
  batch.mutable_tcp_batch_pull_msg()->set_queue_name("q");
  batch.mutable_tcp_batch_pull_msg()->set_num_msg(3);
  batch.mutable_tcp_batch_pull_msg()->set_poll_wait_seconds(2);
  batch.mutable_tcp_batch_pull_msg()->set_visible_timeout(60);
  EXPECT_EQ(Call(batch).result(), kTcpResultNoMessage);
  EXPECT_EQ(h.service.last_wait_seconds, 2);
  EXPECT_EQ(h.service.last_receive->num_messages, 3u);
  EXPECT_EQ(h.service.last_receive->visibility_timeout_s, 60);
}

TEST_F(TcpActionsTest, PullValidation) {
  auto pull = [&](const std::string& queue, std::optional<int32_t> wait,
                  std::optional<uint32_t> visible) {
    tcp::CMQProto m = Request(kTcpPull);
    m.mutable_tcp_pull_msg()->set_queue_name(queue);
    if (wait) m.mutable_tcp_pull_msg()->set_poll_wait_seconds(*wait);
    if (visible) m.mutable_tcp_pull_msg()->set_visible_timeout(*visible);
    return Call(m);
  };
  tcp::CMQProto too_long = pull("q", 31, std::nullopt);
  EXPECT_EQ(too_long.result(), 4000);
  EXPECT_EQ(too_long.error(), "(10350)parameter poll_wait_seconds value or length is out of range");
  EXPECT_EQ(pull("q", -1, std::nullopt).result(), 4000);
  EXPECT_EQ(pull("q", 30, std::nullopt).result(), kTcpResultNoMessage);
  EXPECT_EQ(pull("q", 0, 43'201).result(), 4000);
  EXPECT_EQ(pull("q", 0, 43'200).result(), kTcpResultNoMessage);
  tcp::CMQProto bad_name = pull("bad name!", 0, std::nullopt);
  EXPECT_EQ(bad_name.result(), 4000);
  EXPECT_EQ(bad_name.error(), "(10020)queue name format error");
  tcp::CMQProto empty_name = pull("", 0, std::nullopt);
  EXPECT_EQ(empty_name.result(), 4000);
  EXPECT_EQ(empty_name.error(), "(10390)lacked of required parameter queue_name");
  tcp::CMQProto missing = pull("nosuch", 0, std::nullopt);
  EXPECT_EQ(missing.result(), 4440);
  EXPECT_EQ(missing.error(), "(10100)queue is not existed, or deleted");
  EXPECT_FALSE(missing.has_pull_rsp());
}

TEST_F(TcpActionsTest, EmptyPullIs10200WithoutAPullRsp) {
  tcp::CMQProto a = Pull();
  EXPECT_EQ(a.result(), kTcpResultNoMessage);
  EXPECT_EQ(a.error(), "(10200)no message");
  EXPECT_FALSE(a.has_pull_rsp());  // one without msg_id would break the SDK's decoder
  tcp::CMQProto b = BatchPull(16);
  EXPECT_EQ(b.result(), kTcpResultNoMessage);
  EXPECT_FALSE(b.has_batch_pull_rsp());
}

TEST_F(TcpActionsTest, BatchPullReturnsWhatIsVisibleInOrder) {
  std::vector<uint64_t> ids;
  const std::string bytes = AllBytes();
  for (int i = 0; i < 3; ++i) {
    tcp::CMQProto sent = Send(bytes + std::to_string(i));
    ASSERT_EQ(sent.msgids_size(), 1);
    ids.push_back(sent.msgids(0));
  }
  tcp::CMQProto a = BatchPull(16);
  EXPECT_EQ(a.result(), 0) << a.error();
  EXPECT_FALSE(a.has_pull_rsp());
  ASSERT_EQ(a.batch_pull_rsp().msg_list_size(), 3);
  std::set<uint64_t> handles;
  for (int i = 0; i < 3; ++i) {
    const auto& m = a.batch_pull_rsp().msg_list(i);
    EXPECT_EQ(m.msg_id(), ids[i]);
    EXPECT_EQ(m.msg_body(), bytes + std::to_string(i));
    EXPECT_EQ(m.dequeue_count(), 1);
    handles.insert(m.receipt_handle());
  }
  EXPECT_EQ(handles.size(), 3u);
  EXPECT_EQ(h.service.last_receive->num_messages, 16u);
  // num_msg caps the batch.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Send("more").result(), 0);
  EXPECT_EQ(BatchPull(2).batch_pull_rsp().msg_list_size(), 2);
}

TEST_F(TcpActionsTest, BatchPullNumMsgMustBe1To16) {
  for (int num : {0, 17, -1}) {
    tcp::CMQProto a = BatchPull(num);
    EXPECT_EQ(a.result(), 4000) << num;
    EXPECT_EQ(a.error(), "(10370)num_msg parameter batch size is out of range") << num;
  }
  EXPECT_EQ(BatchPull(1).result(), kTcpResultNoMessage);
  EXPECT_EQ(BatchPull(16).result(), kTcpResultNoMessage);
  EXPECT_EQ(BatchPull(1, "nosuch").result(), 4440);
}

TEST_F(TcpActionsTest, DeleteByReceiptHandle) {
  ASSERT_EQ(Send("x").result(), 0);
  const uint64_t handle = Pull().pull_rsp().receipt_handle();
  ASSERT_NE(handle, 0u);
  auto del = [&](uint64_t receipt_handle) {
    tcp::CMQProto m = Request(kTcpDelete);
    m.mutable_tcp_delete_msg()->set_queue_name("q");
    m.mutable_tcp_delete_msg()->set_receipt_handle(receipt_handle);
    return Call(m);
  };
  tcp::CMQProto ok = del(handle);
  EXPECT_EQ(ok.result(), 0) << ok.error();
  EXPECT_EQ(h.service.last_command().type, mq::CommandType::kDeleteMessages);
  EXPECT_EQ(h.service.last_command().receipt_handles, std::vector<uint64_t>{handle});
  tcp::CMQProto again = del(handle);
  EXPECT_EQ(again.result(), 4430);
  EXPECT_EQ(again.error(), "(10260)receipt handle is invalid");
  EXPECT_EQ(again.del_result_size(), 0);
}

TEST_F(TcpActionsTest, BatchDeleteListsOnlyTheFailedHandle) {
  for (int i = 0; i < 2; ++i) ASSERT_EQ(Send("m" + std::to_string(i)).result(), 0);
  tcp::CMQProto pulled = BatchPull(2);
  ASSERT_EQ(pulled.batch_pull_rsp().msg_list_size(), 2);
  const uint64_t h0 = pulled.batch_pull_rsp().msg_list(0).receipt_handle();
  const uint64_t h1 = pulled.batch_pull_rsp().msg_list(1).receipt_handle();
  const uint64_t bogus = 123456789;
  ASSERT_NE(bogus, h0);
  ASSERT_NE(bogus, h1);
  tcp::CMQProto m = Request(kTcpBatchDelete);
  m.mutable_tcp_batch_delete_msg()->set_queue_name("q");
  for (uint64_t handle : {h0, bogus, h1}) {
    m.mutable_tcp_batch_delete_msg()->add_receipt_handle_list(handle);
  }
  tcp::CMQProto a = Call(m);
  EXPECT_EQ(a.result(), 6010);
  EXPECT_EQ(a.error(), "(10150)delete message partially failed");
  ASSERT_EQ(a.del_result_size(), 1);
  EXPECT_EQ(a.del_result(0).receipt_handle(), bogus);
  EXPECT_EQ(a.del_result(0).err_code(), 4430);
  EXPECT_EQ(a.del_result(0).err_msg(), "(10260)receipt handle is invalid");

  // All good: result 0 and no del_result.
  ASSERT_EQ(Send("m2").result(), 0);
  const uint64_t h2 = Pull().pull_rsp().receipt_handle();
  tcp::CMQProto ok = Request(kTcpBatchDelete);
  ok.mutable_tcp_batch_delete_msg()->set_queue_name("q");
  ok.mutable_tcp_batch_delete_msg()->add_receipt_handle_list(h2);
  tcp::CMQProto b = Call(ok);
  EXPECT_EQ(b.result(), 0) << b.error();
  EXPECT_EQ(b.del_result_size(), 0);
}

TEST_F(TcpActionsTest, PublishWithTags) {
  tcp::CMQProto m = Request(kTcpPublish);
  auto* p = m.mutable_tcp_publish_msg();
  p->set_topic_name("t");
  p->set_msgbody("news");
  p->add_msgtags("a");
  p->add_msgtags("b");
  tcp::CMQProto a = Call(m);
  EXPECT_EQ(a.result(), 0) << a.error();
  ASSERT_EQ(a.msgids_size(), 1);
  EXPECT_NE(a.msgids(0), 0u);
  const mq::Command& cmd = h.service.last_command();
  EXPECT_EQ(cmd.type, mq::CommandType::kPublishMessages);
  EXPECT_EQ(cmd.topic_name, "t");
  EXPECT_EQ(cmd.msg_tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(cmd.routing_key, "");
}

TEST_F(TcpActionsTest, PublishWithRoutingKey) {
  tcp::CMQProto m = Request(kTcpPublish);
  m.mutable_tcp_publish_msg()->set_topic_name("rt");
  m.mutable_tcp_publish_msg()->set_msgbody("news");
  m.mutable_tcp_publish_msg()->set_routing_key("a.b.c");
  tcp::CMQProto a = Call(m);
  EXPECT_EQ(a.result(), 0) << a.error();
  ASSERT_EQ(a.msgids_size(), 1);
  EXPECT_EQ(h.service.last_command().routing_key, "a.b.c");
  EXPECT_TRUE(h.service.last_command().msg_tags.empty());
  // A routing topic without a key: the HTTP action's error.
  m.mutable_tcp_publish_msg()->clear_routing_key();
  tcp::CMQProto no_key = Call(m);
  EXPECT_EQ(no_key.result(), 4000);
  EXPECT_EQ(no_key.error(), "(10700)parameters lack of routingKey");
}

TEST_F(TcpActionsTest, BatchPublishAnswersOneIdPerBodyInOrder) {
  tcp::CMQProto m = Request(kTcpBatchPublish);
  auto* p = m.mutable_tcp_batch_publish_msg();
  p->set_topic_name("t");
  for (int i = 0; i < 5; ++i) p->add_msgbody("b" + std::to_string(i));
  p->add_msgtags("x");
  tcp::CMQProto a = Call(m);
  EXPECT_EQ(a.result(), 0) << a.error();
  ASSERT_EQ(a.msgids_size(), 5);
  for (int i = 1; i < 5; ++i) EXPECT_LT(a.msgids(i - 1), a.msgids(i));  // minted in order
  EXPECT_EQ(h.service.last_command().msg_tags, std::vector<std::string>{"x"});

  tcp::CMQProto r = Request(kTcpBatchPublish);
  r.mutable_tcp_batch_publish_msg()->set_topic_name("rt");
  r.mutable_tcp_batch_publish_msg()->add_msgbody("one");
  r.mutable_tcp_batch_publish_msg()->add_msgbody("two");
  r.mutable_tcp_batch_publish_msg()->set_routing_key("k");
  tcp::CMQProto b = Call(r);
  EXPECT_EQ(b.result(), 0) << b.error();
  EXPECT_EQ(b.msgids_size(), 2);
  EXPECT_EQ(h.service.last_command().routing_key, "k");
  EXPECT_LT(a.msgids(4), b.msgids(0));
}

TEST_F(TcpActionsTest, MissingQueueOrTopicAnswersTheHttpCodeAndMessage) {
  tcp::CMQProto a = Send("x", "nosuch");
  EXPECT_EQ(a.result(), 4440);
  EXPECT_EQ(a.error(), "(10100)queue is not existed, or deleted");
  EXPECT_EQ(a.msgids_size(), 0);
  tcp::CMQProto m = Request(kTcpPublish);
  m.mutable_tcp_publish_msg()->set_topic_name("nosuch");
  m.mutable_tcp_publish_msg()->set_msgbody("x");
  tcp::CMQProto p = Call(m);
  EXPECT_EQ(p.result(), 4440);
  EXPECT_EQ(p.error(), "(10600)topic is not existed, or deleted");
  tcp::CMQProto d = Request(kTcpDelete);
  d.mutable_tcp_delete_msg()->set_queue_name("nosuch");
  d.mutable_tcp_delete_msg()->set_receipt_handle(1);
  EXPECT_EQ(Call(d).result(), 4440);
}

TEST_F(TcpActionsTest, BadQueueNameIs4000) {
  tcp::CMQProto a = Send("x", "bad name!");
  EXPECT_EQ(a.result(), 4000);
  EXPECT_EQ(a.error(), "(10020)queue name format error");
  tcp::CMQProto m = Request(kTcpPublish);
  m.mutable_tcp_publish_msg()->set_topic_name("-bad");
  m.mutable_tcp_publish_msg()->set_msgbody("x");
  EXPECT_EQ(Call(m).result(), 4000);
}

TEST_F(TcpActionsTest, MessageBodyMissingOrEmpty) {
  tcp::CMQProto no_body = Request(kTcpSend);
  no_body.mutable_tcp_send_msg()->set_queue_name("q");
  tcp::CMQProto a = Call(no_body);
  EXPECT_EQ(a.result(), 4000);
  EXPECT_EQ(a.error(), "(10390)lacked of required parameter msgBody");
  tcp::CMQProto empty = Send("");
  EXPECT_EQ(empty.result(), 4000);
  EXPECT_EQ(empty.error(), "(10120)message body can't be empty");
  tcp::CMQProto batch = Request(kTcpBatchSend);
  batch.mutable_tcp_batch_send_msg()->set_queue_name("q");
  EXPECT_EQ(Call(batch).result(), 4000);  // no bodies at all
  batch.mutable_tcp_batch_send_msg()->add_msgbody("a");
  batch.mutable_tcp_batch_send_msg()->add_msgbody("");
  EXPECT_EQ(Call(batch).result(), 4000);
  EXPECT_EQ(h.service.submitted, 0);  // nothing reached the log
}

TEST_F(TcpActionsTest, BatchesOf17AreRefused) {
  tcp::CMQProto send = Request(kTcpBatchSend);
  send.mutable_tcp_batch_send_msg()->set_queue_name("q");
  tcp::CMQProto publish = Request(kTcpBatchPublish);
  publish.mutable_tcp_batch_publish_msg()->set_topic_name("t");
  tcp::CMQProto del = Request(kTcpBatchDelete);
  del.mutable_tcp_batch_delete_msg()->set_queue_name("q");
  for (int i = 0; i < 17; ++i) {
    send.mutable_tcp_batch_send_msg()->add_msgbody("x");
    publish.mutable_tcp_batch_publish_msg()->add_msgbody("x");
    del.mutable_tcp_batch_delete_msg()->add_receipt_handle_list(i + 1);
  }
  tcp::CMQProto a = Call(send);
  EXPECT_EQ(a.result(), 4000);
  EXPECT_EQ(a.error(), "(10370)msgBody parameter batch size is out of range");
  EXPECT_EQ(a.msgids_size(), 0);
  tcp::CMQProto b = Call(publish);
  EXPECT_EQ(b.result(), 4000);
  EXPECT_EQ(b.error(), "(10370)msgBody parameter batch size is out of range");
  EXPECT_EQ(Call(del).result(), 4000);
  EXPECT_EQ(h.service.submitted, 0);
  // 16 is fine.
  send.mutable_tcp_batch_send_msg()->mutable_msgbody()->RemoveLast();
  tcp::CMQProto ok = Call(send);
  EXPECT_EQ(ok.result(), 0) << ok.error();
  EXPECT_EQ(ok.msgids_size(), 16);
}

// Transaction messages (spec §6.9): a send with is_transaction = 1 stores half messages,
// which a pull does not see until a 1041 commits them; the producer is the connection's
// client id.
TEST_F(TcpActionsTest, TransactionSendIsHiddenUntilCommitted) {
  tcp::CMQProto m = Request(kTcpBatchSend);
  m.mutable_tcp_batch_send_msg()->set_queue_name("q");
  m.mutable_tcp_batch_send_msg()->add_msgbody("commit me");
  m.mutable_tcp_batch_send_msg()->add_msgbody("roll me back");
  m.mutable_tcp_batch_send_msg()->set_is_transaction(1);
  m.mutable_tcp_batch_send_msg()->set_first_query_interval(5000);
  HttpRequest r = TcpRequest(m.SerializeAsString());
  r.tcp_client_id = "producer-1";
  tcp::CMQProto a = Parse(h.Raw(std::move(r)));
  ASSERT_EQ(a.result(), 0) << a.error();
  ASSERT_EQ(a.msgids_size(), 2);
  EXPECT_EQ(h.service.last_command().type, mq::CommandType::kSendHalfMessages);
  EXPECT_EQ(h.service.last_command().producer, "producer-1");
  EXPECT_EQ(h.service.last_command().transaction_check_ms, 5000);
  EXPECT_EQ(Pull().result(), kTcpResultNoMessage);
  auto attributes = h.Post({{"Action", "GetQueueAttributes"}, {"queueName", "q"}});
  EXPECT_EQ(attributes["transactionMsgNum"], 2) << attributes;
  EXPECT_EQ(attributes["activeMsgNum"], 0) << attributes;

  tcp::CMQProto confirm = Request(kTcpTransactionConfirm);
  auto* body = confirm.mutable_transaction_confirm();
  body->set_queue_name("q");
  auto* commit = body->add_item();
  commit->set_msg_id(a.msgids(0));
  commit->set_state(1);
  auto* rollback = body->add_item();
  rollback->set_msg_id(a.msgids(1));
  rollback->set_state(2);
  auto* unknown = body->add_item();  // state 3 ("unknown") changes nothing
  unknown->set_msg_id(a.msgids(1));
  unknown->set_state(3);
  EXPECT_EQ(TcpRouteName(confirm), "q");
  EXPECT_EQ(Call(confirm).result(), 0);
  tcp::CMQProto pulled = BatchPull(16);
  ASSERT_EQ(pulled.result(), 0) << pulled.error();
  ASSERT_EQ(pulled.batch_pull_rsp().msg_list_size(), 1);
  EXPECT_EQ(pulled.batch_pull_rsp().msg_list(0).msg_id(), a.msgids(0));
  EXPECT_EQ(pulled.batch_pull_rsp().msg_list(0).msg_body(), "commit me");
  EXPECT_EQ(BatchPull(16).result(), kTcpResultNoMessage);  // the other was rolled back
}

// first_query_interval has no unit (spec §5.3): above 3600 milliseconds, else seconds;
// 0 or absent is 5 s.
TEST_F(TcpActionsTest, FirstQueryIntervalUnits) {
  const std::pair<std::optional<int32_t>, int64_t> cases[] = {
      {std::nullopt, 5'000}, {0, 5'000},    {5, 5'000}, {3600, 3'600'000},
      {3601, 3'601},         {5000, 5'000}, {1, 1'000},
  };
  for (const auto& [interval, expected_ms] : cases) {
    tcp::CMQProto m = Request(kTcpSend);
    m.mutable_tcp_send_msg()->set_queue_name("q");
    m.mutable_tcp_send_msg()->set_msgbody("half");
    m.mutable_tcp_send_msg()->set_is_transaction(1);
    if (interval) m.mutable_tcp_send_msg()->set_first_query_interval(*interval);
    tcp::CMQProto a = Call(m);
    ASSERT_EQ(a.result(), 0) << a.error();
    EXPECT_EQ(h.service.last_command().transaction_check_ms, expected_ms) << interval.value_or(-1);
  }
  for (int32_t bad : {-1, 43'200'001}) {
    tcp::CMQProto m = Request(kTcpSend);
    m.mutable_tcp_send_msg()->set_queue_name("q");
    m.mutable_tcp_send_msg()->set_msgbody("half");
    m.mutable_tcp_send_msg()->set_is_transaction(1);
    m.mutable_tcp_send_msg()->set_first_query_interval(bad);
    tcp::CMQProto a = Call(m);
    EXPECT_EQ(a.result(), 4000) << bad;
    EXPECT_EQ(a.error(), "(10350)parameter first_query_interval value or length is out of range")
        << bad;
  }
}

TEST_F(TcpActionsTest, TransactionSendCannotBeDelayed) {
  tcp::CMQProto m = Request(kTcpSend);
  m.mutable_tcp_send_msg()->set_queue_name("q");
  m.mutable_tcp_send_msg()->set_msgbody("half");
  m.mutable_tcp_send_msg()->set_is_transaction(1);
  m.mutable_tcp_send_msg()->set_delay_seconds(10);
  tcp::CMQProto a = Call(m);
  EXPECT_EQ(a.result(), 4490);
  EXPECT_EQ(a.error(), "(10780)operation not allowed: a transaction message cannot be delayed");
  EXPECT_EQ(h.service.submitted, 0);
  // A delay of 0 is no delay; is_transaction 0 is an ordinary send.
  m.mutable_tcp_send_msg()->set_delay_seconds(0);
  EXPECT_EQ(Call(m).result(), 0);
  EXPECT_EQ(h.service.last_command().type, mq::CommandType::kSendHalfMessages);
  m.mutable_tcp_send_msg()->set_is_transaction(0);
  EXPECT_EQ(Call(m).result(), 0);
  EXPECT_EQ(h.service.last_command().type, mq::CommandType::kSendMessages);
  EXPECT_EQ(Pull().result(), 0);
}

TEST_F(TcpActionsTest, ConfirmsOfManyItemsGoInCommandsOfSixteen) {
  tcp::CMQProto m = Request(kTcpBatchSend);
  m.mutable_tcp_batch_send_msg()->set_queue_name("q");
  for (int i = 0; i < 16; ++i) m.mutable_tcp_batch_send_msg()->add_msgbody("h");
  m.mutable_tcp_batch_send_msg()->set_is_transaction(1);
  tcp::CMQProto sent = Call(m);
  ASSERT_EQ(sent.msgids_size(), 16);
  tcp::CMQProto sent2 = Call(m);
  ASSERT_EQ(sent2.msgids_size(), 16);
  tcp::CMQProto confirm = Request(kTcpTransactionConfirm);
  confirm.mutable_transaction_confirm()->set_queue_name("q");
  for (const tcp::CMQProto* s : {&sent, &sent2}) {
    for (uint64_t id : s->msgids()) {
      auto* item = confirm.mutable_transaction_confirm()->add_item();
      item->set_msg_id(id);
      item->set_state(1);
    }
  }
  h.service.submitted = 0;
  EXPECT_EQ(Call(confirm).result(), 0);
  EXPECT_EQ(h.service.submitted, 2);
  size_t received = 0;
  for (tcp::CMQProto p = BatchPull(16); p.result() == 0; p = BatchPull(16)) {
    received += p.batch_pull_rsp().msg_list_size();
  }
  EXPECT_EQ(received, 32u);
}

TEST_F(TcpActionsTest, ConfirmValidatesItsQueue) {
  tcp::CMQProto confirm = Request(kTcpTransactionConfirm);
  EXPECT_EQ(Call(confirm).result(), 4000);  // no body: 10390
  confirm.mutable_transaction_confirm()->set_queue_name("nope");
  auto* item = confirm.mutable_transaction_confirm()->add_item();
  item->set_msg_id(1);
  item->set_state(1);
  EXPECT_EQ(Call(confirm).result(), 4440);
  confirm.mutable_transaction_confirm()->set_queue_name("1bad");
  EXPECT_EQ(Call(confirm).result(), 4000);
}

TEST_F(TcpActionsTest, CommandWithoutItsBodyIs10390) {
  const std::pair<int, const char*> cases[] = {
      {kTcpSend, "tcp_send_msg"},       {kTcpBatchSend, "tcp_batch_send_msg"},
      {kTcpPull, "tcp_pull_msg"},       {kTcpBatchPull, "tcp_batch_pull_msg"},
      {kTcpDelete, "tcp_delete_msg"},   {kTcpBatchDelete, "tcp_batch_delete_msg"},
      {kTcpPublish, "tcp_publish_msg"}, {kTcpBatchPublish, "tcp_batch_publish_msg"},
  };
  for (const auto& [cmd, body] : cases) {
    tcp::CMQProto a = Call(Request(cmd));
    EXPECT_EQ(a.result(), 4000) << cmd;
    EXPECT_EQ(a.error(), std::string("(10390)lacked of required parameter ") + body) << cmd;
  }
  // A body of another command does not count.
  tcp::CMQProto wrong = Request(kTcpSend);
  wrong.mutable_tcp_pull_msg()->set_queue_name("q");
  EXPECT_EQ(Call(wrong).result(), 4000);
}

TEST_F(TcpActionsTest, MissingRequiredNestedFieldIs4000) {
  tcp::CMQProto m = Request(kTcpSend);
  m.mutable_tcp_send_msg()->set_msgbody("no queue_name");
  ASSERT_FALSE(m.IsInitialized());
  tcp::CMQProto a = Call(m);
  EXPECT_EQ(a.result(), 4000);
  EXPECT_NE(a.error().find("queue_name"), std::string::npos) << a.error();
  tcp::CMQProto pull = Request(kTcpBatchPull);
  pull.mutable_tcp_batch_pull_msg()->set_queue_name("q");  // num_msg is required too
  EXPECT_EQ(Call(pull).result(), 4000);
  EXPECT_EQ(h.service.submitted, 0);
  EXPECT_FALSE(h.service.last_receive.has_value());
}

TEST_F(TcpActionsTest, UnknownOrNonDataCommandIs4000) {
  for (int cmd : {0, 1005, 1029, kTcpAuth, kTcpHeartbeat, kTcpTransactionQuery, 99999}) {
    tcp::CMQProto a = Call(Request(cmd));
    EXPECT_EQ(a.result(), 4000) << cmd;
    EXPECT_EQ(a.error(), "(10430)action name cmd " + std::to_string(cmd) + " is not existed");
  }
}

TEST_F(TcpActionsTest, UnreadableBodyStillGetsAnAnswer) {
  tcp::CMQProto garbage = Parse(h.Raw(TcpRequest("\xff\xff\xff\xff not protobuf")));
  EXPECT_EQ(garbage.result(), 4000);
  EXPECT_EQ(garbage.seqno(), 0);
  EXPECT_FALSE(garbage.error().empty());
  EXPECT_EQ(Parse(h.Raw(TcpRequest(""))).result(), 4000);
  // seqno without cmd (and the reverse): unreadable as a request, but the seqno is echoed.
  tcp::CMQProto no_cmd;
  no_cmd.set_seqno(42);
  tcp::CMQProto a = Parse(h.Raw(TcpRequest(no_cmd.SerializePartialAsString())));
  EXPECT_EQ(a.result(), 4000);
  EXPECT_EQ(a.seqno(), 42);
  tcp::CMQProto no_seqno;
  no_seqno.set_cmd(kTcpSend);
  tcp::CMQProto b = Parse(h.Raw(TcpRequest(no_seqno.SerializePartialAsString())));
  EXPECT_EQ(b.result(), 4000);
  EXPECT_EQ(b.cmd(), kTcpSend);
}

TEST_F(TcpActionsTest, TcpRequestsNeedNoSignature) {
  // The listener authenticated the connection; the Dispatcher does not ask again.
  ServerConfig config;
  config.accounts = {{"AKIDexample", "secretkey"}};
  DispatcherHarness signed_harness(config);
  tcp::CMQProto m = Request(kTcpPull);
  m.mutable_tcp_pull_msg()->set_queue_name("q");
  tcp::CMQProto a = Parse(signed_harness.Raw(TcpRequest(m.SerializeAsString())));
  EXPECT_EQ(a.result(), 4440);  // ran (no such queue there), not 4100
  // The same harness refuses an unsigned HTTP request.
  EXPECT_EQ(signed_harness.Post({{"Action", "ListQueue"}})["code"], 4100);
}

TEST_F(TcpActionsTest, RouteNameOfEachCommand) {
  tcp::CMQProto m = Request(kTcpSend);
  m.mutable_tcp_send_msg()->set_queue_name("qa");
  EXPECT_EQ(TcpRouteName(m), "qa");
  m.set_cmd(kTcpBatchPull);
  EXPECT_EQ(TcpRouteName(m), "");  // the body of another command
  m.mutable_tcp_batch_pull_msg()->set_queue_name("qb");
  EXPECT_EQ(TcpRouteName(m), "qb");
  m.set_cmd(kTcpBatchPublish);
  m.mutable_tcp_batch_publish_msg()->set_topic_name("tc");
  EXPECT_EQ(TcpRouteName(m), "tc");
  m.set_cmd(kTcpTransactionConfirm);
  m.mutable_transaction_confirm()->set_queue_name("qt");
  EXPECT_EQ(TcpRouteName(m), "qt");
  m.set_cmd(kTcpHeartbeat);
  EXPECT_EQ(TcpRouteName(m), "");
  for (int cmd = kTcpSend; cmd <= kTcpBatchPublish; ++cmd) EXPECT_TRUE(IsTcpDataCommand(cmd));
  EXPECT_TRUE(IsTcpDataCommand(kTcpTransactionConfirm));  // one-way, but run at the leader
  for (int cmd : {kTcpAuth, kTcpHeartbeat, kTcpTransactionQuery, 1029, 0}) {
    EXPECT_FALSE(IsTcpDataCommand(cmd)) << cmd;
  }
}

TEST_F(TcpActionsTest, TcpErrorResponseEchoesSeqnoAndCmd) {
  tcp::CMQProto m = Request(kTcpPull);
  m.mutable_tcp_pull_msg()->set_queue_name("q");
  tcp::CMQProto a = Parse(TcpErrorResponse(m.SerializeAsString(), QueueNameFormat()));
  EXPECT_EQ(a.seqno(), m.seqno());
  EXPECT_EQ(a.cmd(), kTcpPull);
  EXPECT_EQ(a.result(), 4000);
  EXPECT_EQ(a.error(), "(10020)queue name format error");
  // Even of a request that lacks a required nested field.
  tcp::CMQProto partial = Request(kTcpSend);
  partial.mutable_tcp_send_msg()->set_msgbody("x");
  tcp::CMQProto b = Parse(TcpErrorResponse(partial.SerializePartialAsString(), QueueNameFormat()));
  EXPECT_EQ(b.seqno(), partial.seqno());
  EXPECT_EQ(b.cmd(), kTcpSend);
  // Unreadable: seqno and cmd 0.
  tcp::CMQProto c = Parse(TcpErrorResponse("\xff", QueueNameFormat()));
  EXPECT_EQ(c.seqno(), 0);
  EXPECT_EQ(c.result(), 4000);
}

TEST_F(TcpActionsTest, DispatcherRejectAnswersTcpRequestsInCMQProto) {
  tcp::CMQProto m = Request(kTcpBatchSend);
  m.mutable_tcp_batch_send_msg()->set_queue_name("q");
  m.mutable_tcp_batch_send_msg()->add_msgbody("x");
  std::optional<HttpResponse> response;
  h.dispatcher.Reject(TcpRequest(m.SerializeAsString()),
                      Status(ErrorCode::kUnavailable, "leader unreachable"),
                      [&](HttpResponse r) { response = std::move(r); });
  ASSERT_TRUE(response.has_value());
  tcp::CMQProto a = Parse(*response);
  EXPECT_EQ(a.seqno(), m.seqno());
  EXPECT_EQ(a.cmd(), kTcpBatchSend);
  EXPECT_EQ(a.result(), 6000);
  EXPECT_NE(a.error().find("leader unreachable"), std::string::npos) << a.error();
  EXPECT_EQ(a.msgids_size(), 0);
  EXPECT_EQ(h.service.submitted, 0);  // rejected, not run
  // Unavailable: the listener closes the connection instead of answering (tcp_server.h).
  EXPECT_EQ(response->status, kTcpUnavailableStatus);
  std::optional<HttpResponse> other;
  h.dispatcher.Reject(TcpRequest(m.SerializeAsString()), Status(ErrorCode::kInternal, "broken"),
                      [&](HttpResponse r) { other = std::move(r); });
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->status, 200) << "only a retryable error is marked";
}

// With no leader (kUnavailable), answers are marked for the listener, which does not
// write them: the SDK retries a send only when it gets no answer. A pull's answer is
// "no message" (10200), which the SDK's subscribe loop ignores.
TEST_F(TcpActionsTest, AnswersOfAServiceWithoutALeaderAreMarkedUnavailable) {
  ASSERT_EQ(Send("before").result(), 0);
  h.service.fail_with = Status(ErrorCode::kUnavailable, "this node is not the leader; retry");
  auto run = [&](const tcp::CMQProto& m) {
    HttpRequest r = TcpRequest(m.SerializePartialAsString());
    r.route_name = TcpRouteName(m);
    return h.Raw(std::move(r));
  };
  tcp::CMQProto send = Request(kTcpSend);
  send.mutable_tcp_send_msg()->set_queue_name("q");
  send.mutable_tcp_send_msg()->set_msgbody("x");
  HttpResponse sent = run(send);
  EXPECT_EQ(sent.status, kTcpUnavailableStatus);
  EXPECT_EQ(Parse(sent).result(), 6000);

  tcp::CMQProto pull = Request(kTcpBatchPull);
  pull.mutable_tcp_batch_pull_msg()->set_queue_name("q");
  pull.mutable_tcp_batch_pull_msg()->set_num_msg(16);
  HttpResponse pulled = run(pull);
  EXPECT_EQ(pulled.status, kTcpUnavailableStatus);
  tcp::CMQProto pulled_answer = Parse(pulled);
  EXPECT_EQ(pulled_answer.result(), kTcpResultNoMessage);
  EXPECT_EQ(pulled_answer.error(), "(10200)no message");
  EXPECT_EQ(pulled_answer.batch_pull_rsp().msg_list_size(), 0);

  // Through the HTTP action and its JSON (delete, publish).
  tcp::CMQProto del = Request(kTcpDelete);
  del.mutable_tcp_delete_msg()->set_queue_name("q");
  del.mutable_tcp_delete_msg()->set_receipt_handle(12345);
  HttpResponse deleted = run(del);
  EXPECT_EQ(deleted.status, kTcpUnavailableStatus);
  EXPECT_EQ(Parse(deleted).result(), 6000);

  // Any other failure is answered as usual.
  h.service.fail_with = Status(ErrorCode::kIoError, "disk");
  HttpResponse failed = run(send);
  EXPECT_EQ(failed.status, 200);
  EXPECT_EQ(Parse(failed).result(), 6000);
}

}  // namespace
}  // namespace cmq::api
