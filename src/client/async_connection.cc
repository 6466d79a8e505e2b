#include "client/async_connection.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include "client/responses.h"

namespace cmq::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using AsioTcp = asio::ip::tcp;  // not "tcp": that names the CMQ TCP protocol's messages

namespace {

constexpr uint64_t kMaxResponseBytes = 64ull << 20;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// The client side of https: TLS 1.2 or later, the server's certificate checked against
// ca_file (or the system's authorities) unless verification is off.
Result<std::shared_ptr<asio::ssl::context>> MakeClientTlsContext(const ClientOptions& options) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  beast::error_code ec;
  if (!options.tls_verify) {
    ctx->set_verify_mode(asio::ssl::verify_none);
    return ctx;
  }
  ctx->set_verify_mode(asio::ssl::verify_peer);
  if (options.tls_ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
  } else {
    ctx->load_verify_file(options.tls_ca_file, ec);
  }
  if (ec) {
    return Error::Transport(
        "TLS certificate authorities " +
        (options.tls_ca_file.empty() ? std::string("(system)") : options.tls_ca_file) + ": " +
        ec.message());
  }
  return ctx;
}

}  // namespace

struct AsyncConnection::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& ioc, const ClientOptions& opts, Endpoint ep,
       std::shared_ptr<asio::ssl::context> tls)
      : io(ioc),
        options(opts),
        endpoint(std::move(ep)),
        builder(opts, endpoint.host_header),
        resolver(ioc),
        stream(ioc),
        tls_context(std::move(tls)) {
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

  // The TCP layer: the plain stream, or the one under TLS.
  beast::tcp_stream& Tcp() { return tls_stream ? beast::get_lowest_layer(*tls_stream) : stream; }

  // Runs f on the stream requests go over (plain or TLS).
  template <typename F>
  void OnStream(F&& f) {
    if (tls_stream) {
      f(*tls_stream);
    } else {
      f(stream);
    }
  }

  void Connect() {
    buffer.consume(buffer.size());
    if (tls_context) {
      // A TLS session does not outlive its connection: a fresh one for each (no operation
      // is pending on the old one here).
      tls_stream = std::make_unique<TlsStream>(io, *tls_context);
      // SNI (a host name; never an address, RFC 6066), and the name or address the
      // certificate must carry (when checked).
      beast::error_code not_an_address;
      asio::ip::make_address(endpoint.host, not_an_address);
      if (not_an_address)
        SSL_set_tlsext_host_name(tls_stream->native_handle(), endpoint.host.c_str());
      if (options.tls_verify) {
        tls_stream->set_verify_callback(asio::ssl::host_name_verification(endpoint.host));
      }
    }
    Tcp().expires_after(options.connect_timeout);
    resolver.async_resolve(
        endpoint.host, endpoint.port,
        [self = shared_from_this()](beast::error_code ec, AsioTcp::resolver::results_type results) {
          if (ec) return self->Fail("resolve " + self->endpoint.host + ": " + ec.message());
          self->Tcp().async_connect(
              results, [self](beast::error_code ec2, const AsioTcp::endpoint&) {
                if (ec2)
                  return self->Fail("connect " + self->endpoint.host_header + ": " + ec2.message());
                beast::error_code ignored;
                self->Tcp().socket().set_option(AsioTcp::no_delay(true), ignored);
                if (!self->tls_stream) return self->OnConnected();
                self->tls_stream->async_handshake(
                    asio::ssl::stream_base::client, [self](beast::error_code ec3) {
                      if (ec3) {
                        return self->Fail("TLS handshake with " + self->endpoint.host_header +
                                          ": " + ec3.message());
                      }
                      self->OnConnected();
                    });
              });
        });
  }

  void OnConnected() {
    connected = true;
    requests_on_connection = 0;
    ++connects;
    Write();
  }

  void Write() {
    Tcp().expires_after(timeout);
    OnStream([this](auto& s) {
      http::async_write(s, request, [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec) return self->OnIoError(ec, false);
        self->Read();
      });
    });
  }

  void Read() {
    parser.emplace();
    parser->body_limit(kMaxResponseBytes);
    OnStream([this](auto& s) {
      http::async_read(s, buffer, *parser,
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (ec) return self->OnIoError(ec, self->parser->got_some());
                         self->OnResponse();
                       });
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
    Tcp().expires_never();
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
    // (Over TLS, without a close_notify: the answers carry their length.)
    beast::tcp_stream& tcp = Tcp();
    if (!connected && !tcp.socket().is_open()) return;
    connected = false;
    beast::error_code ignored;
    tcp.socket().shutdown(AsioTcp::socket::shutdown_both, ignored);
    tcp.close();
  }

  asio::io_context& io;
  ClientOptions options;
  Endpoint endpoint;
  RequestBuilder builder;
  AsioTcp::resolver resolver;
  beast::tcp_stream stream;                         // http
  std::shared_ptr<asio::ssl::context> tls_context;  // https
  std::unique_ptr<TlsStream> tls_stream;            // https: the current connection's
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
  std::shared_ptr<asio::ssl::context> tls;
  if (ep->tls) {
    auto ctx = MakeClientTlsContext(options);
    if (!ctx.ok()) return ctx.error();
    tls = std::move(*ctx);
  }
  auto impl = std::make_shared<Impl>(ioc, options, std::move(*ep), std::move(tls));
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
