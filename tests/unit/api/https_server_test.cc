// HttpServer serving HTTPS (HttpServerOptions::tls) over a real loopback socket: the same
// sessions behind a TLS handshake; a client that checks the certificate; what is refused.

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <mutex>
#include <thread>

#include "api/http_server.h"

namespace cmq::api {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using Tcp = net::ip::tcp;
using namespace std::chrono_literals;

const std::string kCert = std::string(CMQ_TEST_FIXTURES_DIR) + "/tls/server.crt";
const std::string kKey = std::string(CMQ_TEST_FIXTURES_DIR) + "/tls/server.key";
const std::string kOtherKey = std::string(CMQ_TEST_FIXTURES_DIR) + "/tls/other.key";

class HttpsServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options = {}) {
    auto tls = MakeServerTlsContext(kCert, kKey);
    ASSERT_TRUE(tls.ok()) << tls.status().ToString();
    options.tls = *tls;
    server_ = std::make_unique<HttpServer>(
        ioc_, "127.0.0.1:0",
        [this](HttpRequest r, ResponseCallback done) {
          {
            std::lock_guard lock(mu_);
            ++calls_;
          }
          done(HttpResponse{200, r.method + " " + r.target + " " + r.body, true});
        },
        options);
    ASSERT_TRUE(server_->Start().ok());
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    work_.reset();
    for (auto& t : threads_) t.join();
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  Tcp::endpoint Endpoint() const {
    return Tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port());
  }

  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_{ioc_.get_executor()};
  std::vector<std::thread> threads_;
  std::unique_ptr<HttpServer> server_;
  net::io_context client_ioc_;
  std::mutex mu_;
  int calls_ = 0;
};

// A client that trusts only the test certificate and checks the host name, as curl
// --cacert would.
TEST_F(HttpsServerTest, ServesRequestsOverTlsWithACertificateTheClientVerifies) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  net::ssl::context client_ctx(net::ssl::context::tls_client);
  client_ctx.load_verify_file(kCert);
  client_ctx.set_verify_mode(net::ssl::verify_peer);
  boost::beast::ssl_stream<Tcp::socket> stream(client_ioc_, client_ctx);
  stream.set_verify_callback(net::ssl::host_name_verification("localhost"));
  stream.next_layer().connect(Endpoint());
  stream.handshake(net::ssl::stream_base::client);
  // Two requests on the one connection (keep-alive).
  boost::beast::flat_buffer buffer;
  for (const char* body : {"Action=ListQueue", "Action=ListTopic"}) {
    http::request<http::string_body> req(http::verb::post, "/v2/index.php", 11);
    req.set(http::field::host, "localhost");
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), std::string("POST /v2/index.php ") + body);
    EXPECT_TRUE(res.keep_alive());
  }
  EXPECT_EQ(calls(), 2);
}

TEST_F(HttpsServerTest, PlainHttpToTheHttpsPortIsClosedUnanswered) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Tcp::socket s(client_ioc_);
  s.connect(Endpoint());
  const std::string plain =
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\nAction=ListQueue";
  net::write(s, net::buffer(plain));
  std::string got(4096, '\0');
  boost::system::error_code ec;
  size_t n = 0;
  while (!ec) n += s.read_some(net::buffer(got.data() + n, got.size() - n), ec);
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  // Whatever came back (a TLS alert at most) is no HTTP answer, and nothing ran.
  EXPECT_EQ(got.substr(0, std::min<size_t>(n, 5)).find("HTTP/"), std::string::npos);
  EXPECT_EQ(calls(), 0);
}

TEST_F(HttpsServerTest, AClientThatNeverHandshakesIsClosedAtTheIdleDeadline) {
  HttpServerOptions options;
  options.idle_timeout = 300ms;
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  Tcp::socket s(client_ioc_);
  s.connect(Endpoint());
  const auto start = std::chrono::steady_clock::now();
  char c;
  boost::system::error_code ec;
  s.read_some(net::buffer(&c, 1), ec);
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(MakeServerTlsContextTest, RefusesMissingFilesAndAKeyThatIsNotTheCertificates) {
  EXPECT_TRUE(MakeServerTlsContext(kCert, kKey).ok());
  auto no_cert = MakeServerTlsContext("/nonexistent/cert.pem", kKey);
  ASSERT_FALSE(no_cert.ok());
  EXPECT_EQ(no_cert.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(no_cert.status().message().find("/nonexistent/cert.pem"), std::string::npos);
  auto no_key = MakeServerTlsContext(kCert, "/nonexistent/key.pem");
  ASSERT_FALSE(no_key.ok());
  EXPECT_NE(no_key.status().message().find("/nonexistent/key.pem"), std::string::npos);
  auto mismatch = MakeServerTlsContext(kCert, kOtherKey);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find(kOtherKey), std::string::npos);
  auto swapped = MakeServerTlsContext(kKey, kCert);  // a key where the certificate goes
  EXPECT_FALSE(swapped.ok());
}

}  // namespace
}  // namespace cmq::api
