#pragma once
// A tiny HTTP server for the push tests: it records every request it gets and answers the
// first `failures` of them with HTTP 500, the rest with 200. Runs on its own thread.

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cmq::testing {

struct PushedRequest {
  std::string target;
  std::string body;
  std::string content_type, user_agent, message_id, message_tag, request_id;
};

class PushEndpoint {
 public:
  // delay: how long the endpoint takes to answer each request (a slow subscriber).
  explicit PushEndpoint(int failures, int port = 0,
                        std::chrono::milliseconds delay = std::chrono::milliseconds(0))
      : failures_(failures), delay_(delay) {
    namespace net = boost::asio;
    acceptor_.open(net::ip::tcp::v4());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind({net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~PushEndpoint() {
    stop_ = true;
    // A blocking accept() is not woken by close() from another thread: connect to it.
    boost::system::error_code ignored;
    boost::asio::ip::tcp::socket poke(ioc_);
    poke.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_)},
                 ignored);
    thread_.join();
    acceptor_.close(ignored);
  }

  int port() const { return port_; }
  std::vector<PushedRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return requests_.size();
  }

 private:
  void Serve() {
    namespace beast = boost::beast;
    namespace http = beast::http;
    while (!stop_) {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket socket(ioc_);
      acceptor_.accept(socket, ec);
      if (ec || stop_) return;
      beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec) continue;
      PushedRequest r{std::string(req.target()),
                      req.body(),
                      std::string(req[http::field::content_type]),
                      std::string(req[http::field::user_agent]),
                      std::string(req["x-cmq-message-id"]),
                      std::string(req["x-cmq-message-tag"]),
                      std::string(req["x-cmq-request-id"])};
      if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
      bool fail;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(r);
        fail = static_cast<int>(requests_.size()) <= failures_;
      }
      http::response<http::string_body> res{
          fail ? http::status::internal_server_error : http::status::ok, 11};
      res.body() = fail ? "no" : "ok";
      res.prepare_payload();
      http::write(socket, res, ec);
    }
  }

  int failures_;
  std::chrono::milliseconds delay_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_{ioc_};
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<PushedRequest> requests_;
  std::thread thread_;
};

}  // namespace cmq::testing
