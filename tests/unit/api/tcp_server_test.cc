// TcpServer (the CMQ TCP protocol listener) over a real loopback socket, with a fake
// RequestHandler and a raw blocking client that writes frames by hand
// (spec/cmq-tcp-protocol.md §2, §3).

#include "api/tcp_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "api/tcp_actions.h"
#include "proto/tcp_frame.h"

namespace cmq::api {
namespace {

namespace net = boost::asio;
using Socket = net::ip::tcp::socket;
using std::chrono::milliseconds;

// Answers data commands with result 0 and error "handled <route_name>". While holding,
// parks them until Release.
class FakeHandler {
 public:
  void operator()(HttpRequest request, ResponseCallback done) {
    std::unique_lock<std::mutex> lock(mutex_);
    requests_.push_back(request);
    if (hold_) {
      held_.emplace_back(std::move(request), std::move(done));
      return;
    }
    const size_t padding = padding_;
    lock.unlock();
    done(AnswerFor(request, padding));
  }

  // Requests for the route "down" are answered as a node without a leader answers them
  // (kTcpUnavailableStatus).
  static HttpResponse AnswerFor(const HttpRequest& request, size_t padding = 0) {
    tcp::CMQProto m;
    EXPECT_TRUE(m.ParseFromString(request.body));
    tcp::CMQProto answer = TcpAnswerTo(m);
    answer.set_error("handled " + request.route_name + std::string(padding, '.'));
    HttpResponse r;
    if (request.route_name == "down") {
      answer.set_result(6000);
      r.status = kTcpUnavailableStatus;
    }
    answer.SerializeToString(&r.body);
    return r;
  }

  void Hold() {
    std::lock_guard<std::mutex> lock(mutex_);
    hold_ = true;
  }
  // Answers (not held) carry this many more bytes.
  void PadAnswers(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    padding_ = bytes;
  }
  // Answers the held request of that seqno, from another thread as the service would.
  // False if none is held.
  bool Release(int64_t seqno) {
    std::optional<std::pair<HttpRequest, ResponseCallback>> found;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = held_.begin(); it != held_.end(); ++it) {
        tcp::CMQProto m;
        if (m.ParseFromString(it->first.body) && m.seqno() == seqno) {
          found = std::move(*it);
          held_.erase(it);
          break;
        }
      }
    }
    if (!found) return false;
    std::thread([&found] { found->second(AnswerFor(found->first)); }).join();
    return true;
  }
  void ReleaseAll() {
    std::vector<std::pair<HttpRequest, ResponseCallback>> held;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      held.swap(held_);
    }
    std::thread([&held] {
      for (auto& [request, done] : held) done(AnswerFor(request));
    }).join();
  }
  size_t calls() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_.size();
  }
  size_t held() {
    std::lock_guard<std::mutex> lock(mutex_);
    return held_.size();
  }
  std::vector<HttpRequest> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  std::mutex mutex_;
  bool hold_ = false;
  size_t padding_ = 0;
  std::vector<HttpRequest> requests_;
  std::vector<std::pair<HttpRequest, ResponseCallback>> held_;
};

// base64(HMAC(key, client_id + secret_id)), computed here with OpenSSL directly.
std::string Proof(const EVP_MD* md, const std::string& key, const std::string& client_id,
                  const std::string& secret_id) {
  const std::string text = client_id + secret_id;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  EXPECT_NE(HMAC(md, key.data(), static_cast<int>(key.size()),
                 reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &mac_len),
            nullptr);
  std::string out(4 * ((mac_len + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(mac_len));
  out.resize(static_cast<size_t>(n));
  return out;
}

class TcpServerTest : public ::testing::Test {
 protected:
  void StartServer(TcpServerOptions options = {}) {
    server_ = std::make_unique<TcpServer>(
        ioc_, "127.0.0.1:0",
        [this](HttpRequest r, ResponseCallback d) { handler_(std::move(r), std::move(d)); },
        config_, clock_, options);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->port(), 0);
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    handler_.ReleaseAll();  // answers to closed connections go nowhere
    work_.reset();
    for (auto& t : threads_) t.join();
  }

  Socket Connect() {
    Socket s(client_ioc_);
    s.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    s.set_option(net::ip::tcp::no_delay(true));
    timeval tv{5, 0};  // no test waits forever on a read
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return s;
  }

  tcp::CMQProto Request(int cmd) {
    tcp::CMQProto m;
    m.set_seqno(next_seqno_++);
    m.set_cmd(cmd);
    return m;
  }
  tcp::CMQProto Heartbeat() { return Request(kTcpHeartbeat); }
  tcp::CMQProto SendTo(const std::string& queue, const std::string& body = "hello") {
    tcp::CMQProto m = Request(kTcpSend);
    m.mutable_tcp_send_msg()->set_queue_name(queue);
    m.mutable_tcp_send_msg()->set_msgbody(body);
    return m;
  }
  tcp::CMQProto Auth(const std::string& secret_id, const std::string& signature,
                     const std::string& method = "HmacSHA1",
                     const std::string& client_id = "192.0.2.2@DEFAULT") {
    tcp::CMQProto m = Request(kTcpAuth);
    auto* a = m.mutable_tcp_auth();
    a->set_secret_id(secret_id);
    a->set_signature(signature);
    a->set_client_id(client_id);
    a->set_signature_method(method);
    return m;
  }

  static std::string RawFrame(std::string_view body) {
    std::string out;
    tcp::AppendFrameHeader(out, body.size());
    out.append(body);
    return out;
  }
  static std::string Frame(const tcp::CMQProto& m) {
    return RawFrame(m.SerializePartialAsString());
  }
  static void Write(Socket& s, const std::string& bytes) {
    boost::system::error_code ec;
    net::write(s, net::buffer(bytes), ec);
    EXPECT_FALSE(ec) << ec.message();
  }
  // The next frame, parsed; nullopt on EOF, an error or the receive timeout.
  static std::optional<tcp::CMQProto> ReadFrame(Socket& s) {
    std::string header(tcp::kFrameHeaderSize, '\0');
    boost::system::error_code ec;
    net::read(s, net::buffer(header), ec);
    if (ec) return std::nullopt;
    auto size = tcp::BodySizeOf(header);
    EXPECT_TRUE(size.has_value()) << "bad header from the server";
    if (!size) return std::nullopt;
    std::string body(*size, '\0');
    net::read(s, net::buffer(body), ec);
    if (ec) return std::nullopt;
    tcp::CMQProto m;
    EXPECT_TRUE(m.ParseFromString(body)) << m.InitializationErrorString();
    return m;
  }
  // Writes m and reads the next frame, which must answer it.
  tcp::CMQProto Call(Socket& s, const tcp::CMQProto& m) {
    Write(s, Frame(m));
    auto answer = ReadFrame(s);
    EXPECT_TRUE(answer.has_value()) << "no answer to cmd " << m.cmd();
    if (!answer) return {};
    EXPECT_EQ(answer->seqno(), m.seqno());
    EXPECT_EQ(answer->cmd(), m.cmd());
    return *answer;
  }
  // Authenticates s (no accounts configured: any proof).
  void LogIn(Socket& s) { ASSERT_EQ(Call(s, Auth("AKIDany", "sig")).result(), 0); }

  // A server running at most `cap` pulls per connection, whose handler holds every
  // request, and a connection logged in to it.
  Socket StartWithPullCap(uint32_t cap) {
    TcpServerOptions options;
    options.max_inflight_pulls = cap;
    StartServer(options);
    handler_.Hold();
    Socket s = Connect();
    LogIn(s);
    return s;
  }

  // True if the server closed the connection (EOF or reset) within the receive timeout.
  static bool Closed(Socket& s) {
    char c;
    boost::system::error_code ec;
    s.read_some(net::buffer(&c, 1), ec);
    return ec == net::error::eof || ec == net::error::connection_reset;
  }
  template <typename Pred>
  static bool WaitFor(Pred pred, milliseconds timeout = milliseconds(5000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(2));
    }
    return true;
  }

  net::io_context ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_{
      net::make_work_guard(ioc_)};
  net::io_context client_ioc_;
  ServerConfig config_;
  SystemClock clock_;
  FakeHandler handler_;  // after ioc_: held answers keep sessions alive
  std::unique_ptr<TcpServer> server_;
  std::vector<std::thread> threads_;
  int64_t next_seqno_ = 1;
};

TEST_F(TcpServerTest, DataCommandBeforeAuthIs306AndTheConnectionStaysOpen) {
  StartServer();
  Socket s = Connect();
  tcp::CMQProto a = Call(s, SendTo("q"));
  EXPECT_EQ(a.result(), kTcpResultNotAuthed);
  EXPECT_FALSE(a.error().empty());
  EXPECT_EQ(handler_.calls(), 0u);
  // Still open: a heartbeat is answered, and after auth the command runs.
  EXPECT_EQ(Call(s, Heartbeat()).result(), 0);
  LogIn(s);
  EXPECT_EQ(Call(s, SendTo("q")).result(), 0);
  EXPECT_EQ(handler_.calls(), 1u);
}

TEST_F(TcpServerTest, HeartbeatBeforeAuthIsAnswered) {
  StartServer();
  Socket s = Connect();
  tcp::CMQProto hb;
  hb.set_seqno(int64_t{1} << 50);
  hb.set_cmd(kTcpHeartbeat);
  tcp::CMQProto a = Call(s, hb);
  EXPECT_EQ(a.cmd(), kTcpHeartbeat);
  EXPECT_EQ(a.seqno(), int64_t{1} << 50);
  EXPECT_EQ(a.result(), 0);
  EXPECT_EQ(handler_.calls(), 0u);
}

TEST_F(TcpServerTest, AuthWithAccountsChecksTheProof) {
  config_.accounts = {{"AKIDtest", "secretkey"}, {"AKIDother", "otherkey"}};
  StartServer();
  Socket s = Connect();
  const std::string client = "192.0.2.2@DEFAULT";

  tcp::CMQProto wrong =
      Call(s, Auth("AKIDtest", Proof(EVP_sha1(), "notthekey", client, "AKIDtest")));
  EXPECT_EQ(wrong.result(), 4100);
  EXPECT_EQ(wrong.error(), "(10030)authentication failed");
  EXPECT_EQ(Call(s, SendTo("q")).result(), kTcpResultNotAuthed);

  tcp::CMQProto unknown =
      Call(s, Auth("AKIDnobody", Proof(EVP_sha1(), "secretkey", client, "AKIDnobody")));
  EXPECT_EQ(unknown.result(), 4100);
  EXPECT_EQ(unknown.error(), "(10270)secret id is not existed");

  // The proof of another account's key.
  EXPECT_EQ(Call(s, Auth("AKIDtest", Proof(EVP_sha1(), "otherkey", client, "AKIDtest"))).result(),
            4100);
  // SHA1 proof announced as SHA256.
  EXPECT_EQ(
      Call(s, Auth("AKIDtest", Proof(EVP_sha1(), "secretkey", client, "AKIDtest"), "HmacSHA256"))
          .result(),
      4100);
  EXPECT_EQ(Call(s, SendTo("q")).result(), kTcpResultNotAuthed);
  EXPECT_EQ(handler_.calls(), 0u);

  tcp::CMQProto ok = Call(s, Auth("AKIDtest", Proof(EVP_sha1(), "secretkey", client, "AKIDtest")));
  EXPECT_EQ(ok.result(), 0) << ok.error();
  EXPECT_EQ(Call(s, SendTo("q")).result(), 0);
  EXPECT_EQ(handler_.calls(), 1u);

  // HmacSHA256 on another connection, with the other account.
  Socket s2 = Connect();
  tcp::CMQProto ok256 = Call(
      s2, Auth("AKIDother", Proof(EVP_sha256(), "otherkey", client, "AKIDother"), "HmacSHA256"));
  EXPECT_EQ(ok256.result(), 0) << ok256.error();
  EXPECT_EQ(Call(s2, SendTo("q")).result(), 0);
  // Authentication is per connection.
  Socket s3 = Connect();
  EXPECT_EQ(Call(s3, SendTo("q")).result(), kTcpResultNotAuthed);
}

TEST_F(TcpServerTest, AFailedAuthLogsAConnectionOut) {
  config_.accounts = {{"AKIDtest", "secretkey"}};
  StartServer();
  Socket s = Connect();
  const std::string client = "10.0.0.1@app";
  ASSERT_EQ(Call(s, Auth("AKIDtest", Proof(EVP_sha1(), "secretkey", client, "AKIDtest"), "HmacSHA1",
                         client))
                .result(),
            0);
  EXPECT_EQ(Call(s, SendTo("q")).result(), 0);
  EXPECT_EQ(Call(s, Auth("AKIDtest", "bogus")).result(), 4100);
  EXPECT_EQ(Call(s, SendTo("q")).result(), kTcpResultNotAuthed);
}

TEST_F(TcpServerTest, AuthWithoutItsBodyOrAFieldIsRefused) {
  StartServer();  // no accounts: any complete proof would do
  Socket s = Connect();
  tcp::CMQProto no_body = Call(s, Request(kTcpAuth));
  EXPECT_EQ(no_body.result(), 4000);
  EXPECT_EQ(no_body.error(), "(10390)lacked of required parameter tcp_auth");
  tcp::CMQProto partial = Auth("AKIDany", "sig");
  partial.mutable_tcp_auth()->clear_signature_method();
  EXPECT_EQ(Call(s, partial).result(), 4000);
  EXPECT_EQ(Call(s, SendTo("q")).result(), kTcpResultNotAuthed);
}

TEST_F(TcpServerTest, WithoutAccountsAnyAuthIsAccepted) {
  StartServer();
  Socket s = Connect();
  EXPECT_EQ(Call(s, Auth("whoever", "not a signature", "HmacMD5")).result(), 0);
  EXPECT_EQ(Call(s, SendTo("q")).result(), 0);
}

TEST_F(TcpServerTest, DataCommandsReachTheHandlerAsTcpRequests) {
  StartServer();
  Socket s = Connect();
  LogIn(s);
  tcp::CMQProto send = SendTo("orders", std::string("\x00\x01\xff", 3));
  send.set_request_id(99);
  tcp::CMQProto a = Call(s, send);
  EXPECT_EQ(a.result(), 0);
  EXPECT_EQ(a.error(), "handled orders");
  tcp::CMQProto publish = Request(kTcpBatchPublish);
  publish.mutable_tcp_batch_publish_msg()->set_topic_name("news");
  publish.mutable_tcp_batch_publish_msg()->add_msgbody("x");
  EXPECT_EQ(Call(s, publish).error(), "handled news");

  auto requests = handler_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_TRUE(requests[0].tcp);
  EXPECT_FALSE(requests[0].internal);
  EXPECT_EQ(requests[0].route_name, "orders");
  EXPECT_EQ(requests[0].body, send.SerializeAsString());  // the frame's body, byte for byte
  EXPECT_TRUE(requests[1].tcp);
  EXPECT_EQ(requests[1].route_name, "news");
  EXPECT_EQ(requests[1].body, publish.SerializeAsString());
}

TEST_F(TcpServerTest, UnknownCommandIsAnsweredWithoutTheHandler) {
  StartServer();
  Socket s = Connect();
  LogIn(s);
  tcp::CMQProto a = Call(s, Request(1099));
  EXPECT_EQ(a.result(), 4000);
  EXPECT_EQ(a.error(), "(10430)action name cmd 1099 is not existed");
  EXPECT_EQ(handler_.calls(), 0u);
  EXPECT_EQ(Call(s, Heartbeat()).result(), 0);  // still open
}

TEST_F(TcpServerTest, AnswersComeBackInTheOrderTheyAreReady) {
  StartServer();
  handler_.Hold();
  Socket s = Connect();
  LogIn(s);
  tcp::CMQProto first = SendTo("q1");
  tcp::CMQProto second = SendTo("q2");
  Write(s, Frame(first) + Frame(second));
  ASSERT_TRUE(WaitFor([&] { return handler_.held() == 2; }));
  // A heartbeat is answered while both wait (a long poll must not block the connection).
  tcp::CMQProto hb = Heartbeat();
  EXPECT_EQ(Call(s, hb).seqno(), hb.seqno());
  ASSERT_TRUE(handler_.Release(second.seqno()));
  auto a = ReadFrame(s);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->seqno(), second.seqno());
  EXPECT_EQ(a->error(), "handled q2");
  ASSERT_TRUE(handler_.Release(first.seqno()));
  auto b = ReadFrame(s);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->seqno(), first.seqno());
  EXPECT_EQ(b->error(), "handled q1");
}

// 1041 is one-way (spec §6.9): handed on (with the connection's client id), never
// answered; before authentication it is dropped, not answered 306.
TEST_F(TcpServerTest, TransactionConfirmIsHandedOnButNeverAnswered) {
  StartServer();
  Socket s = Connect();
  tcp::CMQProto confirm = Request(kTcpTransactionConfirm);
  confirm.mutable_transaction_confirm()->set_queue_name("q");
  auto* item = confirm.mutable_transaction_confirm()->add_item();
  item->set_msg_id(1011);
  item->set_state(1);
  Write(s, Frame(confirm));  // not authenticated yet: dropped
  LogIn(s);
  EXPECT_EQ(handler_.calls(), 0u);
  Write(s, Frame(confirm));
  // The next frame is the heartbeat's answer: nothing came for the confirms.
  tcp::CMQProto hb = Heartbeat();
  Write(s, Frame(hb));
  auto a = ReadFrame(s);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->cmd(), kTcpHeartbeat);
  EXPECT_EQ(a->seqno(), hb.seqno());
  ASSERT_EQ(handler_.calls(), 1u);
  const HttpRequest r = handler_.requests().at(0);
  EXPECT_TRUE(r.tcp);
  EXPECT_EQ(r.route_name, "q");
}

// A transaction's send carries the client id the connection authenticated with (its
// producer, asked at check-back); other commands do not need it.
TEST_F(TcpServerTest, TransactionSendsCarryTheAuthenticatedClientId) {
  StartServer();
  Socket s = Connect();
  tcp::CMQProto half = SendTo("q");
  half.mutable_tcp_send_msg()->set_is_transaction(1);
  ASSERT_EQ(Call(s, Auth("AKIDany", "sig", "HmacSHA1", "app@1")).result(), 0);
  ASSERT_EQ(Call(s, half).result(), 0);
  ASSERT_EQ(Call(s, SendTo("q")).result(), 0);
  ASSERT_EQ(Call(s, Auth("AKIDany", "sig", "HmacSHA1", "app@2")).result(), 0);
  half.set_seqno(next_seqno_++);
  ASSERT_EQ(Call(s, half).result(), 0);
  tcp::CMQProto batch = Request(kTcpBatchSend);
  batch.mutable_tcp_batch_send_msg()->set_queue_name("q");
  batch.mutable_tcp_batch_send_msg()->add_msgbody("b");
  batch.mutable_tcp_batch_send_msg()->set_is_transaction(1);
  ASSERT_EQ(Call(s, batch).result(), 0);
  ASSERT_EQ(handler_.calls(), 4u);
  EXPECT_EQ(handler_.requests().at(0).tcp_client_id, "app@1");
  EXPECT_EQ(handler_.requests().at(1).tcp_client_id, "");
  EXPECT_EQ(handler_.requests().at(2).tcp_client_id, "app@2");
  EXPECT_EQ(handler_.requests().at(3).tcp_client_id, "app@2");
}

// Check-back (spec §6.10): AskProducer sends 1042 {queue_name, msg_id} on the newest
// connection authenticated as the producer, and on no other.
TEST_F(TcpServerTest, AskProducerSendsACheckBackToTheProducersNewestConnection) {
  StartServer();
  Socket old_conn = Connect();
  ASSERT_EQ(Call(old_conn, Auth("AKIDany", "sig", "HmacSHA1", "producer")).result(), 0);
  Socket other = Connect();
  ASSERT_EQ(Call(other, Auth("AKIDany", "sig", "HmacSHA1", "someone-else")).result(), 0);
  Socket newest = Connect();
  ASSERT_EQ(Call(newest, Auth("AKIDany", "sig", "HmacSHA1", "producer")).result(), 0);

  server_->AskProducer("producer", "orders", 1011);
  auto query = ReadFrame(newest);
  ASSERT_TRUE(query.has_value());
  EXPECT_EQ(query->cmd(), kTcpTransactionQuery);
  EXPECT_GT(query->seqno(), 0);
  ASSERT_TRUE(query->has_transaction_query());
  EXPECT_EQ(query->transaction_query().queue_name(), "orders");
  EXPECT_EQ(query->transaction_query().msg_id(), 1011u);
  // The others got nothing: their next frame answers their own heartbeat.
  for (Socket* s : {&old_conn, &other}) {
    tcp::CMQProto hb = Heartbeat();
    EXPECT_EQ(Call(*s, hb).cmd(), kTcpHeartbeat);
  }
  // Once the newest is gone, the older connection of the producer is asked.
  // (Asked again until the server has seen the close: a query sent before goes nowhere.)
  newest.close();
  for (int i = 0; i < 250 && old_conn.available() == 0; ++i) {
    server_->AskProducer("producer", "orders", 1012);
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_GT(old_conn.available(), 0u) << "the older connection was never asked";
  auto q = ReadFrame(old_conn);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->cmd(), kTcpTransactionQuery);
  EXPECT_EQ(q->transaction_query().msg_id(), 1012u);
  // A client id nobody authenticated with: nothing, no crash.
  server_->AskProducer("nobody", "orders", 1);
  tcp::CMQProto hb = Heartbeat();
  EXPECT_EQ(Call(other, hb).cmd(), kTcpHeartbeat);
}

TEST_F(TcpServerTest, NonZeroLeadingBytesClose) {
  StartServer();
  Socket s = Connect();
  std::string frame = Frame(Heartbeat());
  frame[1] = 1;
  Write(s, frame);
  EXPECT_TRUE(Closed(s));
}

TEST_F(TcpServerTest, FrameLargerThanTheMaximumCloses) {
  StartServer();
  Socket s = Connect();
  std::string header;
  tcp::AppendFrameHeader(header, tcp::kMaxFrameSize - tcp::kFrameHeaderSize + 1);
  Write(s, header);
  EXPECT_TRUE(Closed(s));  // without waiting for the 16 MiB
}

TEST_F(TcpServerTest, NegativeLengthCloses) {
  StartServer();
  Socket s = Connect();
  Write(s, std::string("\0\0\xff\xff\xff\xff", 6));
  EXPECT_TRUE(Closed(s));
}

TEST_F(TcpServerTest, LengthBelowTheHeaderCloses) {
  StartServer();
  for (int total : {0, 5}) {
    Socket s = Connect();
    Write(s,
          std::string("\0\0", 2) + std::string(1, static_cast<char>(total)) + std::string(3, '\0'));
    EXPECT_TRUE(Closed(s)) << total;
  }
}

TEST_F(TcpServerTest, BodyThatIsNotACMQProtoCloses) {
  StartServer();
  Socket s = Connect();
  Write(s, RawFrame("\xff\xff\xff\xff garbage"));
  EXPECT_TRUE(Closed(s));
}

TEST_F(TcpServerTest, FrameWithoutSeqnoOrCmdCloses) {
  StartServer();
  {
    Socket s = Connect();
    tcp::CMQProto no_cmd;
    no_cmd.set_seqno(1);
    Write(s, Frame(no_cmd));
    EXPECT_TRUE(Closed(s));
  }
  {
    Socket s = Connect();
    LogIn(s);
    tcp::CMQProto no_seqno;
    no_seqno.set_cmd(kTcpHeartbeat);
    Write(s, Frame(no_seqno));
    EXPECT_TRUE(Closed(s));
  }
  {
    Socket s = Connect();
    Write(s, RawFrame(""));  // an empty body has neither
    EXPECT_TRUE(Closed(s));
  }
}

TEST_F(TcpServerTest, AFrameWrittenByteByByteIsReassembled) {
  StartServer();
  Socket s = Connect();
  const tcp::CMQProto auth = Auth("AKIDany", "sig");
  const tcp::CMQProto send = SendTo("q", "split");
  const std::string bytes = Frame(auth) + Frame(send);
  for (size_t i = 0; i < bytes.size(); ++i) {
    Write(s, bytes.substr(i, 1));
    if (i % 8 == 0) std::this_thread::sleep_for(milliseconds(1));
  }
  auto a = ReadFrame(s);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->seqno(), auth.seqno());
  EXPECT_EQ(a->result(), 0);
  auto b = ReadFrame(s);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->seqno(), send.seqno());
  EXPECT_EQ(b->error(), "handled q");
  ASSERT_EQ(handler_.calls(), 1u);
  EXPECT_EQ(handler_.requests()[0].body, send.SerializeAsString());
}

TEST_F(TcpServerTest, SeveralFramesInOneWrite) {
  StartServer();
  Socket s = Connect();
  std::vector<tcp::CMQProto> sent = {
      Auth("AKIDany", "sig"), Heartbeat(), SendTo("a"), SendTo("b"), Heartbeat(), SendTo("c")};
  std::string bytes;
  for (const auto& m : sent) bytes += Frame(m);
  Write(s, bytes);
  // Answers may come in any order (the handler's are posted back to the connection), so
  // they are matched by seqno. The auth is answered before the sends run, or they would
  // have been refused with 306.
  std::map<int64_t, tcp::CMQProto> answers;
  for (size_t i = 0; i < sent.size(); ++i) {
    auto a = ReadFrame(s);
    ASSERT_TRUE(a.has_value()) << i;
    answers[a->seqno()] = *a;
  }
  for (const auto& m : sent) {
    ASSERT_TRUE(answers.count(m.seqno())) << m.seqno();
    EXPECT_EQ(answers[m.seqno()].cmd(), m.cmd());
    EXPECT_EQ(answers[m.seqno()].result(), 0) << answers[m.seqno()].error();
  }
  EXPECT_EQ(handler_.calls(), 3u);
}

TEST_F(TcpServerTest, FramesLargerThanTheReadBufferArriveWhole) {
  StartServer();
  Socket s = Connect();
  LogIn(s);
  std::string big(1'000'000, 'x');
  for (size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>(i);
  tcp::CMQProto large = SendTo("q", big);
  tcp::CMQProto small = SendTo("q", "small");
  // A small frame, a large one straddling reads, a small one after it.
  Write(s, Frame(small) + Frame(large) + Frame(small));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ReadFrame(s).has_value());
  auto requests = handler_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].body, large.SerializeAsString());
  EXPECT_EQ(requests[2].body, small.SerializeAsString());
  EXPECT_EQ(Call(s, Heartbeat()).result(), 0);
}

TEST_F(TcpServerTest, AnswersPilingUpStopTheServerReadingRequests) {
  StartServer();
  handler_.PadAnswers(512 << 10);
  Socket s = Connect();
  int small = 64 << 10;  // no receive-buffer growth: the kernel holds little for the client
  ASSERT_EQ(setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  LogIn(s);
  std::set<int64_t> seqnos;
  auto wave = [&](size_t n) {
    std::string frames;
    for (size_t i = 0; i < n; ++i) {
      tcp::CMQProto r = SendTo("q" + std::to_string(seqnos.size()));
      seqnos.insert(r.seqno());
      frames += Frame(r);
    }
    Write(s, frames);
  };
  // 40 answers of 512 KiB (20 MiB): more than the socket buffers take (a few MiB), so
  // more than 4 MiB of them wait in the session, which then stops reading.
  wave(40);
  ASSERT_TRUE(WaitFor([&] { return handler_.calls() == 40; }));
  std::this_thread::sleep_for(milliseconds(300));  // the answers reach the session
  wave(40);
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(handler_.calls(), 40u) << "requests were read while answers piled up";
  // Reading the answers lets the session go on: every request is handled and answered.
  std::set<int64_t> answered;
  for (size_t i = 0; i < 80; ++i) {
    auto answer = ReadFrame(s);
    ASSERT_TRUE(answer.has_value()) << "answer " << i;
    answered.insert(answer->seqno());
  }
  EXPECT_EQ(answered, seqnos);
  EXPECT_EQ(handler_.calls(), 80u);
}

TEST_F(TcpServerTest, MaxInflightStopsHandingOnRequests) {
  TcpServerOptions options;
  options.max_inflight = 2;
  StartServer(options);
  handler_.Hold();
  Socket s = Connect();
  LogIn(s);
  tcp::CMQProto r1 = SendTo("q1");
  tcp::CMQProto r2 = SendTo("q2");
  tcp::CMQProto r3 = SendTo("q3");
  Write(s, Frame(r1) + Frame(r2) + Frame(r3));
  ASSERT_TRUE(WaitFor([&] { return handler_.calls() >= 2; }));
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(handler_.calls(), 2u) << "a third request ran beyond max_inflight";
  ASSERT_TRUE(handler_.Release(r1.seqno()));
  auto a = ReadFrame(s);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->seqno(), r1.seqno());
  ASSERT_TRUE(WaitFor([&] { return handler_.calls() == 3; }));
  EXPECT_EQ(handler_.requests()[2].route_name, "q3");
  // A fourth written later waits too.
  tcp::CMQProto r4 = SendTo("q4");
  Write(s, Frame(r4));
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(handler_.calls(), 3u);
  handler_.ReleaseAll();
  ASSERT_TRUE(WaitFor([&] { return handler_.calls() == 4; }));
  handler_.ReleaseAll();
  std::set<int64_t> answered;
  for (int i = 0; i < 3; ++i) {
    auto answer = ReadFrame(s);
    ASSERT_TRUE(answer.has_value());
    answered.insert(answer->seqno());
  }
  EXPECT_EQ(answered, (std::set<int64_t>{r2.seqno(), r3.seqno(), r4.seqno()}));
}

TEST_F(TcpServerTest, IdleTimeoutClosesASilentConnection) {
  TcpServerOptions options;
  options.idle_timeout = milliseconds(300);
  StartServer(options);
  Socket s = Connect();
  LogIn(s);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(Closed(s));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, milliseconds(200));
  EXPECT_LT(took, milliseconds(3000));
}

TEST_F(TcpServerTest, HeartbeatsKeepAConnectionOpen) {
  TcpServerOptions options;
  options.idle_timeout = milliseconds(300);
  StartServer(options);
  Socket s = Connect();
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
    EXPECT_EQ(Call(s, Heartbeat()).result(), 0) << i;
  }
}

TEST_F(TcpServerTest, NoIdleTimeoutWhileARequestIsInFlight) {
  TcpServerOptions options;
  options.idle_timeout = milliseconds(300);
  StartServer(options);
  handler_.Hold();
  Socket s = Connect();
  LogIn(s);
  tcp::CMQProto poll = SendTo("q");
  Write(s, Frame(poll));
  ASSERT_TRUE(WaitFor([&] { return handler_.held() == 1; }));
  std::this_thread::sleep_for(milliseconds(1000));
  ASSERT_TRUE(handler_.Release(poll.seqno()));
  auto a = ReadFrame(s);
  ASSERT_TRUE(a.has_value()) << "closed while a request was in flight";
  EXPECT_EQ(a->seqno(), poll.seqno());
}

TEST_F(TcpServerTest, AClientThatDoesNotReadIsClosedAfterTheWriteTimeout) {
  TcpServerOptions options;
  options.write_timeout = milliseconds(300);
  StartServer(options);
  Socket s = Connect();
  int small = 4096;
  setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  std::string batch;
  for (int i = 0; i < 1000; ++i) batch += Frame(Heartbeat());
  // Heartbeats are answered, and never read here: the answers back up until the server
  // gives up on writing them and closes (the next write then fails).
  const auto start = std::chrono::steady_clock::now();
  boost::system::error_code ec;
  while (!ec && std::chrono::steady_clock::now() - start < std::chrono::seconds(20)) {
    net::write(s, net::buffer(batch), ec);
  }
  EXPECT_TRUE(ec) << "still open after 20 s";
}

TEST_F(TcpServerTest, StopClosesLiveConnections) {
  StartServer();
  handler_.Hold();
  Socket idle = Connect();
  EXPECT_EQ(Call(idle, Heartbeat()).result(), 0);
  Socket busy = Connect();
  LogIn(busy);
  Write(busy, Frame(SendTo("q")));
  ASSERT_TRUE(WaitFor([&] { return handler_.held() == 1; }));
  server_->Stop();
  EXPECT_TRUE(Closed(idle));
  EXPECT_TRUE(Closed(busy));
  handler_.ReleaseAll();  // an answer for a closed connection is dropped
  server_->Stop();        // idempotent
  // No new connections after Stop.
  Socket again(client_ioc_);
  boost::system::error_code ec;
  again.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()), ec);
  if (!ec) {
    timeval tv{5, 0};
    setsockopt(again.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    EXPECT_TRUE(Closed(again));
  }
}

TEST_F(TcpServerTest, ABadAddressFailsToStart) {
  TcpServer server(
      ioc_, "not an address", [](HttpRequest, ResponseCallback) {}, config_, clock_);
  EXPECT_FALSE(server.Start().ok());
}

tcp::CMQProto BatchPullOf(tcp::CMQProto m, const std::string& queue, int wait_seconds) {
  m.mutable_tcp_batch_pull_msg()->set_queue_name(queue);
  m.mutable_tcp_batch_pull_msg()->set_num_msg(16);
  m.mutable_tcp_batch_pull_msg()->set_poll_wait_seconds(wait_seconds);
  return m;
}

// Pulls in flight are capped apart (their answers can be 16 MiB each). One more waits for a
// turn, not refused (one JVM's consumers of many queues share a connection, and a refusal
// stops the SDK's subscription), while other requests still run; it then waits only what is
// left of its poll wait.
TEST_F(TcpServerTest, PullsBeyondTheirCapWaitForATurn) {
  Socket s = StartWithPullCap(2);
  tcp::CMQProto p1 = BatchPullOf(Request(kTcpBatchPull), "q1", 30);
  tcp::CMQProto p2 = BatchPullOf(Request(kTcpBatchPull), "q2", 30);
  tcp::CMQProto p3 = BatchPullOf(Request(kTcpBatchPull), "q3", 30);
  tcp::CMQProto send = SendTo("q4");
  Write(s, Frame(p1) + Frame(p2) + Frame(p3) + Frame(send));
  ASSERT_TRUE(WaitFor([&] { return handler_.calls() == 3; }));  // p1, p2 and the send
  EXPECT_EQ(handler_.requests()[2].route_name, "q4");
  std::this_thread::sleep_for(milliseconds(1100));
  EXPECT_EQ(handler_.calls(), 3u) << "a third pull ran beyond the cap";
  ASSERT_TRUE(handler_.Release(p1.seqno()));
  auto a = ReadFrame(s);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->seqno(), p1.seqno());
  ASSERT_TRUE(WaitFor([&] { return handler_.calls() == 4; }));
  HttpRequest third = handler_.requests()[3];
  EXPECT_EQ(third.route_name, "q3");
  tcp::CMQProto started;
  ASSERT_TRUE(started.ParseFromString(third.body));
  EXPECT_EQ(started.seqno(), p3.seqno());
  const int32_t wait = started.tcp_batch_pull_msg().poll_wait_seconds();
  EXPECT_LE(wait, 28) << "it waited over a second for its turn";
  EXPECT_GE(wait, 25);
  EXPECT_NE(third.abandoned, nullptr) << "a pull carries its connection's AbandonFlag";
  handler_.ReleaseAll();
}

// A pull that waited its whole poll wait without a turn is answered "no message" by the
// listener itself, as a long poll would be.
TEST_F(TcpServerTest, APullWaitingForATurnPastItsPollWaitHasNoMessage) {
  Socket s = StartWithPullCap(1);
  tcp::CMQProto p1 = BatchPullOf(Request(kTcpBatchPull), "q1", 30);
  tcp::CMQProto p2 = BatchPullOf(Request(kTcpBatchPull), "q2", 1);
  const auto start = std::chrono::steady_clock::now();
  Write(s, Frame(p1) + Frame(p2));
  auto a = ReadFrame(s);
  ASSERT_TRUE(a.has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(900));
  EXPECT_EQ(a->seqno(), p2.seqno());
  EXPECT_EQ(a->result(), kTcpResultNoMessage);
  EXPECT_EQ(a->error(), "(10200)no message");
  EXPECT_EQ(handler_.calls(), 1u) << "it never ran";
  handler_.ReleaseAll();
  auto b = ReadFrame(s);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->seqno(), p1.seqno());
}

// A client that ends its side abandons its pulls: one waiting for a turn is answered "no
// message" at once, one running is abandoned (its flag set), and once the running one is
// answered and written the connection closes.
TEST_F(TcpServerTest, AHalfCloseAnswersWaitingPullsAndAbandonsRunningOnes) {
  Socket s = StartWithPullCap(1);
  tcp::CMQProto p1 = BatchPullOf(Request(kTcpBatchPull), "q1", 30);
  tcp::CMQProto p2 = BatchPullOf(Request(kTcpBatchPull), "q2", 30);
  Write(s, Frame(p1) + Frame(p2));
  ASSERT_TRUE(WaitFor([&] { return handler_.held() == 1; }));
  auto flag = handler_.requests()[0].abandoned;
  ASSERT_NE(flag, nullptr);
  s.shutdown(Socket::shutdown_send);
  auto waiting = ReadFrame(s);
  ASSERT_TRUE(waiting.has_value());
  EXPECT_EQ(waiting->seqno(), p2.seqno());
  EXPECT_EQ(waiting->result(), kTcpResultNoMessage);
  EXPECT_TRUE(WaitFor([&] { return flag->load(); }));
  EXPECT_EQ(handler_.calls(), 1u) << "the waiting pull never ran";
  ASSERT_TRUE(handler_.Release(p1.seqno()));
  auto running = ReadFrame(s);
  ASSERT_TRUE(running.has_value());
  EXPECT_EQ(running->seqno(), p1.seqno());
  EXPECT_TRUE(Closed(s));
}

// A closed connection's long polls are abandoned: the service answers them "no message"
// instead of hiding messages for their visibility timeout.
TEST_F(TcpServerTest, ClosingAConnectionAbandonsItsPulls) {
  StartServer();
  handler_.Hold();
  Socket s = Connect();
  LogIn(s);
  Write(s, Frame(BatchPullOf(Request(kTcpBatchPull), "q1", 30)) + Frame(SendTo("q2")));
  ASSERT_TRUE(WaitFor([&] { return handler_.calls() == 2; }));
  auto flag = handler_.requests()[0].abandoned;
  ASSERT_NE(flag, nullptr);
  EXPECT_FALSE(flag->load());
  EXPECT_EQ(handler_.requests()[1].abandoned, nullptr) << "only pulls carry it";
  s.close();
  EXPECT_TRUE(WaitFor([&] { return flag->load(); }));
}

// No leader for a send's queue: the SDK retries a send only without an answer, so the
// listener closes the connection instead of answering 6000, once the other requests in
// flight are answered and written.
TEST_F(TcpServerTest, AnUnavailableSendClosesTheConnectionAfterTheOtherAnswers) {
  StartServer();
  Socket s = Connect();
  LogIn(s);
  handler_.Hold();
  tcp::CMQProto held = SendTo("q1");
  Write(s, Frame(held));
  ASSERT_TRUE(WaitFor([&] { return handler_.held() == 1; }));
  tcp::CMQProto down = SendTo("down");
  Write(s, Frame(down));
  ASSERT_TRUE(WaitFor([&] { return handler_.calls() == 2; }));
  ASSERT_TRUE(handler_.Release(down.seqno()));
  std::this_thread::sleep_for(milliseconds(200));
  ASSERT_TRUE(handler_.Release(held.seqno()));
  auto a = ReadFrame(s);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->seqno(), held.seqno());
  EXPECT_TRUE(Closed(s)) << "the unavailable send was answered, or the connection stayed";
}

// No leader for a pull's queue: "no message" (the SDK ignores it; any other code stops one
// version's subscription), held back a moment so the subscription does not spin.
TEST_F(TcpServerTest, AnUnavailablePullHasNoMessageAfterAMoment) {
  StartServer();
  Socket s = Connect();
  LogIn(s);
  tcp::CMQProto pull = BatchPullOf(Request(kTcpBatchPull), "down", 10);
  const auto start = std::chrono::steady_clock::now();
  tcp::CMQProto a = Call(s, pull);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(400));
  EXPECT_EQ(a.result(), kTcpResultNoMessage);
  EXPECT_EQ(a.error(), "(10200)no message");
  EXPECT_EQ(Call(s, Heartbeat()).cmd(), kTcpHeartbeat) << "the connection stays open";
}

// A client that ends its side after a request still gets the answer (a retry would send
// the message twice), then the connection closes.
TEST_F(TcpServerTest, AHalfClosedConnectionIsAnsweredThenClosed) {
  StartServer();
  Socket s = Connect();
  LogIn(s);
  handler_.Hold();
  tcp::CMQProto send = SendTo("q1");
  Write(s, Frame(send));
  ASSERT_TRUE(WaitFor([&] { return handler_.held() == 1; }));
  s.shutdown(Socket::shutdown_send);
  std::this_thread::sleep_for(milliseconds(100));
  ASSERT_TRUE(handler_.Release(send.seqno()));
  auto a = ReadFrame(s);
  ASSERT_TRUE(a.has_value()) << "the answer was dropped at the half-close";
  EXPECT_EQ(a->seqno(), send.seqno());
  EXPECT_TRUE(Closed(s));
}

TEST(TcpServerOptionsTest, FromConfig) {
  ServerConfig config;
  config.tcp_idle_timeout_seconds = 45;
  config.write_timeout_seconds = 7;
  config.tcp_max_inflight = 12;
  config.tcp_max_inflight_pulls = 3;
  TcpServerOptions o = TcpServerOptions::FromConfig(config);
  EXPECT_EQ(o.idle_timeout, milliseconds(45'000));
  EXPECT_EQ(o.write_timeout, milliseconds(7'000));
  EXPECT_EQ(o.max_inflight, 12u);
  EXPECT_EQ(o.max_inflight_pulls, 3u);
}

TEST(TcpFrameTest, HeaderIsTwoZerosAndALittleEndianTotal) {
  std::string out;
  tcp::AppendFrameHeader(out, 95);
  EXPECT_EQ(out, std::string("\x00\x00\x65\x00\x00\x00", 6));  // the spec's auth frame
  EXPECT_EQ(tcp::BodySizeOf(out), 95u);
  std::string big;
  tcp::AppendFrameHeader(big, 0x01020304 - 6);
  EXPECT_EQ(big, std::string("\x00\x00\x04\x03\x02\x01", 6));
  EXPECT_FALSE(tcp::BodySizeOf(std::string("\x00\x00\x06\x00\x00", 5)).has_value());  // short
  EXPECT_EQ(tcp::BodySizeOf(std::string("\x00\x00\x06\x00\x00\x00", 6)), 0u);
  EXPECT_FALSE(tcp::BodySizeOf(std::string("\x00\x01\x06\x00\x00\x00", 6)).has_value());
  EXPECT_FALSE(tcp::BodySizeOf(std::string("\x00\x00\x05\x00\x00\x00", 6)).has_value());
  std::string max;
  tcp::AppendFrameHeader(max, tcp::kMaxFrameSize - 6);
  EXPECT_EQ(tcp::BodySizeOf(max), tcp::kMaxFrameSize - 6);
  std::string over;
  tcp::AppendFrameHeader(over, tcp::kMaxFrameSize - 5);
  EXPECT_FALSE(tcp::BodySizeOf(over).has_value());
}

}  // namespace
}  // namespace cmq::api
