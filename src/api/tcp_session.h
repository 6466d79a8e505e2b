#pragma once
// One connection of TcpServer (internal to api/). Everything runs on the socket's strand;
// handler answers arrive from any thread and are posted onto it.

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth.h"
#include "api/listener.h"
#include "api/tcp_server.h"
#include "proto/cmq.pb.h"

namespace cmq::api {

class TcpSession;

// The authenticated sessions of each client id, newest last, so that a transaction's
// check-back finds a connection of its producer. Thread-safe.
class ProducerDirectory {
 public:
  void Add(const std::string& client_id, const std::shared_ptr<TcpSession>& session);
  void Remove(const std::string& client_id, const TcpSession* session);
  // The newest live session of client_id, or null.
  std::shared_ptr<TcpSession> Newest(const std::string& client_id);

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<std::weak_ptr<TcpSession>>> sessions_;  // guarded by mu_
};

// What all sessions of one server share; outlives the server while sessions remain.
struct TcpSessionShared {
  TcpSessionShared(RequestHandler h, const ServerConfig& config, const Clock& clock,
                   TcpServerOptions o)
      : handler(std::move(h)), authenticator(config, clock), options(o) {}

  RequestHandler handler;
  Authenticator authenticator;
  TcpServerOptions options;
  SessionRegistry<TcpSession> registry;
  ProducerDirectory producers;
  std::atomic<int64_t> next_query_seqno{1};  // of the check-backs the server starts
};

class TcpSession : public std::enable_shared_from_this<TcpSession> {
 public:
  // REQUIRES: socket's executor is a strand of its own.
  TcpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<TcpSessionShared> shared);
  ~TcpSession();

  void Start();  // from any thread
  void Close();  // from any thread: closes now, dropping pending answers
  // From any thread: sends the check-back 1042 {queue_name, msg_id} (spec §6.10), unless
  // the session closed or authenticated as another client since.
  void AskProducer(std::string client_id, std::string queue_name, uint64_t msg_id);

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
  // An answer (or, one_way, only the end of a request in flight: nothing is written).
  void OnAnswer(std::string body, bool one_way, bool pull);
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
  std::string client_id_;        // as authenticated (when authed_)
  uint32_t inflight_ = 0;        // requests handed to the handler and not yet answered
  uint32_t pulls_inflight_ = 0;  // of them, pulls
  Clock::time_point last_read_;
  Clock::time_point write_started_;
};

}  // namespace cmq::api
