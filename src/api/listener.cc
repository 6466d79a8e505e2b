#include "api/listener.h"

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "api/http_server.h"
#include "common/result.h"

namespace cmq::api {

namespace net = boost::asio;
using boost::system::error_code;
using tcp = net::ip::tcp;

namespace {

// Resolves host_port ("host:port", "[v6]:port"; port 0 picks a free one), then opens,
// binds and listens; the acceptor is closed again on failure.
Status Listen(tcp::acceptor& a, const std::string& host_port) {
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(host_port, host, port)) {
    return Status(ErrorCode::kInvalidArgument, "bad listen address \"" + host_port + "\"");
  }
  error_code ec;
  tcp::resolver resolver(a.get_executor());
  auto results = resolver.resolve(host, std::to_string(port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "cannot resolve \"" + host_port + "\": " + ec.message());
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    a.close(ignored);
    return Status(ErrorCode::kIoError, "cannot listen on " + host_port + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace

struct Listener::Impl : std::enable_shared_from_this<Listener::Impl> {
  Impl(net::io_context& io, std::string address, AcceptFn fn)
      : ioc(io),
        host_port(std::move(address)),
        on_accept(std::move(fn)),
        acceptor(net::make_strand(io)),
        retry_timer(acceptor.get_executor()) {}

  void DoAccept() {
    acceptor.async_accept(net::make_strand(ioc),
                          [self = shared_from_this()](error_code ec, tcp::socket socket) {
                            self->OnAccept(ec, std::move(socket));
                          });
  }

  void OnAccept(error_code ec, tcp::socket socket) {
    if (!acceptor.is_open() || ec == net::error::operation_aborted) return;
    if (ec) {
      retry_timer.expires_after(std::chrono::milliseconds(100));
      retry_timer.async_wait([self = shared_from_this()](error_code e) {
        if (!e && self->acceptor.is_open()) self->DoAccept();
      });
      return;
    }
    on_accept(std::move(socket));
    DoAccept();
  }

  net::io_context& ioc;
  std::string host_port;
  AcceptFn on_accept;
  tcp::acceptor acceptor;  // used on its strand once accepting
  net::steady_timer retry_timer;
  std::atomic<uint16_t> port{0};
  std::atomic<bool> stopped{false};
};

Listener::Listener(net::io_context& ioc, std::string host_port, AcceptFn on_accept)
    : impl_(std::make_shared<Impl>(ioc, std::move(host_port), std::move(on_accept))) {}

Listener::~Listener() {
  Stop();
}

Status Listener::Start() {
  CMQ_RETURN_IF_ERROR(Listen(impl_->acceptor, impl_->host_port));
  error_code ec;
  impl_->port = impl_->acceptor.local_endpoint(ec).port();
  net::post(impl_->acceptor.get_executor(), [impl = impl_] { impl->DoAccept(); });
  return Status::Ok();
}

void Listener::Stop() {
  if (impl_->stopped.exchange(true)) return;
  net::post(impl_->acceptor.get_executor(), [impl = impl_] {
    error_code ignored;
    impl->retry_timer.cancel();
    impl->acceptor.close(ignored);
  });
}

uint16_t Listener::port() const {
  return impl_->port;
}

}  // namespace cmq::api
