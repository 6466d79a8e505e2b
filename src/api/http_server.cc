#include "api/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <charconv>

#include "api/http_session.h"

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

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(net::io_context& io, std::string address, RequestHandler handler, HttpServerOptions o)
      : ioc(io),
        host_port(std::move(address)),
        acceptor(net::make_strand(io)),
        retry_timer(acceptor.get_executor()),
        shared(std::make_shared<HttpSessionShared>()) {
    shared->handler = std::move(handler);
    shared->options = o;
  }

  void DoAccept() {
    acceptor.async_accept(net::make_strand(ioc),
                          [self = shared_from_this()](error_code ec, tcp::socket socket) {
                            self->OnAccept(ec, std::move(socket));
                          });
  }

  void OnAccept(error_code ec, tcp::socket socket) {
    if (!acceptor.is_open() || ec == net::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors or similar: back off briefly instead of spinning.
      retry_timer.expires_after(std::chrono::milliseconds(100));
      retry_timer.async_wait([self = shared_from_this()](error_code e) {
        if (!e && self->acceptor.is_open()) self->DoAccept();
      });
      return;
    }
    std::make_shared<HttpSession>(std::move(socket), shared)->Start();
    DoAccept();
  }

  net::io_context& ioc;
  std::string host_port;
  tcp::acceptor acceptor;  // used on its strand once accepting
  net::steady_timer retry_timer;
  std::shared_ptr<HttpSessionShared> shared;
  std::atomic<uint16_t> port{0};
  std::atomic<bool> stopped{false};
};

HttpServer::HttpServer(net::io_context& ioc, const std::string& host_port, RequestHandler handler,
                       HttpServerOptions options)
    : impl_(std::make_shared<Impl>(ioc, host_port, std::move(handler), options)) {}

HttpServer::~HttpServer() {
  Stop();
}

Status HttpServer::Start() {
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(impl_->host_port, host, port)) {
    return Status(ErrorCode::kInvalidArgument, "bad listen address \"" + impl_->host_port + "\"");
  }
  error_code ec;
  tcp::resolver resolver(impl_->ioc);
  auto results = resolver.resolve(host, std::to_string(port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "cannot resolve \"" + impl_->host_port + "\": " + ec.message());
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  tcp::acceptor& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    a.close(ignored);
    return Status(ErrorCode::kIoError,
                  "cannot listen on " + impl_->host_port + ": " + ec.message());
  }
  impl_->port = a.local_endpoint(ec).port();
  net::post(a.get_executor(), [impl = impl_] { impl->DoAccept(); });
  return Status::Ok();
}

void HttpServer::Stop() {
  if (impl_->stopped.exchange(true)) return;
  net::post(impl_->acceptor.get_executor(), [impl = impl_] {
    error_code ignored;
    impl->retry_timer.cancel();
    impl->acceptor.close(ignored);
  });
  impl_->shared->CloseAll();
}

uint16_t HttpServer::port() const {
  return impl_->port;
}

}  // namespace cmq::api
