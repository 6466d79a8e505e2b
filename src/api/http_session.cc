#include "api/http_session.h"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <limits>
#include <type_traits>
#include <vector>

#include "common/assert.h"

namespace cmq::api {

namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::beast::error_code;

namespace {

template <typename Stream>
constexpr bool kTls = !std::is_same_v<Stream, net::ip::tcp::socket>;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace

template <typename Stream>
HttpSessionOf<Stream>::HttpSessionOf(Stream stream, std::shared_ptr<HttpSessionShared> shared)
    : stream_(std::move(stream)), timer_(stream_.get_executor()), shared_(std::move(shared)) {}

template <typename Stream>
HttpSessionOf<Stream>::~HttpSessionOf() {
  shared_->registry.Unregister(this);
}

template <typename Stream>
void HttpSessionOf<Stream>::Start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (!self->shared_->registry.Register(self)) return self->HardClose();
    error_code ignored;
    boost::beast::get_lowest_layer(self->stream_).set_option(net::ip::tcp::no_delay(true), ignored);
    if constexpr (kTls<Stream>) {
      // A client that connects and never finishes the handshake is cut at the idle deadline.
      self->SetDeadline(Deadline::kIdle);
      self->stream_.async_handshake(net::ssl::stream_base::server,
                                    [self](error_code ec) { self->OnHandshake(ec); });
    } else {
      self->DoRead();
    }
  });
}

template <typename Stream>
void HttpSessionOf<Stream>::OnHandshake(error_code ec) {
  if (closed_) return;
  if (ec) return HardClose();   // not TLS (plain HTTP to the HTTPS port), or a bad client
  deadline_ = Deadline::kNone;  // DoRead sets the idle deadline afresh
  DoRead();
}

template <typename Stream>
void HttpSessionOf<Stream>::Close() {
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->HardClose(); });
}

template <typename Stream>
void HttpSessionOf<Stream>::DoRead() {
  if (closed_ || read_done_ || reading_) return;
  if (slots_.size() >= shared_->options.max_pipelined_requests) return;  // resumed on write
  parser_.emplace();
  // A GET carries in its request line what a POST carries in its body (spec §3), so the
  // header block may be as large as both limits together.
  parser_->header_limit(static_cast<uint32_t>(std::min<uint64_t>(
      uint64_t{shared_->options.max_header_bytes} + shared_->options.max_body_bytes,
      std::numeric_limits<uint32_t>::max())));
  parser_->body_limit(shared_->options.max_body_bytes);
  reading_ = true;
  UpdateDeadline();
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
}

template <typename Stream>
void HttpSessionOf<Stream>::OnHeader(error_code ec) {
  if (ec || closed_ || parser_->is_done()) return OnRead(ec);
  auto read_body = [this] {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, size_t) { self->OnRead(ec); });
  };
  // libcurl (the C++ and PHP SDKs) sends "Expect: 100-continue" with a body over 1 MiB
  // and waits a second for the go-ahead before sending it anyway. It is given at once,
  // unless answers to earlier pipelined requests are owed (they must go out first, and
  // the client then just waits its second).
  const bool expects = boost::beast::iequals(parser_->get()[http::field::expect], "100-continue");
  if (!expects || !slots_.empty() || writing_ || deadline_ == Deadline::kLinger) {
    return read_body();
  }
  net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                   [self = shared_from_this(), read_body](error_code ec, size_t) {
                     if (ec || self->closed_) return self->OnRead(ec ? ec : net::error::eof);
                     read_body();
                   });
}

template <typename Stream>
void HttpSessionOf<Stream>::OnRead(error_code ec) {
  reading_ = false;
  if (closed_) return;
  if (deadline_ == Deadline::kLinger) return ec ? HardClose() : Linger();  // discard it
  if (ec == http::error::body_limit || ec == http::error::header_limit ||
      ec == http::error::buffer_overflow) {
    // Too large: answer CMQ error 10420 (the handler builds it) and close after it.
    read_done_ = true;
    HttpRequest request;
    request.too_large = true;
    request.keep_alive = false;
    unsigned version = parser_->is_header_done() ? parser_->get().version() : 11;
    return Dispatch(std::move(request), version);
  }
  if (ec) {
    // EOF between requests, a reset, or a malformed request: nothing more to read. The
    // answers already owed still go out (a write to a dead socket fails and closes), but
    // a long poll among them takes no message: its client is gone.
    read_done_ = true;
    abandoned_->store(true, std::memory_order_release);
    if (ec == net::error::operation_aborted || slots_.empty()) return HardClose();
    return UpdateDeadline();
  }
  auto message = parser_->release();
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  request.host = std::string(message[http::field::host]);
  request.body = std::move(message.body());
  request.keep_alive = message.keep_alive();
  if (!request.keep_alive) read_done_ = true;
  Dispatch(std::move(request), message.version());
  DoRead();  // pipelining: read the next request while this one is handled
}

template <typename Stream>
void HttpSessionOf<Stream>::Dispatch(HttpRequest request, unsigned version) {
  uint64_t seq = next_seq_++;
  slots_.push_back(Slot{version, request.keep_alive, std::nullopt});
  request.abandoned = abandoned_;
  UpdateDeadline();
  shared_->handler(std::move(request), [self = shared_from_this(), seq](HttpResponse answer) {
    net::post(self->stream_.get_executor(), [self, seq, answer = std::move(answer)]() mutable {
      self->OnAnswer(seq, std::move(answer));
    });
  });
}

template <typename Stream>
void HttpSessionOf<Stream>::OnAnswer(uint64_t seq, HttpResponse answer) {
  if (closed_) return;
  CMQ_ASSERT(seq >= first_seq_ && seq - first_seq_ < slots_.size(), "answer for no request");
  Slot& slot = slots_[seq - first_seq_];
  CMQ_ASSERT(!slot.response, "request answered twice");
  slot.keep_alive = slot.keep_alive && answer.keep_alive;
  Response& response =
      slot.response.emplace(static_cast<http::status>(answer.status), slot.version);
  response.set(http::field::content_type, "application/json");
  response.keep_alive(slot.keep_alive);
  response.body() = std::move(answer.body);
  response.prepare_payload();
  MaybeWrite();
}

template <typename Stream>
void HttpSessionOf<Stream>::MaybeWrite() {
  if (closed_ || writing_ || slots_.empty() || !slots_.front().response) return;
  writing_ = true;
  SetDeadline(Deadline::kWrite);
  http::async_write(stream_, *slots_.front().response,
                    [self = shared_from_this()](error_code ec, size_t) { self->OnWrite(ec); });
}

template <typename Stream>
void HttpSessionOf<Stream>::OnWrite(error_code ec) {
  writing_ = false;
  if (closed_) return;
  if (ec) return HardClose();
  bool keep_alive = slots_.front().keep_alive;
  slots_.pop_front();
  ++first_seq_;
  if (!keep_alive) {
    read_done_ = true;
    return Linger();
  }
  if (read_done_ && slots_.empty()) return Linger();
  DoRead();  // resumes reading if the pipeline was full
  MaybeWrite();
  UpdateDeadline();
}

template <typename Stream>
void HttpSessionOf<Stream>::UpdateDeadline() {
  if (closed_ || deadline_ == Deadline::kLinger || writing_) return;
  // While a request is being handled (possibly a long poll), no deadline; between requests,
  // the idle deadline.
  SetDeadline(slots_.empty() ? Deadline::kIdle : Deadline::kNone);
}

template <typename Stream>
void HttpSessionOf<Stream>::SetDeadline(Deadline kind) {
  // The idle deadline runs from the moment the connection became idle: re-arming it for
  // every partial read would let a slow client hold the connection forever.
  if (kind == deadline_ && kind != Deadline::kWrite) return;
  deadline_ = kind;
  const HttpServerOptions& o = shared_->options;
  switch (kind) {
    case Deadline::kNone:
      timer_.cancel();
      return;
    case Deadline::kIdle:
      timer_.expires_after(o.idle_timeout);
      break;
    case Deadline::kWrite:
      timer_.expires_after(o.write_timeout);
      break;
    case Deadline::kLinger:
      timer_.expires_after(o.linger_timeout);
      break;
  }
  timer_.async_wait([self = shared_from_this()](error_code ec) { self->OnTimer(ec); });
}

template <typename Stream>
void HttpSessionOf<Stream>::OnTimer(error_code ec) {
  if (ec == net::error::operation_aborted || closed_ || deadline_ == Deadline::kNone) return;
  // A wait that completed just before the timer was re-armed: not our deadline yet.
  if (timer_.expiry() > net::steady_timer::clock_type::now()) return;
  HardClose();
}

template <typename Stream>
void HttpSessionOf<Stream>::Linger() {
  SetDeadline(Deadline::kLinger);
  error_code ignored;
  // (Over TLS, without a close_notify: the answers carry their length, so a client loses
  // nothing; waiting for a TLS shutdown would let a client hold the connection.)
  boost::beast::get_lowest_layer(stream_).shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  if (reading_) return;  // the read in flight drains; OnRead comes back here
  reading_ = true;
  stream_.async_read_some(net::buffer(drain_), [self = shared_from_this()](error_code e, size_t) {
    self->reading_ = false;
    if (self->closed_) return;
    if (e) return self->HardClose();
    self->Linger();
  });
}

template <typename Stream>
void HttpSessionOf<Stream>::HardClose() {
  if (closed_) return;
  closed_ = true;
  abandoned_->store(true, std::memory_order_release);
  timer_.cancel();
  error_code ignored;
  auto& socket = boost::beast::get_lowest_layer(stream_);
  socket.shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

template class HttpSessionOf<net::ip::tcp::socket>;
template class HttpSessionOf<boost::beast::ssl_stream<net::ip::tcp::socket>>;

}  // namespace cmq::api
