// HttpServer over a real loopback socket.

#include "api/http_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <mutex>
#include <thread>

#include "api_test_util.h"

namespace cmq::api {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using Tcp = net::ip::tcp;

// Answers "method target body"; targets starting with "/hold" are parked until Release().
class TestHandler {
 public:
  void operator()(HttpRequest request, ResponseCallback done) {
    std::string body = request.method + " " + request.target + " " + request.body;
    if (request.too_large) body = "too_large";
    std::lock_guard<std::mutex> lock(mutex_);
    ++calls_;
    last_abandoned_ = request.abandoned;
    if (request.target.rfind("/hold", 0) == 0) {
      held_.emplace_back(std::move(done), std::move(body));
      return;
    }
    done(HttpResponse{200, std::move(body), request.keep_alive && !request.too_large});
  }
  void Release() {
    std::vector<std::pair<ResponseCallback, std::string>> held;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      held.swap(held_);
    }
    // From another thread, as the QueueService would.
    std::thread([held = std::move(held)]() mutable {
      for (auto& [done, body] : held) done(HttpResponse{200, body, true});
    }).join();
  }
  size_t held() {
    std::lock_guard<std::mutex> lock(mutex_);
    return held_.size();
  }
  std::shared_ptr<const std::atomic<bool>> last_abandoned() {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_abandoned_;
  }

 private:
  std::mutex mutex_;
  int calls_ = 0;
  std::shared_ptr<const std::atomic<bool>> last_abandoned_;
  std::vector<std::pair<ResponseCallback, std::string>> held_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options = {}, RequestHandler handler = nullptr) {
    if (!handler)
      handler = [this](HttpRequest r, ResponseCallback d) { handler_(std::move(r), std::move(d)); };
    server_ = std::make_unique<HttpServer>(ioc_, "127.0.0.1:0", std::move(handler), options);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->port(), 0);
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    work_.reset();
    for (auto& t : threads_) t.join();
  }
  Tcp::socket Connect() {
    Tcp::socket s(client_ioc_);
    s.connect(Tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    timeval tv{5, 0};  // no test waits forever on a read
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return s;
  }
  static std::string Post(const std::string& target, const std::string& body,
                          bool keep_alive = true) {
    return "POST " + target +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n" + (keep_alive ? "" : "Connection: close\r\n") + "\r\n" + body;
  }
  static http::response<http::string_body> Read(Tcp::socket& s, boost::beast::flat_buffer& buf) {
    http::response<http::string_body> response;
    boost::beast::error_code ec;
    http::read(s, buf, response, ec);
    EXPECT_FALSE(ec) << ec.message();
    return response;
  }
  // True if the server closed the connection (EOF or reset) within the receive timeout.
  static bool Closed(Tcp::socket& s) {
    char c;
    boost::system::error_code ec;
    s.read_some(net::buffer(&c, 1), ec);
    return ec == net::error::eof || ec == net::error::connection_reset;
  }

  net::io_context ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_{
      net::make_work_guard(ioc_)};
  net::io_context client_ioc_;
  TestHandler handler_;
  std::unique_ptr<HttpServer> server_;
  std::vector<std::thread> threads_;
};

TEST_F(HttpServerTest, KeepAliveConnectionServesSeveralRequests) {
  StartServer();
  Tcp::socket s = Connect();
  boost::beast::flat_buffer buf;
  for (int i = 0; i < 3; ++i) {
    net::write(s, net::buffer(Post("/v2/index.php", "n=" + std::to_string(i))));
    auto r = Read(s, buf);
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_EQ(r.body(), "POST /v2/index.php n=" + std::to_string(i));
    EXPECT_EQ(r[http::field::content_type], "application/json");
    EXPECT_TRUE(r.keep_alive());
  }
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  Tcp::socket s = Connect();
  net::write(s, net::buffer(Post("/hold", "first") + Post("/now", "second")));
  // The second is handled while the first is parked, but must not overtake it.
  for (int i = 0; i < 200 && handler_.held() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  handler_.Release();
  boost::beast::flat_buffer buf;
  EXPECT_EQ(Read(s, buf).body(), "POST /hold first");
  EXPECT_EQ(Read(s, buf).body(), "POST /now second");
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  StartServer();
  Tcp::socket s = Connect();
  net::write(s, net::buffer(Post("/", "x", /*keep_alive=*/false)));
  boost::beast::flat_buffer buf;
  auto r = Read(s, buf);
  EXPECT_FALSE(r.keep_alive());
  EXPECT_TRUE(Closed(s));
}

TEST_F(HttpServerTest, OversizedBodyGetsA10420AnswerAndCloses) {
  testing::DispatcherHarness harness;
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options, harness.dispatcher.AsHandler());
  Tcp::socket s = Connect();
  net::write(s, net::buffer(Post("/", "Action=SendMessage&msgBody=" + std::string(5000, 'x'))));
  boost::beast::flat_buffer buf;
  auto r = Read(s, buf);
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_FALSE(r.keep_alive());
  auto j = nlohmann::json::parse(r.body());
  EXPECT_EQ(j["code"], 4000);
  EXPECT_EQ(std::string(j["message"]).rfind("(10420)", 0), 0u) << j;
  EXPECT_TRUE(Closed(s));
}

// A GET carries its parameters in the request line (spec §3): it may be as large as a
// POST's body, beyond max_header_bytes.
TEST_F(HttpServerTest, AGetAsLargeAsABodyIsRead) {
  HttpServerOptions options;
  options.max_header_bytes = 1024;
  options.max_body_bytes = 64 * 1024;
  StartServer(options);
  Tcp::socket s = Connect();
  const std::string target = "/?Action=SendMessage&msgBody=" + std::string(40 * 1024, 'x');
  net::write(s, net::buffer("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  boost::beast::flat_buffer buf;
  EXPECT_EQ(Read(s, buf).body(), "GET " + target + " ");
  // Beyond both limits together it is too large.
  const std::string huge = "/?msgBody=" + std::string(70 * 1024, 'x');
  net::write(s, net::buffer("GET " + huge + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  EXPECT_EQ(Read(s, buf).body(), "too_large");
}

// libcurl sends "Expect: 100-continue" with bodies over 1 MiB and waits a second for the
// go-ahead: it gets it at once.
TEST_F(HttpServerTest, Expect100ContinueIsAnsweredBeforeTheBody) {
  StartServer();
  Tcp::socket s = Connect();
  const std::string body = "Action=SendMessage&msgBody=abc";
  net::write(s, net::buffer("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
                            "Content-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n"));
  std::string interim(25, '\0');
  boost::system::error_code ec;
  net::read(s, net::buffer(interim), ec);  // SO_RCVTIMEO: fails rather than hangs
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  net::write(s, net::buffer(body));
  boost::beast::flat_buffer buf;
  EXPECT_EQ(Read(s, buf).body(), "POST / " + body);
  // Without the header, no interim answer.
  net::write(s, net::buffer(Post("/", "plain")));
  EXPECT_EQ(Read(s, buf).body(), "POST / plain");
}

// A request whose client goes away (a long poll, say) is marked abandoned, so the service
// does not give it a message that no one would read.
TEST_F(HttpServerTest, AClosedConnectionAbandonsItsPendingRequests) {
  StartServer();
  auto s = std::make_unique<Tcp::socket>(Connect());
  net::write(*s, net::buffer(Post("/hold", "long poll")));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (handler_.held() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(handler_.held(), 1u);
  auto flag = handler_.last_abandoned();
  ASSERT_NE(flag, nullptr);
  EXPECT_FALSE(flag->load());
  s->close();
  while (!flag->load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(flag->load());
  handler_.Release();  // its answer goes nowhere
}

TEST_F(HttpServerTest, DispatcherEndToEnd) {
  testing::DispatcherHarness harness;
  StartServer({}, harness.dispatcher.AsHandler());
  Tcp::socket s = Connect();
  boost::beast::flat_buffer buf;
  net::write(s, net::buffer(Post("/v2/index.php", "Action=CreateQueue&queueName=q1")));
  EXPECT_EQ(nlohmann::json::parse(Read(s, buf).body())["code"], 0);
  net::write(s, net::buffer(std::string("GET /?Action=ListQueue HTTP/1.1\r\nHost: x\r\n\r\n")));
  auto j = nlohmann::json::parse(Read(s, buf).body());
  EXPECT_EQ(j["totalCount"], 1);
  net::write(s, net::buffer(std::string("DELETE / HTTP/1.1\r\nHost: x\r\n\r\n")));
  EXPECT_EQ(nlohmann::json::parse(Read(s, buf).body())["message"],
            "(10410)unexpected http DELETE only GET or POST is supported");
}

TEST_F(HttpServerTest, ASlowRequestDoesNotBlockOtherConnections) {
  StartServer();
  Tcp::socket slow = Connect();
  net::write(slow, net::buffer(Post("/hold", "slow")));
  Tcp::socket fast = Connect();
  net::write(fast, net::buffer(Post("/now", "fast")));
  boost::beast::flat_buffer buf;
  EXPECT_EQ(Read(fast, buf).body(), "POST /now fast");
  // The slow request may reach the handler after the fast one was answered (each
  // connection has its own strand): wait for it, or Release would find nothing to release
  // and the read below would wait for ever.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (handler_.held() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(handler_.held(), 1u);
  handler_.Release();
  boost::beast::flat_buffer slow_buf;
  EXPECT_EQ(Read(slow, slow_buf).body(), "POST /hold slow");
}

TEST_F(HttpServerTest, StopClosesIdleConnections) {
  StartServer();
  Tcp::socket s = Connect();
  boost::beast::flat_buffer buf;
  net::write(s, net::buffer(Post("/", "x")));
  Read(s, buf);
  server_->Stop();
  EXPECT_TRUE(Closed(s));
  // No new connections after Stop.
  Tcp::socket again(client_ioc_);
  boost::system::error_code ec;
  again.connect(Tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()), ec);
  if (!ec) {
    EXPECT_TRUE(Closed(again));
  }
}

TEST_F(HttpServerTest, IdleConnectionsTimeOut) {
  HttpServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(200);
  StartServer(options);
  Tcp::socket s = Connect();
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(Closed(s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(HttpServerTest, NoIdleDeadlineWhileARequestIsHandled) {
  HttpServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(100);
  StartServer(options);
  Tcp::socket s = Connect();
  net::write(s, net::buffer(Post("/hold", "long poll")));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  handler_.Release();
  boost::beast::flat_buffer buf;
  EXPECT_EQ(Read(s, buf).body(), "POST /hold long poll");
}

TEST(SplitHostPortTest, Forms) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(SplitHostPort("127.0.0.1:8080", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(SplitHostPort("[::1]:0", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  EXPECT_FALSE(SplitHostPort("localhost", host, port));
  EXPECT_FALSE(SplitHostPort("h:99999", host, port));
  EXPECT_FALSE(SplitHostPort("h:", host, port));
}

}  // namespace
}  // namespace cmq::api
