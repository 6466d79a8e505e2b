#pragma once
// One TCP connection to one peer, driven on the transport's io thread (never touched from
// another thread). It dials (resolve, connect) or starts from an accepted socket, exchanges
// handshakes, then streams: a read loop that hands frames to its owner, and a writer that
// drains the peer's PeerQueue one gathered write at a time. Any error closes it; the owner
// (TransportImpl) decides what that means for the peer (redial, report the loss).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "transport/frame_codec.h"
#include "transport/frame_reader.h"
#include "transport/peer_queue.h"
#include "transport/transport.h"
#include "transport/write_batch.h"

namespace cmq::transport {

struct ConnectionConfig {
  uint64_t cluster_id = 0;
  uint64_t self_id = 0;
  uint64_t max_frame_bytes = 0;
  // Bounds resolve + connect + handshake of a dial, and the handshake of an accepted socket
  // (so a silent client cannot hold a socket forever).
  std::chrono::milliseconds handshake_timeout{0};
  // Set: every connection is TLS (peer_tls.h), with the TLS handshake first.
  std::shared_ptr<boost::asio::ssl::context> tls;
};

class Connection;

// What a connection reports to whoever owns it. Called on the io thread, possibly from
// inside Connection::Close (so the owner must hold its own reference if it needs one).
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // The remote's handshake passed the wire checks; may node `from` use this accepted
  // connection? The reason to refuse, or an empty string. Asked when the handshake arrives
  // and again just before the connection becomes active (the peer may be removed meanwhile).
  virtual std::string CheckPeer(uint64_t from) = 0;
  // The handshake is done; the owner calls Stream() to start the traffic.
  virtual void OnActive(const std::shared_ptr<Connection>& conn) = 0;
  virtual void OnFrame(Frame&& frame) = 0;
  // Called exactly once, when the connection closes for any reason.
  virtual void OnClosed(Connection& conn, bool was_active, std::string_view reason) = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class Role { kDialer, kAcceptor };

  // A connection that will dial node `peer` (call Dial).
  static std::shared_ptr<Connection> Outbound(boost::asio::io_context& ioc,
                                              const ConnectionConfig& config,
                                              ConnectionOwner& owner, uint64_t peer);
  // A connection on a socket just accepted (call Accept); its peer is known after the
  // handshake.
  static std::shared_ptr<Connection> Inbound(boost::asio::ip::tcp::socket socket,
                                             const ConnectionConfig& config,
                                             ConnectionOwner& owner);

  Connection(boost::asio::ip::tcp::socket socket, const ConnectionConfig& config,
             ConnectionOwner& owner, Role role, uint64_t peer);

  // Dialer: resolve, connect, send our handshake, check the answer.
  void Dial(const PeerAddress& address);
  // Acceptor: check the dialer's handshake, answer it.
  void Accept();
  // After OnActive: starts reading frames and writing those of `queue`. Frames read while
  // queue.removed() are dropped undelivered.
  void Stream(PeerQueue& queue);
  // Writes queued frames if no write is in progress (the io thread's answer to a wake-up).
  void MaybeWrite();
  // Idempotent. A batch being written is counted as dropped in the queue.
  void Close(std::string_view reason);

  Role role() const { return role_; }
  uint64_t peer() const { return peer_; }  // 0 for an inbound connection before its handshake
  bool active() const { return state_ == State::kActive; }
  const std::string& remote() const { return remote_; }
  // The socket, for the direct writes of its peer's queue (PeerQueue::WriteDirect); -1
  // over TLS, where only the io thread may write (through the TLS stream).
  int native_handle() { return tls_ ? -1 : socket_.native_handle(); }

 private:
  enum class State { kIdle, kResolving, kConnecting, kHandshaking, kActive, kClosed };

  void ArmDeadline();
  void SetNoDelay();
  // TLS handshake (when config_.tls), then the transport handshake in the role's order.
  void StartHandshake();
  void WriteHandshake();
  void ReadHandshake();
  // Validates hs_in_; refuses (logs and closes) and returns false on a mismatch.
  bool CheckHandshake();
  void Activate();
  void ReadSome();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void OnWritten(const boost::system::error_code& ec);
  // Calls op with the stream reads and writes go through: TLS when it is on, else the socket.
  template <class Op>
  void OnStream(Op&& op);

  const ConnectionConfig& config_;
  ConnectionOwner& owner_;
  const Role role_;
  uint64_t peer_;
  State state_ = State::kIdle;
  std::string remote_;  // "host:port", for logs

  boost::asio::ip::tcp::socket socket_;
  // Over socket_, when config_.tls is set.
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer deadline_;

  HandshakeBytes hs_out_{};
  HandshakeBytes hs_in_{};

  PeerQueue* queue_ = nullptr;  // set by Stream
  FrameReader reader_;
  WriteBatch batch_;
  bool writing_ = false;
};

}  // namespace cmq::transport
