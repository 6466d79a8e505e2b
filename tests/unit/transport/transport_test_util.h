#pragma once
// Helpers for the transport tests: options for loopback nodes, thread-safe collectors for
// the callbacks, waits with deadlines, and a raw POSIX client that speaks the wire format
// by hand (to inject handshakes and frames the Transport itself would never send).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_support/free_port.h"
#include "transport/transport.h"

namespace cmq::transport::testing {

using namespace std::chrono_literals;

// Loopback options with quick redials, so reconnect tests take milliseconds.
inline TransportOptions LoopbackOptions(uint64_t node, std::map<uint64_t, uint16_t> peer_ports,
                                        uint64_t cluster_id = 1) {
  TransportOptions o;
  o.cluster_id = cluster_id;
  o.node_id = node;
  o.listen_host = "127.0.0.1";
  for (const auto& [id, port] : peer_ports) o.peers[id] = PeerAddress{"127.0.0.1", port};
  o.min_backoff_ms = 10;
  o.max_backoff_ms = 100;
  o.connect_timeout_ms = 1000;
  return o;
}

template <typename Pred>
bool WaitUntil(Pred pred, std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// Frames delivered to one transport.
class Inbox {
 public:
  Transport::FrameHandler Handler() {
    return [this](Frame frame) {
      std::lock_guard lock(mu_);
      frames_.push_back(std::move(frame));
      cv_.notify_all();
    };
  }
  bool WaitForCount(size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return frames_.size() >= n; });
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return frames_.size();
  }
  std::vector<Frame> frames() {
    std::lock_guard lock(mu_);
    return frames_;
  }
  void Clear() {
    std::lock_guard lock(mu_);
    frames_.clear();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Frame> frames_;
};

// Peers reported lost.
class LostLog {
 public:
  Transport::PeerHandler Handler() {
    return [this](uint64_t peer) {
      std::lock_guard lock(mu_);
      ++lost_[peer];
    };
  }
  int count(uint64_t peer) {
    std::lock_guard lock(mu_);
    return lost_[peer];
  }

 private:
  std::mutex mu_;
  std::map<uint64_t, int> lost_;
};

// A port nobody listens on (bound once, then released).
inline uint16_t UnusedPort() {
  return cmq::testing::FreeLoopbackPort();
}

// A blocking TCP client on 127.0.0.1 with deadlines on every read.
class RawClient {
 public:
  RawClient() = default;
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool Connect(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }

  bool Write(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // Exactly n bytes, or false on close, error or timeout.
  bool Read(size_t n, std::string& out, std::chrono::milliseconds timeout = 5s) {
    out.assign(n, '\0');
    size_t done = 0;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (done < n) {
      if (!WaitReadable(deadline)) return false;
      ssize_t r = ::recv(fd_, out.data() + done, n - done, 0);
      if (r <= 0) return false;
      done += static_cast<size_t>(r);
    }
    return true;
  }

  // True once the other side has closed (EOF or reset); bytes that arrive first are
  // counted in bytes_before_close().
  bool WaitClosed(std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    for (;;) {
      if (!WaitReadable(deadline)) return false;
      ssize_t r = ::recv(fd_, buf, sizeof(buf), 0);
      if (r <= 0) return true;
      bytes_before_close_ += static_cast<size_t>(r);
    }
  }
  size_t bytes_before_close() const { return bytes_before_close_; }

 private:
  bool WaitReadable(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
  }

  int fd_ = -1;
  size_t bytes_before_close_ = 0;
};

}  // namespace cmq::transport::testing
