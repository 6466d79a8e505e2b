#pragma once
// One HTTP connection of HttpServer (internal to api/), plain or over TLS (HTTPS): the
// same session over either stream. Everything runs on the socket's strand; handler
// answers arrive from any thread and are posted onto it.

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <deque>
#include <memory>
#include <optional>

#include "api/http_server.h"
#include "api/listener.h"

namespace cmq::api {

// What the server's registry closes at Stop, whatever the stream.
class HttpConnection {
 public:
  virtual ~HttpConnection() = default;
  virtual void Close() = 0;  // from any thread: closes now, dropping pending answers
};

// What all sessions of one server share; outlives the server while sessions remain.
struct HttpSessionShared {
  RequestHandler handler;
  HttpServerOptions options;

  SessionRegistry<HttpConnection> registry;
};

// Stream: boost::asio::ip::tcp::socket (HTTP) or boost::beast::ssl_stream of one (HTTPS;
// the TLS handshake comes first, within the idle timeout).
template <typename Stream>
class HttpSessionOf : public HttpConnection,
                      public std::enable_shared_from_this<HttpSessionOf<Stream>> {
 public:
  // REQUIRES: the stream's executor is a strand of its own.
  HttpSessionOf(Stream stream, std::shared_ptr<HttpSessionShared> shared);
  ~HttpSessionOf() override;

  void Start();  // from any thread
  void Close() override;

 private:
  using std::enable_shared_from_this<HttpSessionOf<Stream>>::shared_from_this;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;
  struct Slot {
    unsigned version = 11;
    bool keep_alive = true;
    std::optional<Response> response;  // set when the handler has answered
  };
  enum class Deadline { kNone, kIdle, kWrite, kLinger };

  void OnHandshake(boost::beast::error_code ec);
  void DoRead();
  void OnRead(boost::beast::error_code ec);
  // The header is in: answers "100 Continue" when the client waits for it, then reads the
  // body.
  void OnHeader(boost::beast::error_code ec);
  void Dispatch(HttpRequest request, unsigned version);
  void OnAnswer(uint64_t seq, HttpResponse answer);
  void MaybeWrite();
  void OnWrite(boost::beast::error_code ec);
  void UpdateDeadline();
  void SetDeadline(Deadline kind);
  void OnTimer(boost::beast::error_code ec);
  void Linger();  // half-close, then drain until EOF or the linger deadline
  void HardClose();

  Stream stream_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<HttpSessionShared> shared_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::deque<Slot> slots_;  // outstanding requests, in arrival order
  uint64_t first_seq_ = 0;  // sequence number of slots_.front()
  uint64_t next_seq_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool read_done_ = false;  // no further requests will be read
  bool closed_ = false;
  Deadline deadline_ = Deadline::kNone;
  // Set when the client is gone (its side ended, or the connection closed): a long-poll
  // receive still waiting then takes no message (cluster::AbandonFlag).
  std::shared_ptr<std::atomic<bool>> abandoned_ = std::make_shared<std::atomic<bool>>(false);
  char drain_[4096];
};

using HttpSession = HttpSessionOf<boost::asio::ip::tcp::socket>;
using HttpsSession = HttpSessionOf<boost::beast::ssl_stream<boost::asio::ip::tcp::socket>>;

}  // namespace cmq::api
