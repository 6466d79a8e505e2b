#pragma once
// What the HTTP and the TCP-protocol servers share around their sessions: the listening
// socket and its accept loop, and the registry of live sessions that Stop closes.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace cmq::api {

// Accepts connections on host_port and hands each socket, on a strand of its own, to
// on_accept (on the acceptor's strand). An accept error (out of descriptors) is retried
// after a short pause instead of spinning.
class Listener {
 public:
  using AcceptFn = std::function<void(boost::asio::ip::tcp::socket)>;
  Listener(boost::asio::io_context& ioc, std::string host_port, AcceptFn on_accept);
  ~Listener();  // Stop()
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Resolves host_port, binds and starts accepting: kInvalidArgument for a bad address,
  // kIoError if it cannot be bound.
  Status Start();
  // Stops accepting. Idempotent; sessions are the server's to close.
  void Stop();
  uint16_t port() const;  // after a successful Start; 0 before

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Live sessions of one server, so that Stop can close them. Sessions register when they
// start (refused once stopped) and unregister in their destructor.
template <typename Session>
class SessionRegistry {
 public:
  bool Register(const std::shared_ptr<Session>& session) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) return false;
    sessions_.emplace(session.get(), session);
    return true;
  }
  void Unregister(Session* session) {
    std::lock_guard<std::mutex> lock(mutex_);
    sessions_.erase(session);
  }
  // Marks the server stopped and closes every live session (Session::Close).
  void CloseAll() {
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopped_ = true;
      for (auto& [ptr, weak] : sessions_) {
        if (auto session = weak.lock()) live.push_back(std::move(session));
      }
    }
    for (auto& session : live) session->Close();
  }

 private:
  std::mutex mutex_;
  bool stopped_ = false;                                           // guarded by mutex_
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // guarded by mutex_
};

}  // namespace cmq::api
