#include "tools/bench/push_sink.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <limits>
#include <memory>
#include <optional>

namespace cmq::bench {

namespace http = boost::beast::http;

struct PushSink::Session : std::enable_shared_from_this<Session> {
  Session(PushSink& s, boost::asio::ip::tcp::socket sock) : sink(s), socket(std::move(sock)) {}

  void Read() {
    parser.emplace();
    parser->body_limit(std::numeric_limits<uint64_t>::max());
    http::async_read(socket, buffer, *parser,
                     [self = shared_from_this()](boost::system::error_code ec, size_t) {
                       if (!ec) self->Answer();
                     });
  }

  void Answer() {
    const auto& req = parser->get();
    sink.Record(req);
    res = {};
    res.result(http::status::ok);
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    http::async_write(socket, res,
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        if (!ec && self->res.keep_alive()) return self->Read();
                        boost::system::error_code ignored;
                        self->socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
                      });
  }

  PushSink& sink;
  boost::asio::ip::tcp::socket socket;
  boost::beast::flat_buffer buffer;
  std::optional<http::request_parser<http::string_body>> parser;
  http::response<http::empty_body> res;
};

PushSink::PushSink() : acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
  Accept();
  thread_ = std::thread([this] { ioc_.run(); });
}

PushSink::~PushSink() {
  ioc_.stop();
  thread_.join();
}

std::string PushSink::url(int subscription) const {
  return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/push/" +
         std::to_string(subscription);
}

void PushSink::Accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, boost::asio::ip::tcp::socket s) {
    if (ec) return;
    ++connections_;
    std::make_shared<Session>(*this, std::move(s))->Read();
    Accept();
  });
}

void PushSink::Record(const http::request<http::string_body>& req) {
  if (req.method() != http::verb::post) return;
  ++posts_;
  auto id = req["x-cmq-message-id"];
  std::string key(req.target());
  key.append(" ").append(id.data(), id.size());
  if (id.empty() || ids_.insert(std::move(key)).second) ++distinct_;
  last_ = Clock::now().time_since_epoch().count();
}

}  // namespace cmq::bench
