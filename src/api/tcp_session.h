#pragma once
// One connection of TcpServer (internal to api/). Everything runs on the socket's strand;
// handler answers arrive from any thread and are posted onto it.

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
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
  // Hands a data command to the handler (it counts in inflight_ already).
  void StartRequest(const tcp::CMQProto& m, std::string_view body);
  // A pull beyond max_inflight_pulls waits here (counted in inflight_) until one ends.
  void DeferPull(tcp::CMQProto m);
  // Starts deferred pulls while there is room, each with what is left of its poll wait.
  void StartDeferredPulls();
  // Answers "no message" to the deferred pulls whose poll wait has passed.
  void ExpireDeferredPulls();
  void ArmDeferTimer();
  // An answer (or, one_way, only the end of a request in flight: nothing is written).
  // unavailable: the request could not be served here now (no leader for its group):
  // a pull's "no message" is held back a moment, anything else closes the connection.
  void OnAnswer(std::string body, bool one_way, bool pull, bool unavailable);
  void FinishAnswer(std::string body, bool one_way, bool pull);
  // Stops reading; closes once every request in flight is answered and written.
  void CloseWhenDone();
  void MaybeCloseWhenDone();
  void MaybeWrite();
  void OnWrite(boost::system::error_code ec);
  void ArmTimer(Clock::duration after);
  void OnTimer(boost::system::error_code ec);
  void HardClose();

  struct DeferredPull {
    tcp::CMQProto request;
    Clock::time_point deadline;  // arrival + poll wait (no wait given: arrival)
  };

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer defer_timer_;  // ExpireDeferredPulls, while pulls wait
  // Set when the connection closes (or the client's side ends): a pull still waiting in a
  // long poll then takes no message (cluster::AbandonFlag).
  std::shared_ptr<std::atomic<bool>> abandoned_ = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<TcpSessionShared> shared_;
  std::vector<char> in_;  // bytes read: [in_begin_, in_end_) not yet consumed
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  std::string out_;      // answers waiting for the current write to finish
  std::string writing_;  // the bytes of the write in progress
  bool reading_ = false;
  bool write_in_progress_ = false;
  bool closed_ = false;
  // Reading has stopped for good (the client's side ended, or the connection is to close
  // after an unavailable answer): close once nothing is in flight or unwritten.
  bool closing_ = false;
  bool authed_ = false;
  std::string client_id_;                    // as authenticated (when authed_)
  uint32_t inflight_ = 0;                    // requests handed to the handler and not yet answered
  uint32_t pulls_inflight_ = 0;              // of them, pulls handed to the handler
  std::deque<DeferredPull> deferred_pulls_;  // of them, pulls waiting for room
  Clock::time_point last_read_;
  Clock::time_point write_started_;
};

}  // namespace cmq::api
