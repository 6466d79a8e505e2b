#pragma once
// A tiny CMQ TCP server on 127.0.0.1:0 for client tests: one thread per connection, each
// running the test's session function over blocking frame reads and writes, so a test
// decides exactly when and how (in what order, in how many pieces) answers go out.
// Every frame received is recorded with its raw bytes.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "proto/cmq.pb.h"
#include "proto/tcp_frame.h"

namespace cmq::client::testing {

struct FakeFrame {
  tcp::CMQProto proto;
  std::string raw;     // header + body as received
  int connection = 0;  // 1-based index of the TCP connection it came on
};

class FakeTcpSession {
 public:
  FakeTcpSession(boost::asio::ip::tcp::socket& socket, int id,
                 std::function<void(const FakeFrame&)> record)
      : socket_(socket), id_(id), record_(std::move(record)) {}

  int id() const { return id_; }

  // The next frame, or nullopt at EOF (or on a frame that does not parse).
  std::optional<tcp::CMQProto> Read() {
    std::string header(tcp::kFrameHeaderSize, '\0');
    boost::system::error_code ec;
    boost::asio::read(socket_, boost::asio::buffer(header), ec);
    if (ec) return std::nullopt;
    auto size = tcp::BodySizeOf(header);
    if (!size) return std::nullopt;
    std::string body(*size, '\0');
    boost::asio::read(socket_, boost::asio::buffer(body), ec);
    if (ec) return std::nullopt;
    FakeFrame f;
    if (!f.proto.ParseFromString(body)) return std::nullopt;
    f.raw = header + body;
    f.connection = id_;
    record_(f);
    return f.proto;
  }

  // Reads frames until one that is not a heartbeat.
  std::optional<tcp::CMQProto> ReadRequest() {
    for (;;) {
      auto f = Read();
      if (!f || f->cmd() != tcp::CMQ_TCP_HEARTBEAT) return f;
    }
  }

  // Reads the auth frame and answers it with `result` (and `error`). False at EOF.
  bool Auth(int result = 0, const std::string& error = "") {
    auto a = ReadRequest();
    if (!a) return false;
    auto r = Answer(*a);
    if (result != 0) {
      r.set_result(result);
      r.set_error(error);
    }
    Write(r);
    return true;
  }

  static std::string Frame(const tcp::CMQProto& p) {
    std::string body = p.SerializeAsString();
    std::string out;
    tcp::AppendFrameHeader(out, body.size());
    return out + body;
  }

  void Write(const tcp::CMQProto& p) { WriteBytes(Frame(p)); }
  void WriteBytes(const std::string& bytes) {
    boost::system::error_code ec;
    boost::asio::write(socket_, boost::asio::buffer(bytes), ec);
  }
  // One byte per write (TCP_NODELAY, a pause between): the client sees partial frames.
  void WriteByteByByte(const std::string& bytes) {
    int one = 1;
    ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (char c : bytes) {
      WriteBytes(std::string(1, c));
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }

  // A response to req: seqno and cmd copied, result 0.
  static tcp::CMQProto Answer(const tcp::CMQProto& req) {
    tcp::CMQProto r;
    r.set_seqno(req.seqno());
    r.set_cmd(req.cmd());
    r.set_result(0);
    return r;
  }

 private:
  boost::asio::ip::tcp::socket& socket_;
  int id_;
  std::function<void(const FakeFrame&)> record_;
};

class FakeTcpServer {
 public:
  using Session = std::function<void(FakeTcpSession&)>;

  explicit FakeTcpServer(Session session)
      : session_(std::move(session)),
        acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~FakeTcpServer() {
    stopping_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    {
      std::lock_guard lock(mu_);
      for (auto& [id, fd] : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    accept_thread_.join();
    for (auto& t : threads_) t.join();
  }

  std::string address() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  std::vector<FakeFrame> frames() {
    std::lock_guard lock(mu_);
    return frames_;
  }
  // Frames other than heartbeats.
  std::vector<FakeFrame> requests() {
    std::vector<FakeFrame> out;
    for (auto& f : frames()) {
      if (f.proto.cmd() != tcp::CMQ_TCP_HEARTBEAT) out.push_back(std::move(f));
    }
    return out;
  }
  int connections() const { return connections_; }
  // Sessions that have returned (their socket is closed).
  int finished() const { return finished_; }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      auto socket = std::make_shared<boost::asio::ip::tcp::socket>(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec) return;
      int id = ++connections_;
      std::lock_guard lock(mu_);
      fds_[id] = socket->native_handle();
      threads_.emplace_back([this, socket, id] { Serve(*socket, id); });
    }
  }

  void Serve(boost::asio::ip::tcp::socket& socket, int id) {
    FakeTcpSession s(socket, id, [this](const FakeFrame& f) {
      std::lock_guard lock(mu_);
      frames_.push_back(f);
    });
    session_(s);
    {
      std::lock_guard lock(mu_);
      fds_.erase(id);
    }
    boost::system::error_code ignored;
    socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    ++finished_;
  }

  Session session_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread accept_thread_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::vector<FakeFrame> frames_;
  std::map<int, int> fds_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> finished_{0};
};

}  // namespace cmq::client::testing
