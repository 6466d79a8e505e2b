// cmqd --https: the CMQ API over TLS next to plain HTTP, as the SDKs reach it at an
// https:// endpoint; and the start-up refusals of a bad TLS configuration.

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include "client/client.h"
#include "cmqd_process.h"
#include "common/url.h"
#include "http_client.h"
#include "test_support/free_port.h"

namespace cmq::testing {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using json = nlohmann::json;

const std::string kTls = std::string(CMQ_TEST_FIXTURES_DIR) + "/tls/";

// One TLS connection that trusts only the test certificate; posts CMQ forms.
class HttpsClient {
 public:
  explicit HttpsClient(int port) : ctx_(net::ssl::context::tls_client), stream_(ioc_, ctx_) {
    ctx_.load_verify_file(kTls + "server.crt");
    stream_.set_verify_mode(net::ssl::verify_peer);
    stream_.set_verify_callback(net::ssl::host_name_verification("localhost"));
    stream_.next_layer().connect(
        net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)));
    stream_.handshake(net::ssl::stream_base::client);
  }

  json Post(const FormParams& form) {
    http::request<http::string_body> req(http::verb::post, "/v2/index.php", 11);
    req.set(http::field::host, "localhost");
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.body() = EncodeForm(form);
    req.prepare_payload();
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    EXPECT_EQ(res.result_int(), 200);
    return json::parse(res.body());
  }

 private:
  net::io_context ioc_;
  net::ssl::context ctx_;
  boost::beast::ssl_stream<net::ip::tcp::socket> stream_;
  boost::beast::flat_buffer buffer_;
};

TEST(HttpsTest, TheApiIsServedOverTlsAndPlainHttpAlike) {
  const int https_port = FreeLoopbackPort();
  CmqdProcess cmqd(MakeTempDir("cmq-https"),
                   {"--https", "127.0.0.1:" + std::to_string(https_port), "--tls-cert",
                    kTls + "server.crt", "--tls-key", kTls + "server.key"});
  cmqd.Start();
  EXPECT_NE(cmqd.log().find("HTTPS on 127.0.0.1:" + std::to_string(https_port)), std::string::npos)
      << cmqd.log();
  HttpsClient tls(https_port);
  EXPECT_EQ(tls.Post({{"Action", "CreateQueue"}, {"queueName", "secure"}})["code"], 0);
  json sent = tls.Post({{"Action", "SendMessage"}, {"queueName", "secure"}, {"msgBody", "hi"}});
  ASSERT_EQ(sent["code"], 0) << sent.dump();
  json got = tls.Post({{"Action", "ReceiveMessage"}, {"queueName", "secure"}});
  ASSERT_EQ(got["code"], 0) << got.dump();
  EXPECT_EQ(got["msgBody"], "hi");
  EXPECT_EQ(got["msgId"], sent["msgId"]);
  // The same node through its plain HTTP port: the message sent over TLS is in flight.
  HttpClient plain(cmqd.port());
  json attributes = plain.Call("GetQueueAttributes", {{"queueName", "secure"}});
  ASSERT_EQ(attributes["code"], 0) << attributes.dump();
  EXPECT_EQ(attributes["inactiveMsgNum"], 1);
}

// Our own client library (and so cmqctl) over https: the certificate checked against a CA
// file, refused without it, accepted unchecked only when asked.
TEST(HttpsTest, OurClientSpeaksHttpsAndChecksTheCertificate) {
  const int https_port = FreeLoopbackPort();
  CmqdProcess cmqd(MakeTempDir("cmq-https-client"),
                   {"--https", "127.0.0.1:" + std::to_string(https_port), "--tls-cert",
                    kTls + "server.crt", "--tls-key", kTls + "server.key"});
  cmqd.Start();
  const std::string endpoint = "https://127.0.0.1:" + std::to_string(https_port);
  client::ClientOptions trusted;
  trusted.endpoint = endpoint;
  trusted.tls_ca_file = kTls + "server.crt";
  client::Client c(trusted);
  ASSERT_TRUE(c.CreateQueue("viaTls").ok());
  auto sent = c.SendMessage("viaTls", "over tls");
  ASSERT_TRUE(sent.ok()) << sent.error().ToString();
  auto got = c.ReceiveMessage("viaTls", 1);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(got->msg_id, *sent);
  EXPECT_EQ(got->body, "over tls");

  client::ClientOptions system_roots;  // the test certificate is self-signed: not trusted
  system_roots.endpoint = endpoint;
  auto refused = client::Client(system_roots).ListQueue();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, client::Error::Kind::kTransport);
  EXPECT_NE(refused.error().message.find("TLS handshake"), std::string::npos)
      << refused.error().ToString();

  client::ClientOptions insecure = system_roots;
  insecure.tls_verify = false;
  auto listed = client::Client(insecure).ListQueue();
  ASSERT_TRUE(listed.ok()) << listed.error().ToString();
  EXPECT_EQ(listed->total_count, 1);

  // Plain http to the https port fails cleanly, not with a hang.
  client::ClientOptions plain;
  plain.endpoint = "http://127.0.0.1:" + std::to_string(https_port);
  plain.request_timeout = std::chrono::milliseconds(5000);
  EXPECT_FALSE(client::Client(plain).ListQueue().ok());
}

TEST(HttpsTest, ABadTlsConfigurationStopsTheStartWithAClearError) {
  const std::string https = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--https", https}, "--https needs --tls-cert and --tls-key"},
      {{"--https", https, "--tls-cert", kTls + "server.crt", "--tls-key", kTls + "other.key"},
       "TLS key " + kTls + "other.key"},
      {{"--https", https, "--tls-cert", "/nonexistent.pem", "--tls-key", kTls + "server.key"},
       "TLS certificate /nonexistent.pem"},
  };
  for (const auto& [args, expected] : cases) {
    CmqdProcess(MakeTempDir("cmq-https-bad"), args).ExpectStartFails(expected);
  }
}

}  // namespace
}  // namespace cmq::testing
