#pragma once
// The HTTP/1.1 server (Boost.Beast on Asio) that carries CMQ requests to a RequestHandler.
// One session per connection, each on its own strand: keep-alive, pipelining (the next
// request is read while earlier ones are handled, answers go out strictly in order, at most
// max_pipelined_requests are outstanding per connection), header and body limits, an idle
// deadline between requests, none while a request is being handled (long polls), and a
// deadline on every write. Details and choices: docs/http-api.md "HTTP server".
//
// Threads: the io_context may be run from any number of threads. Start, Stop and port may
// be called from any thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "api/config.h"
#include "api/request.h"
#include "common/result.h"
#include "common/status.h"

namespace cmq::api {

struct HttpServerOptions {
  uint64_t max_body_bytes = 4 * 1024 * 1024;
  uint32_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds idle_timeout{75'000};  // spec §16: at least 60 s
  std::chrono::milliseconds write_timeout{30'000};
  // After a response that closes the connection, how long to drain what the client still
  // sends (so that our answer is not lost to a TCP reset).
  std::chrono::milliseconds linger_timeout{2'000};
  uint32_t max_pipelined_requests = 16;
  // Set: serve HTTPS with this context (certificate and key: MakeServerTlsContext); null:
  // plain HTTP.
  std::shared_ptr<boost::asio::ssl::context> tls;

  static HttpServerOptions FromConfig(const ServerConfig& config);
};

// A TLS server context (TLS 1.2 and later) with the certificate chain and private key of
// these PEM files; kInvalidArgument naming the file and the reason if they cannot be used
// (missing, unreadable, not PEM, a key that does not match the certificate).
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const std::string& cert_file, const std::string& key_file);

class HttpServer {
 public:
  // host_port: "host:port" (IPv6 as "[::1]:port"); port 0 picks a free port (see port()).
  // handler must stay valid until every connection has closed (after Stop, once the
  // io_context has run out of work).
  HttpServer(boost::asio::io_context& ioc, const std::string& host_port, RequestHandler handler,
             HttpServerOptions options = {});
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts accepting. kInvalidArgument for a bad address, kIoError if the
  // address cannot be bound.
  Status Start();
  // Stops accepting and closes every connection (pending answers are dropped). Idempotent.
  void Stop();
  // The bound port (after a successful Start), 0 before.
  uint16_t port() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Splits "host:port" / "[v6]:port". False if malformed.
bool SplitHostPort(const std::string& host_port, std::string& host, uint16_t& port);

}  // namespace cmq::api
