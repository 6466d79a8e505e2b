#include "cluster/http_push_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace cmq::cluster {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

bool ParsePushUrl(const std::string& url, ParsedUrl& out) {
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    out.tls = false;
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    out.tls = true;
    rest = url.substr(8);
  } else {
    return false;
  }
  size_t slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!out.target.empty() && out.target[0] == '?') out.target = "/" + out.target;
  if (authority.empty()) return false;
  size_t colon = authority.rfind(':');
  if (authority[0] == '[') {  // [v6]:port
    size_t close = authority.find(']');
    if (close == std::string::npos) return false;
    out.host = authority.substr(1, close - 1);
    colon = authority.find(':', close);
  } else {
    out.host = authority.substr(0, colon);
  }
  out.port = colon == std::string::npos ? (out.tls ? "443" : "80") : authority.substr(colon + 1);
  if (out.host.empty() || out.port.empty()) return false;
  for (char c : out.port) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

namespace {

// One push: resolve, connect, (handshake,) write, read, done. Owns itself via shared_ptr.
template <typename Stream>
class PushOp : public std::enable_shared_from_this<PushOp<Stream>> {
 public:
  PushOp(Stream stream, tcp::resolver resolver, ParsedUrl url, PushRequest request,
         std::function<void(Status)> done)
      : stream_(std::move(stream)),
        resolver_(std::move(resolver)),
        url_(std::move(url)),
        done_(std::move(done)) {
    req_.method(http::verb::post);
    req_.target(url_.target);
    req_.version(11);
    bool default_port = url_.port == (url_.tls ? "443" : "80");
    req_.set(http::field::host, default_port ? url_.host : url_.host + ":" + url_.port);
    for (auto& [name, value] : request.headers) req_.set(name, value);
    req_.keep_alive(false);
    req_.body() = std::move(request.body);
    req_.prepare_payload();
    timeout_ = request.timeout;
  }

  void Start() {
    beast::get_lowest_layer(stream_).expires_after(timeout_);
    resolver_.async_resolve(
        url_.host, url_.port,
        [self = this->shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
          self->OnResolve(ec, std::move(r));
        });
  }

 private:
  void OnResolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) return Finish("resolve " + url_.host + ": " + ec.message());
    beast::get_lowest_layer(stream_).async_connect(
        results, [self = this->shared_from_this()](beast::error_code e, const tcp::endpoint&) {
          self->OnConnect(e);
        });
  }

  void OnConnect(beast::error_code ec) {
    if (ec) return Finish("connect: " + ec.message());
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      if (!SSL_set_tlsext_host_name(stream_.native_handle(), url_.host.c_str())) {
        return Finish("TLS: cannot set SNI");
      }
      stream_.set_verify_callback(net::ssl::host_name_verification(url_.host));
      stream_.async_handshake(net::ssl::stream_base::client,
                              [self = this->shared_from_this()](beast::error_code e) {
                                if (e) return self->Finish("TLS handshake: " + e.message());
                                self->Write();
                              });
    } else {
      Write();
    }
  }

  void Write() {
    http::async_write(stream_, req_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->Finish("write: " + ec.message());
                        self->Read();
                      });
  }

  void Read() {
    parser_.body_limit(64 * 1024);  // we only look at the status
    http::async_read(stream_, buffer_, parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->Finish("read: " + ec.message());
                       unsigned status = self->parser_.get().result_int();
                       if (status >= 200 && status < 300) return self->Finish("");
                       self->Finish("endpoint answered HTTP " + std::to_string(status));
                     });
  }

  void Finish(std::string error) {
    if (!done_) return;
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    auto done = std::move(done_);
    done_ = nullptr;
    done(error.empty() ? Status::Ok() : Status(ErrorCode::kUnavailable, std::move(error)));
  }

  Stream stream_;
  tcp::resolver resolver_;
  ParsedUrl url_;
  std::chrono::milliseconds timeout_{15'000};
  http::request<http::string_body> req_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  std::function<void(Status)> done_;
};

}  // namespace

struct HttpPushClient::Impl {
  explicit Impl(net::io_context& ioc) : ioc(ioc), tls(net::ssl::context::tls_client) {
    tls.set_default_verify_paths();
    tls.set_verify_mode(net::ssl::verify_peer);
  }
  net::io_context& ioc;
  net::ssl::context tls;
};

HttpPushClient::HttpPushClient(net::io_context& ioc) : impl_(std::make_shared<Impl>(ioc)) {}
HttpPushClient::~HttpPushClient() = default;

void HttpPushClient::Post(PushRequest request, std::function<void(Status)> done) {
  ParsedUrl url;
  if (!ParsePushUrl(request.url, url)) {
    net::post(impl_->ioc, [done = std::move(done), u = request.url] {
      done(Status(ErrorCode::kInvalidArgument, "not an http(s) URL: " + u));
    });
    return;
  }
  if (url.tls) {
    auto op = std::make_shared<PushOp<beast::ssl_stream<beast::tcp_stream>>>(
        beast::ssl_stream<beast::tcp_stream>(impl_->ioc, impl_->tls), tcp::resolver(impl_->ioc),
        std::move(url), std::move(request), std::move(done));
    op->Start();
  } else {
    auto op = std::make_shared<PushOp<beast::tcp_stream>>(beast::tcp_stream(impl_->ioc),
                                                          tcp::resolver(impl_->ioc), std::move(url),
                                                          std::move(request), std::move(done));
    op->Start();
  }
}

}  // namespace cmq::cluster
