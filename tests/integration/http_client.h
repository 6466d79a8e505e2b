#pragma once
// A deliberately plain HTTP/1.1 client for the integration tests: it speaks the CMQ wire
// format by hand (form body in, JSON out) so that the tests check exactly what an SDK sees.

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/signature.h"
#include "common/url.h"

namespace cmq::testing {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

struct RawResponse {
  unsigned status = 0;
  std::string body;
  bool keep_alive = true;
};

class HttpClient {
 public:
  explicit HttpClient(int port) : port_(port) {}

  // One request on the kept-alive connection (reconnecting if the server closed it).
  RawResponse Request(http::verb method, const std::string& target, const std::string& body,
                      const std::string& content_type = "application/x-www-form-urlencoded") {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        if (!stream_) Connect();
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, host());
        if (!content_type.empty()) req.set(http::field::content_type, content_type);
        req.keep_alive(true);
        req.body() = body;
        req.prepare_payload();
        http::write(*stream_, req);
        http::response<http::string_body> res;
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 << 20);
        http::read(*stream_, buffer_, parser);
        res = parser.release();
        RawResponse out{res.result_int(), res.body(), res.keep_alive()};
        if (!res.keep_alive()) stream_.reset();
        return out;
      } catch (const std::exception&) {
        stream_.reset();
        buffer_.clear();
        if (attempt == 1) throw;
      }
    }
    return {};
  }

  // POSTs a CMQ action and parses the JSON answer. Signed when a key is set.
  nlohmann::json Call(const std::string& action, FormParams params) {
    params.insert(params.begin(), {"Action", action});
    if (!secret_key_.empty()) {
      params.emplace_back("SecretId", secret_id_);
      params.emplace_back("Timestamp", std::to_string(time(nullptr)));
      params.emplace_back("Nonce", "4242");
      params.emplace_back("SignatureMethod", "HmacSHA256");
      std::string sts = StringToSign("POST", host(), "/v2/index.php", params);
      params.emplace_back("Signature", Sign(sts, secret_key_, SignatureAlgorithm::kHmacSha256));
    }
    RawResponse r = Request(http::verb::post, "/v2/index.php", EncodeForm(params));
    if (r.status != 200) throw std::runtime_error("HTTP status " + std::to_string(r.status));
    return nlohmann::json::parse(r.body);
  }

  void SetCredentials(std::string id, std::string key) {
    secret_id_ = std::move(id);
    secret_key_ = std::move(key);
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  void Close() { stream_.reset(); }

 private:
  void Connect() {
    stream_.emplace(ioc_);
    tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_));
    stream_->connect(ep);
    stream_->expires_never();
    buffer_.clear();
  }

  int port_;
  boost::asio::io_context ioc_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::string secret_id_, secret_key_;
};

}  // namespace cmq::testing
