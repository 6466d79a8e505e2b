#include "transport/connection.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace cmq::transport {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

std::shared_ptr<Connection> Connection::Outbound(net::io_context& ioc,
                                                 const ConnectionConfig& config,
                                                 ConnectionOwner& owner, uint64_t peer) {
  return std::make_shared<Connection>(tcp::socket(ioc), config, owner, Role::kDialer, peer);
}

std::shared_ptr<Connection> Connection::Inbound(tcp::socket socket, const ConnectionConfig& config,
                                                ConnectionOwner& owner) {
  return std::make_shared<Connection>(std::move(socket), config, owner, Role::kAcceptor, 0);
}

Connection::Connection(tcp::socket socket, const ConnectionConfig& config, ConnectionOwner& owner,
                       Role role, uint64_t peer)
    : config_(config),
      owner_(owner),
      role_(role),
      peer_(peer),
      socket_(std::move(socket)),
      resolver_(socket_.get_executor()),
      deadline_(socket_.get_executor()),
      reader_(config.max_frame_bytes) {
  if (config_.tls) {
    tls_ = std::make_unique<net::ssl::stream<tcp::socket&>>(socket_, *config_.tls);
  }
}

template <class Op>
void Connection::OnStream(Op&& op) {
  if (tls_) {
    op(*tls_);
  } else {
    op(socket_);
  }
}

void Connection::ArmDeadline() {
  deadline_.expires_after(config_.handshake_timeout);
  deadline_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || self->state_ == State::kActive || self->state_ == State::kClosed) return;
    self->Close(self->role_ == Role::kDialer && self->state_ != State::kHandshaking
                    ? "connect timed out"
                    : "handshake timed out");
  });
}

void Connection::SetNoDelay() {
  // Raft messages are small and latency-bound; batching is done by WriteBatch, not Nagle.
  error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  // A peer whose host vanished without a reset (power loss, a cut cable) would otherwise
  // look connected for many minutes: TCP keepalive probes an idle connection after 5 s and
  // gives up after 3 unanswered probes a second apart, and TCP_USER_TIMEOUT breaks a
  // connection whose sent data stays unacknowledged for 10 s (Raft heartbeats keep a
  // leader's connections busy, so keepalive alone would never fire there).
  socket_.set_option(boost::asio::socket_base::keep_alive(true), ec);
  const int fd = socket_.native_handle();
  int idle = 5, interval = 1, count = 3;
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
  unsigned int user_timeout_ms = 10'000;
  ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof(user_timeout_ms));
}

void Connection::Dial(const PeerAddress& address) {
  remote_ = fmt::format("{}:{}", address.host, address.port);
  state_ = State::kResolving;
  ArmDeadline();
  resolver_.async_resolve(
      address.host, std::to_string(address.port),
      [self = shared_from_this()](const error_code& ec, tcp::resolver::results_type results) {
        if (self->state_ != State::kResolving) return;
        if (ec) return self->Close(fmt::format("resolving {}: {}", self->remote_, ec.message()));
        self->state_ = State::kConnecting;
        net::async_connect(
            self->socket_, results, [self](const error_code& ec, const tcp::endpoint&) {
              if (self->state_ != State::kConnecting) return;
              if (ec) {
                return self->Close(
                    fmt::format("connecting to {}: {}", self->remote_, ec.message()));
              }
              self->state_ = State::kHandshaking;
              self->SetNoDelay();
              self->StartHandshake();
            });
      });
}

void Connection::Accept() {
  error_code ec;
  tcp::endpoint endpoint = socket_.remote_endpoint(ec);
  remote_ =
      ec ? std::string("?") : fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
  state_ = State::kHandshaking;
  SetNoDelay();
  ArmDeadline();
  StartHandshake();
}

void Connection::StartHandshake() {
  auto transport_handshake = [this] {
    if (role_ == Role::kDialer) {
      WriteHandshake();
    } else {
      ReadHandshake();
    }
  };
  if (!tls_) return transport_handshake();
  // Within the same deadline as the transport handshake (ArmDeadline).
  tls_->async_handshake(
      role_ == Role::kDialer ? net::ssl::stream_base::client : net::ssl::stream_base::server,
      [self = shared_from_this(), transport_handshake](const error_code& ec) {
        if (self->state_ != State::kHandshaking) return;
        if (ec) {
          spdlog::warn("transport: node {}: TLS handshake with {} failed: {}",
                       self->config_.self_id, self->remote_, ec.message());
          return self->Close(fmt::format("TLS handshake: {}", ec.message()));
        }
        transport_handshake();
      });
}

// The dialer speaks first; the acceptor answers only a handshake it accepted, so a refused
// dialer learns nothing but a closed socket.
void Connection::WriteHandshake() {
  hs_out_ = EncodeHandshake(Handshake{kWireVersion, config_.cluster_id, config_.self_id, peer_});
  auto on_written = [self = shared_from_this()](const error_code& ec, size_t) {
    if (self->state_ != State::kHandshaking) return;
    if (ec) return self->Close(fmt::format("sending handshake: {}", ec.message()));
    if (self->role_ == Role::kDialer) {
      self->ReadHandshake();
    } else {
      self->Activate();
    }
  };
  OnStream([&](auto& stream) { net::async_write(stream, net::buffer(hs_out_), on_written); });
}

void Connection::ReadHandshake() {
  // Exactly the handshake: frames that follow it are read later by the FrameReader.
  auto on_read = [self = shared_from_this()](const error_code& ec, size_t) {
    if (self->state_ != State::kHandshaking) return;
    if (ec) {
      return self->Close(fmt::format("reading handshake: {}", ec.message()));
    }
    if (!self->CheckHandshake()) return;
    if (self->role_ == Role::kDialer) {
      self->Activate();
    } else {
      self->WriteHandshake();
    }
  };
  OnStream([&](auto& stream) { net::async_read(stream, net::buffer(hs_in_), on_read); });
}

bool Connection::CheckHandshake() {
  Handshake remote;
  std::string why;
  if (!DecodeHandshake(hs_in_, remote)) {
    why = "bad magic (not an OpenCMQ transport peer)";
  } else {
    why = HandshakeMismatch(remote, config_.cluster_id, config_.self_id);
  }
  if (why.empty()) {
    if (role_ == Role::kDialer && remote.from != peer_) {
      why = fmt::format("answered by node {} (we dialed node {})", remote.from, peer_);
    } else if (role_ == Role::kAcceptor) {
      why = owner_.CheckPeer(remote.from);
    }
  }
  if (!why.empty()) {
    spdlog::warn("transport: node {}: refused connection with {}: {}", config_.self_id, remote_,
                 why);
    Close(fmt::format("handshake refused: {}", why));
    return false;
  }
  peer_ = remote.from;
  return true;
}

void Connection::Activate() {
  if (role_ == Role::kAcceptor) {
    // The peer may have been removed while our answer was being written: ask again, on the
    // io thread right before the owner takes the connection.
    std::string why = owner_.CheckPeer(peer_);
    if (!why.empty()) {
      spdlog::warn("transport: node {}: refused connection with {}: {}", config_.self_id, remote_,
                   why);
      Close(fmt::format("handshake refused: {}", why));
      return;
    }
  }
  state_ = State::kActive;
  deadline_.cancel();
  owner_.OnActive(shared_from_this());
}

void Connection::Stream(PeerQueue& queue) {
  if (state_ != State::kActive) return;
  queue_ = &queue;
  ReadSome();
  MaybeWrite();
}

void Connection::ReadSome() {
  std::span<char> span = reader_.WritableSpan();
  OnStream([&](auto& stream) {
    stream.async_read_some(
        net::buffer(span.data(), span.size()),
        [self = shared_from_this()](const error_code& ec, size_t n) { self->OnRead(ec, n); });
  });
}

void Connection::OnRead(const error_code& ec, size_t n) {
  if (state_ != State::kActive) return;
  if (ec) {
    Close(ec == net::error::eof ? std::string("closed by the peer") : ec.message());
    return;
  }
  reader_.Commit(n);
  for (;;) {
    Frame frame;
    switch (reader_.Pop(frame)) {
      case FrameReader::Result::kNeedMore:
        ReadSome();
        return;
      case FrameReader::Result::kError:
        spdlog::warn("transport: node {}: bad frame from node {} ({}): {}", config_.self_id, peer_,
                     remote_, FrameErrorName(reader_.error()));
        Close(fmt::format("bad frame: {}", FrameErrorName(reader_.error())));
        return;
      case FrameReader::Result::kFrame:
        // The peer was removed; its connection is about to be closed on this thread.
        if (queue_->removed()) break;
        frame.from = peer_;
        queue_->CountReceived();
        owner_.OnFrame(std::move(frame));
        if (state_ != State::kActive) return;
        break;
    }
  }
}

void Connection::MaybeWrite() {
  if (state_ != State::kActive || queue_ == nullptr || writing_) return;
  if (!queue_->TakeBatch(batch_)) return;
  writing_ = true;
  OnStream([&](auto& stream) {
    net::async_write(
        stream, batch_.Build(),
        [self = shared_from_this()](const error_code& ec, size_t) { self->OnWritten(ec); });
  });
}

void Connection::OnWritten(const error_code& ec) {
  if (state_ != State::kActive) return;  // Close already counted the batch as dropped
  if (ec) {
    Close(fmt::format("writing: {}", ec.message()));
    return;
  }
  queue_->WriteDone(batch_.frame_count(), batch_.wire_bytes());
  batch_.Clear();
  writing_ = false;
  MaybeWrite();
}

void Connection::Close(std::string_view reason) {
  if (state_ == State::kClosed) return;
  auto self = shared_from_this();  // the owner may drop its reference in OnClosed
  bool was_active = state_ == State::kActive;
  state_ = State::kClosed;
  // No direct write may touch the socket once it is closed (its number is reused).
  if (queue_ != nullptr) queue_->Detach(socket_.native_handle());
  error_code ignored;
  deadline_.cancel();
  resolver_.cancel();
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  if (writing_ && queue_ != nullptr) {
    // The batch may have been partly written; the peer drops a partial frame with the
    // connection, so none of it counts as sent. Its buffers stay alive (batch_ is kept
    // until this object dies) in case the aborted write still refers to them.
    queue_->DropInFlight(batch_.frame_count(), batch_.wire_bytes());
  }
  owner_.OnClosed(*this, was_active, reason);
}

}  // namespace cmq::transport
