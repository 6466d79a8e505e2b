#pragma once
// A tiny HTTP/1.1 endpoint on 127.0.0.1 for the push workload: answers 200 to every
// request, counts the POSTs and the distinct (target, x-cmq-message-id) pairs (each
// subscription pushes to a target of its own), on its own thread.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <unordered_set>

namespace cmq::bench {

class PushSink {
 public:
  using Clock = std::chrono::steady_clock;

  PushSink();
  ~PushSink();
  PushSink(const PushSink&) = delete;
  PushSink& operator=(const PushSink&) = delete;

  // The URL subscription number `subscription` pushes to.
  std::string url(int subscription) const;
  uint64_t posts() const { return posts_.load(); }
  uint64_t distinct() const { return distinct_.load(); }
  uint64_t connections() const { return connections_.load(); }
  // When the last POST arrived.
  Clock::time_point last_post() const { return Clock::time_point(Clock::duration(last_.load())); }

 private:
  struct Session;

  void Accept();
  void Record(const boost::beast::http::request<boost::beast::http::string_body>& req);

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::unordered_set<std::string> ids_;  // sink thread only
  std::atomic<uint64_t> posts_{0}, distinct_{0}, connections_{0};
  std::atomic<Clock::rep> last_{0};
};

}  // namespace cmq::bench
