#pragma once
// One connection to a CMQ TCP listener (spec cmq-tcp-protocol.md), driven by a Boost.Asio
// io_context (callback style, like AsyncConnection for HTTP). Unlike HTTP it is pipelined:
// any number of requests may be in flight; each gets a seqno from a process-wide counter
// and its answer is matched by seqno, in whatever order the server answers. Frames queued
// while a write is in progress go out together in the next write.
//
// The first request opens the connection and authenticates (cmd 1020) before any data
// frame is written; requests made meanwhile wait for the auth. A failed auth fails them
// with the server's code and text. When the connection breaks (EOF, I/O error, a frame
// that cannot be read, or 306 "not authed"), every request in flight fails at once — the
// Java SDK leaves them to time out, we fail fast — and the next request reconnects. A
// request that times out fails alone; its late answer is dropped.
//
// Use it from its io_context's thread only (or before the io_context runs); handlers run
// there. An open connection always has a read outstanding (so that a server's close is
// seen at once), which keeps io_context::run() from returning: Close() it when done.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/error.h"
#include "client/responses.h"
#include "client/tcp_options.h"
#include "proto/cmq.pb.h"

namespace boost::asio {
class io_context;
}

namespace cmq::client {

class TcpConnection {
 public:
  using ProtoHandler = std::function<void(Result<tcp::CMQProto>)>;
  using IdHandler = std::function<void(Result<uint64_t>)>;
  using IdsHandler = std::function<void(Result<std::vector<uint64_t>>)>;
  using MessageHandler = std::function<void(Result<Message>)>;
  using MessagesHandler = std::function<void(Result<std::vector<Message>>)>;
  using DoneHandler = std::function<void(Result<void>)>;
  using DeleteHandler = std::function<void(Result<std::vector<DeleteError>>)>;

  // Fails only on a malformed address. Connects on the first request.
  static Result<std::unique_ptr<TcpConnection>> Create(boost::asio::io_context& ioc,
                                                       TcpOptions options);
  // Closes the socket; requests in flight are dropped without calling their handlers.
  ~TcpConnection();
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  // Any command: the seqno is set here. The answer when its result is 0; a non-zero result
  // is an Error::Server with that code and the server's error text. timeout 0 means
  // options.request_timeout (counted from now, connecting and auth included).
  void Call(tcp::CMQProto request, std::chrono::milliseconds timeout, ProtoHandler handler);
  // The same, but the answer whatever its result (errors: transport and protocol only).
  void CallRaw(tcp::CMQProto request, std::chrono::milliseconds timeout, ProtoHandler handler);

  // The typed commands (spec §6); the timeout is options.request_timeout, plus the poll
  // wait for pulls. delay_seconds < 0: not sent.
  void Send(std::string_view queue, std::string_view body, int delay_seconds, IdHandler handler);
  // The msg ids in the order of the bodies.
  void BatchSend(std::string_view queue, std::span<const std::string> bodies, int delay_seconds,
                 IdsHandler handler);
  // No message within wait_seconds: an Error with code 10200 (is_no_message()).
  // visible_timeout: this pull's invisibility period instead of the queue's.
  void Pull(std::string_view queue, int wait_seconds, std::optional<uint32_t> visible_timeout,
            MessageHandler handler);
  // Up to num_msg (1–16) messages.
  void BatchPull(std::string_view queue, int num_msg, int wait_seconds,
                 std::optional<uint32_t> visible_timeout, MessagesHandler handler);
  void Delete(std::string_view queue, uint64_t receipt_handle, DoneHandler handler);
  // The handles that failed (empty: all deleted), as a value even when the result is
  // non-zero (6010, partial failure); a non-zero result without any listed: an Error.
  void BatchDelete(std::string_view queue, std::span<const uint64_t> receipt_handles,
                   DeleteHandler handler);
  // tags and routing_key filter subscriptions (the Java SDK sets one or the other).
  void Publish(std::string_view topic, std::string_view body, std::span<const std::string> tags,
               std::optional<std::string_view> routing_key, IdHandler handler);
  void BatchPublish(std::string_view topic, std::span<const std::string> bodies,
                    std::span<const std::string> tags, std::optional<std::string_view> routing_key,
                    IdsHandler handler);

  // Closes the connection; requests in flight fail (transport error). The next request
  // reconnects.
  void Close();

  const TcpOptions& options() const;
  // Connected and authenticated.
  bool ready() const;
  // Requests sent (or waiting for the auth) and not yet answered, failed or timed out.
  size_t in_flight() const;
  // TCP connections opened so far (reconnects included).
  size_t connections_opened() const;

 private:
  struct Impl;
  explicit TcpConnection(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// The Error of an answer whose result is non-zero: code = result, message = the server's
// error text, request_id = the seqno. nullopt when the result is 0.
std::optional<Error> TcpServerError(const tcp::CMQProto& response);

}  // namespace cmq::client
