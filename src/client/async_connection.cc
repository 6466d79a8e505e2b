#include "client/async_connection.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include "client/responses.h"

namespace cmq::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr uint64_t kMaxResponseBytes = 64ull << 20;
}

struct AsyncConnection::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& ioc, const ClientOptions& opts, Endpoint ep)
      : options(opts),
        endpoint(std::move(ep)),
        builder(opts, endpoint.host_header),
        resolver(ioc),
        stream(ioc) {
    request.method(http::verb::post);
    request.target(options.path);
    request.version(11);
    request.set(http::field::host, endpoint.host_header);
    request.set(http::field::content_type, "application/x-www-form-urlencoded");
    request.set(http::field::user_agent,
                beast::string_view(kRequestClient.data(), kRequestClient.size()));
    request.keep_alive(true);
  }

  void Start(std::string_view body, std::chrono::milliseconds t, RawHandler h) {
    CMQ_ASSERT(!handler, "AsyncConnection: one request at a time");
    request.body().assign(body.data(), body.size());
    request.prepare_payload();
    handler = std::move(h);
    timeout = t.count() > 0 ? t : options.request_timeout;
    retried = false;
    if (connected) {
      Write();
    } else {
      Connect();
    }
  }

  void Connect() {
    buffer.consume(buffer.size());
    stream.expires_after(options.connect_timeout);
    resolver.async_resolve(
        endpoint.host, endpoint.port,
        [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
          if (ec) return self->Fail("resolve " + self->endpoint.host + ": " + ec.message());
          self->stream.async_connect(results, [self](beast::error_code ec2, const tcp::endpoint&) {
            if (ec2)
              return self->Fail("connect " + self->endpoint.host_header + ": " + ec2.message());
            self->connected = true;
            self->requests_on_connection = 0;
            ++self->connects;
            beast::error_code ignored;
            self->stream.socket().set_option(tcp::no_delay(true), ignored);
            self->Write();
          });
        });
  }

  void Write() {
    stream.expires_after(timeout);
    http::async_write(stream, request, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->OnIoError(ec, false);
      self->Read();
    });
  }

  void Read() {
    parser.emplace();
    parser->body_limit(kMaxResponseBytes);
    http::async_read(stream, buffer, *parser,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->OnIoError(ec, self->parser->got_some());
                       self->OnResponse();
                     });
  }

  void OnIoError(beast::error_code ec, bool got_some) {
    bool reused = requests_on_connection > 0;
    CloseSocket();
    if (handler && !retried && reused && !got_some && ec != beast::error::timeout &&
        ec != asio::error::operation_aborted) {
      retried = true;  // the server closed an idle keep-alive connection: resend once
      Connect();
      return;
    }
    Fail(ec == beast::error::timeout ? std::string("request timed out") : ec.message());
  }

  void OnResponse() {
    ++requests_on_connection;
    auto& res = parser->get();
    bool keep = res.keep_alive();
    unsigned status = res.result_int();
    response_body = std::move(res.body());
    parser.reset();
    if (!keep) CloseSocket();
    if (status != 200) return Fail("HTTP status " + std::to_string(status));
    stream.expires_never();
    if (!handler) return;
    RawHandler h = std::move(handler);
    handler = nullptr;
    h(std::string_view(response_body));
  }

  void Fail(std::string what) {
    CloseSocket();
    if (!handler) return;
    RawHandler h = std::move(handler);
    handler = nullptr;
    h(Error::Transport(std::move(what)));
  }

  void CloseSocket() {
    if (!connected && !stream.socket().is_open()) return;
    connected = false;
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
  }

  ClientOptions options;
  Endpoint endpoint;
  RequestBuilder builder;
  tcp::resolver resolver;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  std::optional<http::response_parser<http::string_body>> parser;
  std::string response_body;
  std::string call_body;
  RawHandler handler;
  std::chrono::milliseconds timeout{0};
  bool connected = false;
  bool retried = false;
  size_t requests_on_connection = 0;
  size_t connects = 0;
};

Result<std::unique_ptr<AsyncConnection>> AsyncConnection::Create(asio::io_context& ioc,
                                                                 const ClientOptions& options) {
  auto ep = ParseEndpoint(options.endpoint);
  if (!ep.ok()) return ep.error();
  auto impl = std::make_shared<Impl>(ioc, options, std::move(*ep));
  return std::unique_ptr<AsyncConnection>(new AsyncConnection(std::move(impl)));
}

AsyncConnection::AsyncConnection(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

AsyncConnection::~AsyncConnection() {
  impl_->handler = nullptr;  // pending completions run, but call nobody
  Close();
}

void AsyncConnection::PostRaw(std::string_view form_body, std::chrono::milliseconds timeout,
                              RawHandler handler) {
  impl_->Start(form_body, timeout, std::move(handler));
}

void AsyncConnection::Call(std::string_view action, const FormParams& params,
                           std::chrono::milliseconds timeout, JsonHandler handler) {
  impl_->builder.Build(action, params, &impl_->call_body);
  impl_->Start(impl_->call_body, timeout, [h = std::move(handler)](Result<std::string_view> body) {
    if (!body.ok()) return h(body.error());
    h(ParseEnvelope(*body));
  });
}

RequestBuilder& AsyncConnection::builder() {
  return impl_->builder;
}
const ClientOptions& AsyncConnection::options() const {
  return impl_->options;
}
bool AsyncConnection::busy() const {
  return static_cast<bool>(impl_->handler);
}
size_t AsyncConnection::connections_opened() const {
  return impl_->connects;
}
void AsyncConnection::Close() {
  impl_->resolver.cancel();
  impl_->CloseSocket();
}

}  // namespace cmq::client
