#include "api/tcp_server.h"

#include "api/listener.h"
#include "api/tcp_session.h"

namespace cmq::api {

TcpServerOptions TcpServerOptions::FromConfig(const ServerConfig& config) {
  TcpServerOptions o;
  o.idle_timeout = std::chrono::seconds(config.tcp_idle_timeout_seconds);
  o.write_timeout = std::chrono::seconds(config.write_timeout_seconds);
  o.max_inflight = config.tcp_max_inflight;
  o.max_inflight_pulls = config.tcp_max_inflight_pulls;
  return o;
}

struct TcpServer::Impl {
  Impl(boost::asio::io_context& ioc, const std::string& host_port, RequestHandler handler,
       const ServerConfig& config, const Clock& clock, TcpServerOptions o)
      : shared(std::make_shared<TcpSessionShared>(std::move(handler), config, clock, o)),
        listener(ioc, host_port, [s = shared](boost::asio::ip::tcp::socket socket) {
          std::make_shared<TcpSession>(std::move(socket), s)->Start();
        }) {}

  std::shared_ptr<TcpSessionShared> shared;
  Listener listener;
};

TcpServer::TcpServer(boost::asio::io_context& ioc, const std::string& host_port,
                     RequestHandler handler, const ServerConfig& config, const Clock& clock,
                     TcpServerOptions options)
    : impl_(std::make_shared<Impl>(ioc, host_port, std::move(handler), config, clock, options)) {}

TcpServer::~TcpServer() {
  Stop();
}

Status TcpServer::Start() {
  return impl_->listener.Start();
}

void TcpServer::Stop() {
  impl_->listener.Stop();
  impl_->shared->registry.CloseAll();
}

uint16_t TcpServer::port() const {
  return impl_->listener.port();
}

void TcpServer::AskProducer(const std::string& client_id, const std::string& queue_name,
                            uint64_t msg_id) {
  if (auto session = impl_->shared->producers.Newest(client_id)) {
    session->AskProducer(client_id, queue_name, msg_id);
  }
}

}  // namespace cmq::api
