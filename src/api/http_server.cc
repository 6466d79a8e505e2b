#include "api/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <charconv>

#include "api/http_session.h"
#include "api/listener.h"

namespace cmq::api {

namespace net = boost::asio;
using boost::system::error_code;
using tcp = net::ip::tcp;

HttpServerOptions HttpServerOptions::FromConfig(const ServerConfig& config) {
  HttpServerOptions o;
  o.max_body_bytes = config.max_body_bytes;
  o.max_header_bytes = config.max_header_bytes;
  o.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  o.write_timeout = std::chrono::seconds(config.write_timeout_seconds);
  o.max_pipelined_requests = config.max_pipelined_requests;
  return o;
}

bool SplitHostPort(const std::string& host_port, std::string& host, uint16_t& port) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon + 1 == host_port.size()) return false;
  std::string_view h(host_port.data(), colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  const char* first = host_port.data() + colon + 1;
  const char* last = host_port.data() + host_port.size();
  unsigned value = 0;
  auto r = std::from_chars(first, last, value);
  if (r.ec != std::errc() || r.ptr != last || value > 65535) return false;
  host.assign(h);
  port = static_cast<uint16_t>(value);
  return true;
}

Result<std::shared_ptr<net::ssl::context>> MakeServerTlsContext(const std::string& cert_file,
                                                                const std::string& key_file) {
  auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
  ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                   net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                   net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
  error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) {
    return Status(ErrorCode::kInvalidArgument,
                  "TLS certificate " + cert_file + ": " + ec.message());
  }
  ctx->use_private_key_file(key_file, net::ssl::context::pem, ec);
  if (ec) {
    // Also what OpenSSL says when the key does not match the certificate.
    return Status(ErrorCode::kInvalidArgument, "TLS key " + key_file + ": " + ec.message());
  }
  return ctx;
}

struct HttpServer::Impl {
  Impl(net::io_context& ioc, const std::string& host_port, RequestHandler handler,
       HttpServerOptions o)
      : shared(std::make_shared<HttpSessionShared>()),
        listener(ioc, host_port, [s = shared, tls = o.tls](tcp::socket socket) {
          if (tls) {
            std::make_shared<HttpsSession>(
                boost::beast::ssl_stream<tcp::socket>(std::move(socket), *tls), s)
                ->Start();
          } else {
            std::make_shared<HttpSession>(std::move(socket), s)->Start();
          }
        }) {
    shared->handler = std::move(handler);
    shared->options = o;
  }

  std::shared_ptr<HttpSessionShared> shared;
  Listener listener;
};

HttpServer::HttpServer(net::io_context& ioc, const std::string& host_port, RequestHandler handler,
                       HttpServerOptions options)
    : impl_(std::make_shared<Impl>(ioc, host_port, std::move(handler), options)) {}

HttpServer::~HttpServer() {
  Stop();
}

Status HttpServer::Start() {
  return impl_->listener.Start();
}

void HttpServer::Stop() {
  impl_->listener.Stop();
  impl_->shared->registry.CloseAll();
}

uint16_t HttpServer::port() const {
  return impl_->listener.port();
}

}  // namespace cmq::api
