#pragma once
// A tiny HTTP/1.1 server on 127.0.0.1:0 for client tests: one thread per connection,
// keep-alive, every request recorded and answered by a handler with canned CMQ JSON.

#include <sys/socket.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/url.h"

namespace cmq::client::testing {

struct FakeRequest {
  std::string method;
  std::string target;
  std::string host;
  std::string body;
  FormParams form;
  int connection = 0;  // 1-based index of the TCP connection it came on

  std::string Param(const std::string& name) const {
    for (const auto& [n, v] : form) {
      if (n == name) return v;
    }
    return "<absent>";
  }
};

struct FakeResponse {
  std::string body = R"({"code":0,"message":"","requestId":"1"})";
  bool close_after = false;  // answer with Connection: close and close
  bool drop = false;         // close the connection without answering
};

class FakeServer {
 public:
  using Handler = std::function<FakeResponse(const FakeRequest&)>;

  explicit FakeServer(Handler handler)
      : handler_(std::move(handler)),
        acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~FakeServer() {
    stopping_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    CloseConnections();
    accept_thread_.join();
    for (auto& t : threads_) t.join();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port()); }
  std::vector<FakeRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  int connections() const { return connections_; }
  int open_connections() const { return open_; }
  // Closes every open connection (as a server dropping idle keep-alive connections) and
  // waits until their threads have seen it.
  void CloseConnections() {
    {
      std::lock_guard lock(mu_);
      for (auto& [id, fd] : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    while (open_ > 0) std::this_thread::yield();
  }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      auto socket = std::make_shared<boost::asio::ip::tcp::socket>(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec) return;
      int id = ++connections_;
      ++open_;
      std::lock_guard lock(mu_);
      fds_[id] = socket->native_handle();
      threads_.emplace_back([this, socket, id] { Serve(*socket, id); });
    }
  }

  void Serve(boost::asio::ip::tcp::socket& socket, int id) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      boost::system::error_code ec;
      http::read(socket, buffer, req, ec);
      if (ec) break;
      FakeRequest r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      r.host = std::string(req[http::field::host]);
      r.body = req.body();
      r.form = ParseForm(r.body).value_or(FormParams{});
      r.connection = id;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(r);
      }
      FakeResponse out = handler_(r);
      if (out.drop) break;
      http::response<http::string_body> res{http::status::ok, 11};
      res.set(http::field::content_type, "application/json");
      res.keep_alive(!out.close_after);
      res.body() = out.body;
      res.prepare_payload();
      http::write(socket, res, ec);
      if (ec || out.close_after) break;
    }
    {
      std::lock_guard lock(mu_);
      fds_.erase(id);
    }
    boost::system::error_code ignored;
    socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    --open_;
  }

  Handler handler_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread accept_thread_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::vector<FakeRequest> requests_;
  std::map<int, int> fds_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> open_{0};
};

}  // namespace cmq::client::testing
