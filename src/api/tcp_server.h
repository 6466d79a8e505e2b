#pragma once
// The CMQ TCP protocol listener (spec/cmq-tcp-protocol.md; docs/tcp-protocol.md), so that
// applications on the official CMQ TCP SDK work unchanged. One session per connection, on
// its own strand:
// - frames of a 6-byte header and one CMQProto (proto/tcp_frame.h); a frame that cannot be
//   read (bad header, too large, not a CMQProto, no seqno or cmd) closes the connection, as
//   the SDK itself does;
// - authentication once per connection (1020); data commands before it answer 306, which
//   makes the SDK reconnect and authenticate;
// - heartbeats (1040) answered, also before authentication; transaction confirms (1041)
//   handed on like data commands but never answered (the SDK sends them one-way), and
//   dropped before authentication;
// - check-backs of transaction messages (1042) sent on request (AskProducer) to the
//   newest connection authenticated with the producer's client id;
// - data commands (1021..1028) are handed to the RequestHandler as HttpRequests with
//   `tcp` set, and may be answered in any order: pulls wait while later requests run;
// - at most max_inflight requests per connection: beyond that the session stops reading
//   until answers go out (a client cannot make the server buffer without bound); of them
//   at most max_inflight_pulls pulls run at once (more wait for a turn, with what is left
//   of their poll wait);
// - a command that could not be served for want of a leader (kTcpUnavailableStatus) is
//   not answered: a send closes the connection once the rest is answered (the SDK retries
//   only without an answer), a pull answers "no message" after a moment;
// - when a connection closes or its client ends its side, its long polls are abandoned
//   (cluster::AbandonFlag); after a half-close, what is in flight is still answered;
// - a connection silent for idle_timeout with nothing in flight is closed, and so is one
//   whose answers take longer than write_timeout to write.
//
// Threads: the io_context may be run from any number of threads. Start, Stop and port may
// be called from any thread.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "api/auth.h"
#include "api/config.h"
#include "api/request.h"
#include "common/clock.h"
#include "common/status.h"

namespace cmq::api {

struct TcpServerOptions {
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds write_timeout{30'000};
  uint32_t max_inflight = 4096;
  // Pulls running per connection; more wait for a turn. The SDK keeps 16 per subscription,
  // and one JVM's subscriptions share a connection. A pull's answer may hold 16 MiB of
  // bodies, so this bounds what one connection's long polls can make the server hold
  // (max_inflight alone would allow 64 GiB).
  uint32_t max_inflight_pulls = 256;

  static TcpServerOptions FromConfig(const ServerConfig& config);
};

class TcpServer {
 public:
  // host_port: "host:port"; port 0 picks a free port (see port()). Accounts for the
  // connection proof come from config (none: every proof is accepted). handler and clock
  // must stay valid until every connection has closed.
  TcpServer(boost::asio::io_context& ioc, const std::string& host_port, RequestHandler handler,
            const ServerConfig& config, const Clock& clock, TcpServerOptions options = {});
  ~TcpServer();  // Stop()
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  Status Start();
  // Stops accepting and closes every connection (pending answers are dropped). Idempotent.
  void Stop();
  uint16_t port() const;
  // Asks the producer whether to commit the half message msg_id of queue_name (spec
  // §6.10): a 1042 frame on the newest connection here that authenticated as client_id;
  // nothing if there is none. Thread-safe; does not block.
  void AskProducer(const std::string& client_id, const std::string& queue_name, uint64_t msg_id);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace cmq::api
