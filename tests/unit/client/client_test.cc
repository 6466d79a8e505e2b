#include "client/client.h"

#include <gtest/gtest.h>

#include "common/signature.h"
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

TEST(ClientTest, SendsSignedFormWithCommonParams) {
  FakeServer server([](const FakeRequest&) {
    return Json(R"({"code":0,"message":"",
      "requestId":"7","msgId":"18446744073709551615"})");
  });
  ClientOptions o = OptionsFor(server);
  o.secret_id = "AKIDtest";
  o.secret_key = "secretkey";
  Client client(o);
  auto id = client.SendMessage("q1", "hello world & more=+%", 3);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_EQ(*id, 18446744073709551615ull);

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const FakeRequest& r = reqs[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/v2/index.php");
  EXPECT_EQ(r.host, "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(r.Param("Action"), "SendMessage");
  EXPECT_EQ(r.Param("queueName"), "q1");
  EXPECT_EQ(r.Param("msgBody"), "hello world & more=+%");
  EXPECT_EQ(r.Param("delaySeconds"), "3");
  EXPECT_EQ(r.Param("SecretId"), "AKIDtest");
  EXPECT_EQ(r.Param("SignatureMethod"), "HmacSHA256");
  EXPECT_EQ(r.Param("RequestClient"), "OpenCMQ_CPP_0.1");
  int64_t ts = std::stoll(r.Param("Timestamp"));
  EXPECT_NEAR(static_cast<double>(ts), static_cast<double>(time(nullptr)), 5);
  EXPECT_GT(std::stoull(r.Param("Nonce")), 0u);

  // Verify the signature as the server would (spec §4.3).
  FormParams unsigned_params;
  for (const auto& p : r.form) {
    if (p.first != "Signature") unsigned_params.push_back(p);
  }
  std::string to_sign = StringToSign("POST", r.host, r.target, unsigned_params);
  EXPECT_EQ(r.Param("Signature"), Sign(to_sign, "secretkey", SignatureAlgorithmFor("HmacSHA256")));
}

TEST(ClientTest, Sha1SignatureAndCustomPath) {
  FakeServer server([](const FakeRequest&) {
    return Json(R"({"code":0,"message":"",
      "requestId":"7","queueId":"queue-abc"})");
  });
  ClientOptions o = OptionsFor(server);
  o.endpoint += "/";
  o.path = "/";
  o.secret_id = "AKIDtest";
  o.secret_key = "k";
  o.signature_method = "HmacSHA1";
  Client client(o);
  ASSERT_TRUE(client.CreateQueue("q", {}).ok());
  FakeRequest r = server.requests().at(0);
  EXPECT_EQ(r.target, "/");
  FormParams p;
  for (const auto& kv : r.form) {
    if (kv.first != "Signature") p.push_back(kv);
  }
  EXPECT_EQ(r.Param("Signature"),
            Sign(StringToSign("POST", r.host, "/", p), "k", SignatureAlgorithm::kHmacSha1));
}

TEST(ClientTest, UnsignedWithoutSecretKey) {
  FakeServer server([](const FakeRequest&) { return Json(kOk); });
  Client client(OptionsFor(server));
  ASSERT_TRUE(client.DeleteQueue("q").ok());
  FakeRequest r = server.requests().at(0);
  EXPECT_EQ(r.Param("Action"), "DeleteQueue");
  EXPECT_EQ(r.Param("Signature"), "<absent>");
  EXPECT_EQ(r.Param("SecretId"), "<absent>");
}

TEST(ClientTest, QueueActionsSendTheirParams) {
  FakeServer server([](const FakeRequest& r) {
    std::string a = r.Param("Action");
    if (a == "CreateQueue")
      return Json(R"({"code":0,"message":"","requestId":"1","queueId":"queue-x"})");
    if (a == "ListQueue") {
      return Json(R"({"code":0,"message":"","requestId":"1","totalCount":3,
        "queueList":[{"queueId":"queue-a","queueName":"a1"},{"queueId":"queue-b","queueName":"a2"}]})");
    }
    return Json(kOk);
  });
  Client client(OptionsFor(server));
  QueueAttributes attrs;
  attrs.visibility_timeout = 45;
  attrs.max_msg_heap_num = 1000000;
  auto id = client.CreateQueue("qq", attrs);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "queue-x");
  auto list = client.ListQueue("a", 0, 2);
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  EXPECT_EQ(list->total_count, 3);
  ASSERT_EQ(list->queues.size(), 2u);
  EXPECT_EQ(list->queues[1].queue_id, "queue-b");
  EXPECT_EQ(list->queues[1].queue_name, "a2");
  QueueAttributes set;
  set.polling_wait_seconds = 5;
  ASSERT_TRUE(client.SetQueueAttributes("qq", set).ok());
  ASSERT_TRUE(client.RewindQueue("qq", 1700000000).ok());
  ASSERT_TRUE(client.DeleteMessage("qq", 42).ok());

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[0].Param("visibilityTimeout"), "45");
  EXPECT_EQ(reqs[0].Param("maxMsgHeapNum"), "1000000");
  EXPECT_EQ(reqs[0].Param("pollingWaitSeconds"), "<absent>");
  EXPECT_EQ(reqs[1].Param("searchWord"), "a");
  EXPECT_EQ(reqs[1].Param("offset"), "0");
  EXPECT_EQ(reqs[1].Param("limit"), "2");
  EXPECT_EQ(reqs[2].Param("Action"), "SetQueueAttributes");
  EXPECT_EQ(reqs[2].Param("pollingWaitSeconds"), "5");
  EXPECT_EQ(reqs[2].Param("visibilityTimeout"), "<absent>");
  EXPECT_EQ(reqs[3].Param("startConsumeTime"), "1700000000");
  EXPECT_EQ(reqs[4].Param("receiptHandle"), "42");
}

TEST(ClientTest, BatchSendReceiveAndDelete) {
  FakeServer server([](const FakeRequest& r) {
    std::string a = r.Param("Action");
    if (a == "BatchSendMessage") {
      return Json(
          R"({"code":0,"message":"","requestId":"1","msgList":[{"msgId":"5"},{"msgId":"6"}]})");
    }
    if (a == "BatchReceiveMessage") {
      return Json(R"({"code":0,"message":"","requestId":"1","msgInfoList":[
        {"msgBody":"a","msgId":"5","receiptHandle":"105","enqueueTime":1,"nextVisibleTime":31,
         "firstDequeueTime":2,"dequeueCount":1},
        {"msgBody":"b\"c","msgId":"6","receiptHandle":"106","enqueueTime":1,"nextVisibleTime":31,
         "firstDequeueTime":2,"dequeueCount":3}]})");
    }
    return Json(R"({"code":6010,"message":"(10150)delete message partially failed","requestId":"9",
      "errorList":[{"code":4430,"message":"(10260)receipt handle is invalid","receiptHandle":"106"}]})");
  });
  Client client(OptionsFor(server));
  std::vector<std::string> bodies = {"a", "b\"c"};
  auto ids = client.BatchSendMessage("q", bodies, 0);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<uint64_t>{5, 6}));
  auto msgs = client.BatchReceiveMessage("q", 16, 1);
  ASSERT_TRUE(msgs.ok()) << msgs.error().ToString();
  ASSERT_EQ(msgs->size(), 2u);
  EXPECT_EQ((*msgs)[1].body, "b\"c");
  EXPECT_EQ((*msgs)[1].receipt_handle, 106u);
  EXPECT_EQ((*msgs)[1].dequeue_count, 3);
  std::vector<uint64_t> handles = {105, 106};
  auto errs = client.BatchDeleteMessage("q", handles);
  ASSERT_TRUE(errs.ok()) << errs.error().ToString();
  ASSERT_EQ(errs->size(), 1u);
  EXPECT_EQ((*errs)[0].receipt_handle, 106u);
  EXPECT_EQ((*errs)[0].code, 4430);

  auto reqs = server.requests();
  EXPECT_EQ(reqs[0].Param("msgBody.1"), "a");
  EXPECT_EQ(reqs[0].Param("msgBody.2"), "b\"c");
  EXPECT_EQ(reqs[1].Param("numOfMsg"), "16");
  EXPECT_EQ(reqs[1].Param("pollingWaitSeconds"), "1");
  EXPECT_EQ(reqs[2].Param("receiptHandle.1"), "105");
  EXPECT_EQ(reqs[2].Param("receiptHandle.2"), "106");
}

TEST(ClientTest, ReceiveAndAttributes) {
  FakeServer server([](const FakeRequest& r) {
    if (r.Param("Action") == "ReceiveMessage") {
      return Json(R"({"code":0,"message":"","requestId":"1","msgBody":"hi","msgId":"77",
        "receiptHandle":"1234567890123","enqueueTime":1700000000,"nextVisibleTime":1700000030,
        "firstDequeueTime":1700000001,"dequeueCount":2})");
    }
    return Json(R"({"code":0,"message":"","requestId":"1","queueName":"q","maxMsgHeapNum":1000000,
      "pollingWaitSeconds":0,"visibilityTimeout":30,"maxMsgSize":65536,"msgRetentionSeconds":345600,
      "createTime":10,"lastModifyTime":11,"activeMsgNum":5,"inactiveMsgNum":2,"rewindSeconds":0,
      "rewindmsgNum":0,"rewindMsgNum":0,"minMsgTime":9,"delayMsgNum":1})");
  });
  Client client(OptionsFor(server));
  auto m = client.ReceiveMessage("q");
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->msg_id, 77u);
  EXPECT_EQ(m->receipt_handle, 1234567890123u);
  EXPECT_EQ(m->body, "hi");
  EXPECT_EQ(m->enqueue_time, 1700000000);
  EXPECT_EQ(m->next_visible_time, 1700000030);
  EXPECT_EQ(m->first_dequeue_time, 1700000001);
  EXPECT_EQ(m->dequeue_count, 2);
  EXPECT_EQ(server.requests()[0].Param("pollingWaitSeconds"), "<absent>");
  auto a = client.GetQueueAttributes("q");
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  EXPECT_EQ(a->queue_name, "q");
  EXPECT_EQ(a->max_msg_heap_num, 1000000);
  EXPECT_EQ(a->active_msg_num, 5);
  EXPECT_EQ(a->inactive_msg_num, 2);
  EXPECT_EQ(a->delay_msg_num, 1);
  EXPECT_EQ(a->min_msg_time, 9);
  EXPECT_EQ(a->last_modify_time, 11);
}

TEST(ClientTest, ServerErrorSurfacesCodeMessageRequestId) {
  FakeServer server([](const FakeRequest&) {
    return Json(R"({"code":7000,"message":"(10200)no message","requestId":"39410804591689893",
      "clientRequestId":0})");
  });
  Client client(OptionsFor(server));
  auto m = client.ReceiveMessage("q", 0);
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(m.error().is_no_message());
  EXPECT_EQ(m.error().code, 7000);
  EXPECT_EQ(m.error().message, "(10200)no message");
  EXPECT_EQ(m.error().request_id, "39410804591689893");
  EXPECT_EQ(m.error().ToString(), "error 7000: (10200)no message (requestId 39410804591689893)");
  auto g = client.Call("GetTopicAttributes", {{"topicName", "t"}});
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, 7000);
}

TEST(ClientTest, GenericCallReturnsJson) {
  FakeServer server([](const FakeRequest&) {
    return Json(R"({"code":0,"message":"","requestId":"1","topicId":"topic-1"})");
  });
  Client client(OptionsFor(server));
  auto j = client.Call("CreateTopic", {{"topicName", "t"}});
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["topicId"], "topic-1");
  EXPECT_EQ(server.requests()[0].Param("topicName"), "t");
  EXPECT_NE(client.last_response().find("topic-1"), std::string::npos);
}

TEST(ClientTest, BadJsonIsAProtocolError) {
  FakeServer server([](const FakeRequest&) { return Json("<html>oops</html>"); });
  Client client(OptionsFor(server));
  auto r = client.DeleteQueue("q");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Error::Kind::kProtocol);
}

TEST(ClientTest, KeepAliveReusesOneConnection) {
  FakeServer server([](const FakeRequest&) { return Json(kOk); });
  Client client(OptionsFor(server));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.DeleteQueue("q").ok());
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(client.connections_opened(), 1u);
  for (const auto& r : server.requests()) EXPECT_EQ(r.connection, 1);
}

TEST(ClientTest, ReconnectsAfterServerClosedIdleConnection) {
  FakeServer server([](const FakeRequest&) { return Json(kOk); });
  Client client(OptionsFor(server));
  ASSERT_TRUE(client.DeleteQueue("q").ok());
  server.CloseConnections();
  auto r = client.DeleteQueue("q");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(client.connections_opened(), 2u);
  EXPECT_EQ(server.requests().back().connection, 2);
}

TEST(ClientTest, ConnectionCloseHeaderIsHonoured) {
  FakeServer server([](const FakeRequest&) {
    FakeResponse r = Json(kOk);
    r.close_after = true;
    return r;
  });
  Client client(OptionsFor(server));
  ASSERT_TRUE(client.DeleteQueue("q").ok());
  ASSERT_TRUE(client.DeleteQueue("q").ok());
  EXPECT_EQ(server.connections(), 2);
}

TEST(ClientTest, TransportErrorWhenServerClosesWithoutAnswer) {
  std::atomic<int> n{0};
  FakeServer server([&n](const FakeRequest&) {
    FakeResponse r = Json(kOk);
    r.drop = ++n > 1;
    return r;
  });
  Client client(OptionsFor(server));
  ASSERT_TRUE(client.DeleteQueue("q").ok());
  auto r = client.DeleteQueue("q");  // dropped, resent once on a new connection, dropped
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Error::Kind::kTransport);
  EXPECT_EQ(server.requests().size(), 3u);
  auto again = client.DeleteQueue("q");  // a fresh connection is not retried
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(server.requests().size(), 4u);
}

TEST(ClientTest, TransportErrorWhenNothingListens) {
  uint16_t port;
  {
    FakeServer server([](const FakeRequest&) { return Json(kOk); });
    port = server.port();
  }
  ClientOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  Client client(o);
  auto r = client.ListQueue();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Error::Kind::kTransport);
}

TEST(ClientTest, TimeoutIsATransportError) {
  FakeServer server([](const FakeRequest&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    return Json(kOk);
  });
  ClientOptions o = OptionsFor(server);
  o.request_timeout = std::chrono::milliseconds(200);
  Client client(o);
  auto r = client.DeleteQueue("q");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "request timed out");
  // A long poll gets its wait added to the timeout.
  auto m = client.ReceiveMessage("q", 1);
  EXPECT_FALSE(m.ok());  // kOk has no message fields: a protocol error, not a timeout
  EXPECT_EQ(m.error().kind, Error::Kind::kProtocol);
}

TEST(ClientTest, BadEndpointIsAnError) {
  ClientOptions o;
  o.endpoint = "ftp://example.com/x";
  Client client(o);
  auto r = client.DeleteQueue("q");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Error::Kind::kTransport);
}

}  // namespace
}  // namespace cmq::client
