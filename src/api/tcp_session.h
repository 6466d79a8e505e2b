#pragma once
// One connection of TcpServer (internal to api/). Everything runs on the socket's strand;
// handler answers arrive from any thread and are posted onto it.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth.h"
#include "api/listener.h"
#include "api/tcp_server.h"
#include "proto/cmq.pb.h"

namespace cmq::api {

class TcpSession;

// What all sessions of one server share; outlives the server while sessions remain.
struct TcpSessionShared {
  TcpSessionShared(RequestHandler h, const ServerConfig& config, const Clock& clock,
                   TcpServerOptions o)
      : handler(std::move(h)), authenticator(config, clock), options(o) {}

  RequestHandler handler;
  Authenticator authenticator;
  TcpServerOptions options;
  SessionRegistry<TcpSession> registry;
};

class TcpSession : public std::enable_shared_from_this<TcpSession> {
 public:
  // REQUIRES: socket's executor is a strand of its own.
  TcpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<TcpSessionShared> shared);
  ~TcpSession();

  void Start();  // from any thread
  void Close();  // from any thread: closes now, dropping pending answers

 private:
  using Clock = std::chrono::steady_clock;

  // Reading stops at max_inflight requests in flight or too many answers not yet
  // written; Resume continues once an answer or a write completes.
  bool Paused() const;
  void Resume();
  void DoRead();
  void OnRead(boost::system::error_code ec, size_t n);
  // Handles every whole frame in the buffer; false if the connection was closed.
  bool ConsumeFrames();
  bool OnFrame(std::string_view body);
  void Authenticate(const tcp::CMQProto& request);
  void Answer(const tcp::CMQProto& answer);
  void QueueFrame(std::string_view body);
  void OnAnswer(std::string body);
  void MaybeWrite();
  void OnWrite(boost::system::error_code ec);
  void ArmTimer(Clock::duration after);
  void OnTimer(boost::system::error_code ec);
  void HardClose();

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<TcpSessionShared> shared_;
  std::vector<char> in_;  // bytes read: [in_begin_, in_end_) not yet consumed
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  std::string out_;      // answers waiting for the current write to finish
  std::string writing_;  // the bytes of the write in progress
  bool reading_ = false;
  bool write_in_progress_ = false;
  bool closed_ = false;
  bool authed_ = false;
  uint32_t inflight_ = 0;  // requests handed to the handler and not yet answered
  Clock::time_point last_read_;
  Clock::time_point write_started_;
};

}  // namespace cmq::api
