#include "transport/transport_impl.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <exception>
#include <limits>

#include "common/assert.h"
#include "common/thread_name.h"

namespace cmq::transport {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

// Time to wait before accepting again after accept failed (e.g. out of descriptors), so
// a persistent error does not spin the io thread.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

Status ValidateOptions(const TransportOptions& o, const Transport::FrameHandler& on_frame) {
  if (o.node_id == 0)
    return Status(ErrorCode::kInvalidArgument, "transport: node_id must not be 0");
  if (!on_frame) return Status(ErrorCode::kInvalidArgument, "transport: on_frame is required");
  if (o.min_backoff_ms <= 0 || o.max_backoff_ms < o.min_backoff_ms || o.connect_timeout_ms <= 0) {
    return Status(ErrorCode::kInvalidArgument, "transport: bad backoff or connect timeout");
  }
  if (o.max_frame_bytes < kBodyHeaderBytes || o.max_queued_bytes_per_peer == 0) {
    return Status(ErrorCode::kInvalidArgument, "transport: bad frame or queue bound");
  }
  for (const auto& [id, address] : o.peers) {
    if (id == 0 || (id != o.node_id && address.host.empty())) {
      return Status(ErrorCode::kInvalidArgument, fmt::format("transport: bad peer {}", id));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Transport>> Transport::Start(TransportOptions options, FrameHandler on_frame,
                                                    PeerHandler on_lost) {
  CMQ_RETURN_IF_ERROR(ValidateOptions(options, on_frame));
  std::shared_ptr<net::ssl::context> tls;
  PeerTlsFiles tls_files{options.tls_cert_file, options.tls_key_file, options.tls_ca_file};
  if (tls_files.enabled()) {
    auto ctx = MakePeerTlsContext(tls_files);
    if (!ctx.ok()) return ctx.status();
    tls = std::move(*ctx);
  }
  auto transport = std::make_unique<TransportImpl>(std::move(options), std::move(on_frame),
                                                   std::move(on_lost), std::move(tls));
  CMQ_RETURN_IF_ERROR(transport->Listen());
  transport->Run();
  return std::unique_ptr<Transport>(std::move(transport));
}

TransportImpl::Peer::Peer(uint64_t id, PeerAddress address, bool we_dial,
                          const TransportOptions& options, net::io_context& ioc)
    : id(id),
      we_dial(we_dial),
      address(std::move(address)),
      queue(options.max_queued_bytes_per_peer),
      redial_timer(ioc),
      backoff_ms(options.min_backoff_ms) {}

TransportImpl::TransportImpl(TransportOptions options, FrameHandler on_frame, PeerHandler on_lost,
                             std::shared_ptr<net::ssl::context> tls)
    : options_(std::move(options)),
      conn_config_{options_.cluster_id, options_.node_id, options_.max_frame_bytes,
                   std::chrono::milliseconds(options_.connect_timeout_ms), std::move(tls)},
      on_frame_(std::move(on_frame)),
      on_lost_(std::move(on_lost)),
      work_(ioc_.get_executor()),
      acceptor_(ioc_),
      accept_retry_(ioc_),
      rng_(std::random_device{}()) {
  for (const auto& [id, address] : options_.peers) {
    if (id == options_.node_id) continue;
    peers_.emplace(id, std::make_unique<Peer>(id, address, options_.node_id < id, options_, ioc_));
  }
}

TransportImpl::~TransportImpl() {
  Stop();
}

Status TransportImpl::Listen() {
  const std::string& host = options_.listen_host.empty() ? "0.0.0.0" : options_.listen_host;
  error_code ec;
  tcp::endpoint endpoint;
  net::ip::address address = net::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, options_.listen_port);
  } else {
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(host, std::to_string(options_.listen_port), ec);
    if (ec || results.empty()) {
      return Status(ErrorCode::kIoError, fmt::format("transport: resolving listen host {}: {}",
                                                     host, ec ? ec.message() : "no address"));
    }
    endpoint = results.begin()->endpoint();
  }
  auto fail = [&](std::string_view what) {
    return Status(ErrorCode::kIoError, fmt::format("transport: {} {}:{}: {}", what, host,
                                                   options_.listen_port, ec.message()));
  };
  if (acceptor_.open(endpoint.protocol(), ec)) return fail("opening a socket for");
  // A restarted node must get its port back while connections of its previous life are
  // still in TIME_WAIT.
  if (acceptor_.set_option(tcp::acceptor::reuse_address(true), ec)) return fail("configuring");
  if (acceptor_.bind(endpoint, ec)) return fail("binding");
  if (acceptor_.listen(net::socket_base::max_listen_connections, ec)) return fail("listening on");
  tcp::endpoint bound = acceptor_.local_endpoint(ec);
  if (ec) return fail("reading the bound port of");
  port_ = bound.port();
  return Status::Ok();
}

void TransportImpl::Run() {
  net::post(ioc_, [this] {
    Accept();
    // Peers added since the constructor are dialed here or by their OnPeerAdded, whichever
    // runs first (Dial does nothing while a connection or attempt exists).
    for (Peer* peer : AllEntries()) {
      if (peer->we_dial) Dial(*peer);
    }
  });
  thread_ = std::thread([this] {
    SetThreadName("transport");
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        // Last resort (the callbacks are guarded where they are called): a throwing
        // handler must not end the io thread and with it every link of the node.
        spdlog::error("transport: node {}: a handler threw: {}", options_.node_id, e.what());
      }
    }
  });
}

bool TransportImpl::Send(uint64_t to, FrameKind kind, uint32_t group, std::string payload) {
  Peer* peer = FindPeer(to);  // stays valid: entries are never erased
  if (peer == nullptr) return false;
  if (stopped_.load(std::memory_order_acquire) || !IsValidFrameKind(static_cast<uint8_t>(kind)) ||
      FrameBodyBytes(payload.size()) > options_.max_frame_bytes ||
      FrameBodyBytes(payload.size()) > std::numeric_limits<uint32_t>::max()) {
    peer->queue.CountRefused();
    return false;
  }
  // A RemovePeer since FindPeer is caught by the queue: it refuses once removed.
  switch (peer->queue.Enqueue(MakeOutFrame(kind, group, std::move(payload)))) {
    case PeerQueue::Push::kRefused:
      return false;
    case PeerQueue::Push::kQueuedWakeWriter:
      if (peer->queue.WriteDirect()) return true;
      net::post(ioc_, [peer] {
        if (peer->conn) peer->conn->MaybeWrite();
      });
      return true;
    case PeerQueue::Push::kQueued:
      return true;
  }
  return false;
}

void TransportImpl::AddPeer(uint64_t id, PeerAddress address) {
  if (id == options_.node_id) return;
  if (id == 0 || address.host.empty()) {
    spdlog::error("transport: node {}: AddPeer({}, \"{}\":{}) ignored: bad peer", options_.node_id,
                  id, address.host, address.port);
    return;
  }
  std::unique_lock lock(peers_mu_);
  Peer* peer;
  auto it = peers_.find(id);
  if (it == peers_.end()) {
    auto added =
        std::make_unique<Peer>(id, std::move(address), options_.node_id < id, options_, ioc_);
    peer = added.get();
    peers_.emplace(id, std::move(added));
  } else {
    peer = it->second.get();
    bool removed = peer->removed.load(std::memory_order_relaxed);
    if (!removed && peer->address == address) return;
    peer->address = std::move(address);
    if (removed) {
      peer->queue.Restore();
      peer->removed.store(false, std::memory_order_release);
    }
  }
  spdlog::info("transport: node {}: peer {} at {}:{}", options_.node_id, id, peer->address.host,
               peer->address.port);
  // Posted under the lock: the io thread sees the changes of one peer in the order made.
  net::post(ioc_, [this, peer] { OnPeerAdded(*peer); });
}

void TransportImpl::RemovePeer(uint64_t id) {
  std::unique_lock lock(peers_mu_);
  auto it = peers_.find(id);
  if (it == peers_.end() || it->second->removed.load(std::memory_order_relaxed)) return;
  Peer* peer = it->second.get();
  peer->removed.store(true, std::memory_order_release);
  peer->queue.Remove();
  spdlog::info("transport: node {}: peer {} removed", options_.node_id, id);
  net::post(ioc_, [this, peer] { OnPeerRemoved(*peer); });
}

void TransportImpl::OnPeerAdded(Peer& peer) {
  // Removed again since (its OnPeerRemoved is queued behind us), or nothing to dial.
  if (shutting_down_ || !peer.we_dial || peer.removed.load(std::memory_order_acquire)) return;
  PeerAddress address = AddressOf(peer);
  if (peer.conn) {
    if (peer.dialed == address) return;  // connected to, or dialing, the right address
    // Close calls OnClosed, which resets peer.conn (and reports the loss if it was up).
    std::shared_ptr<Connection> old = peer.conn;
    old->Close(fmt::format("node {} moved to {}:{}", peer.id, address.host, address.port));
  }
  // A new peer, a re-added one, or a new address: dial now rather than after a backoff.
  peer.redial_timer.cancel();
  peer.backoff_ms = options_.min_backoff_ms;
  Dial(peer);
}

void TransportImpl::OnPeerRemoved(Peer& peer) {
  // Even if it was added again since: that AddPeer's OnPeerAdded is queued behind us and
  // dials afresh.
  peer.redial_timer.cancel();
  if (std::shared_ptr<Connection> conn = peer.conn) {
    conn->Close(fmt::format("node {} was removed", peer.id));
  }
}

void TransportImpl::Stop() {
  std::lock_guard lock(stop_mu_);
  stopped_.store(true, std::memory_order_release);
  if (!thread_.joinable()) return;
  CMQ_ASSERT(std::this_thread::get_id() != thread_.get_id(),
             "Transport::Stop called from a transport handler");
  net::post(ioc_, [this] { Shutdown(); });
  thread_.join();
}

void TransportImpl::Shutdown() {
  shutting_down_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
  for (Peer* peer : AllEntries()) {
    peer->redial_timer.cancel();
    if (std::shared_ptr<Connection> conn = peer->conn) conn->Close("transport stopped");
  }
  auto handshaking = handshaking_;  // Close erases from handshaking_
  for (auto& [raw, conn] : handshaking) conn->Close("transport stopped");
  // Handlers still queued (aborted operations, wake-ups) are destroyed with the io_context
  // without running; stopping now also bounds Stop when a name lookup is stuck.
  ioc_.stop();
}

bool TransportImpl::IsConnected(uint64_t peer) const {
  const Peer* p = FindPeer(peer);
  return p != nullptr && p->queue.connected();
}

std::map<uint64_t, PeerStats> TransportImpl::stats() const {
  std::map<uint64_t, PeerStats> out;
  std::shared_lock lock(peers_mu_);
  for (const auto& [id, peer] : peers_) {
    if (!peer->removed.load(std::memory_order_acquire)) out.emplace(id, peer->queue.Stats());
  }
  return out;
}

TransportImpl::Peer* TransportImpl::FindPeer(uint64_t id) const {
  Peer* peer = FindEntry(id);
  return peer == nullptr || peer->removed.load(std::memory_order_acquire) ? nullptr : peer;
}

TransportImpl::Peer* TransportImpl::FindEntry(uint64_t id) const {
  std::shared_lock lock(peers_mu_);
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : it->second.get();
}

std::vector<TransportImpl::Peer*> TransportImpl::AllEntries() const {
  std::vector<Peer*> out;
  std::shared_lock lock(peers_mu_);
  out.reserve(peers_.size());
  for (const auto& [id, peer] : peers_) out.push_back(peer.get());
  return out;
}

PeerAddress TransportImpl::AddressOf(const Peer& peer) const {
  std::shared_lock lock(peers_mu_);
  return peer.address;
}

void TransportImpl::Accept() {
  acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
    if (shutting_down_ || ec == net::error::operation_aborted) return;
    if (ec) {
      spdlog::warn("transport: node {}: accept failed: {}", options_.node_id, ec.message());
      accept_retry_.expires_after(kAcceptRetryDelay);
      accept_retry_.async_wait([this](const error_code& ec) {
        if (!ec && !shutting_down_) Accept();
      });
      return;
    }
    auto conn = Connection::Inbound(std::move(socket), conn_config_, *this);
    handshaking_.emplace(conn.get(), conn);
    conn->Accept();
    Accept();
  });
}

void TransportImpl::Dial(Peer& peer) {
  // A removed peer is not dialed (a redial timer may fire after RemovePeer).
  if (shutting_down_ || peer.conn || peer.removed.load(std::memory_order_acquire)) return;
  peer.dialed = AddressOf(peer);
  peer.conn = Connection::Outbound(ioc_, conn_config_, *this, peer.id);
  peer.conn->Dial(peer.dialed);
}

void TransportImpl::ScheduleRedial(Peer& peer) {
  // Jitter in [delay/2, delay] keeps nodes that lost each other at the same moment from
  // redialing in lockstep.
  int64_t delay = peer.backoff_ms;
  peer.backoff_ms = std::min(peer.backoff_ms * 2, options_.max_backoff_ms);
  delay = std::uniform_int_distribution<int64_t>(delay / 2, delay)(rng_);
  peer.redial_timer.expires_after(std::chrono::milliseconds(delay));
  peer.redial_timer.async_wait([this, &peer](const error_code& ec) {
    if (!ec && !shutting_down_) Dial(peer);
  });
}

std::string TransportImpl::CheckPeer(uint64_t from) {
  Peer* peer = FindEntry(from);
  if (peer == nullptr) return fmt::format("unknown node {}", from);
  if (peer->removed.load(std::memory_order_acquire)) {
    return fmt::format("node {} was removed", from);
  }
  if (peer->we_dial) {
    return fmt::format("node {} dialed us, but the smaller id ({}) dials", from, options_.node_id);
  }
  return {};
}

void TransportImpl::OnActive(const std::shared_ptr<Connection>& conn) {
  // The connection passed CheckPeer on this thread just now, or (dialer) is peer->conn; if
  // the peer was removed since, its OnPeerRemoved is queued behind us and closes it.
  Peer* peer = FindEntry(conn->peer());
  CMQ_ASSERT(peer != nullptr, "active connection to an unknown peer");
  if (conn->role() == Connection::Role::kAcceptor) {
    handshaking_.erase(conn.get());
    // The newer connection wins: the dialer only dials again once it has given up on the
    // old one (restart, or an error we have not noticed yet). Frames still queued go out
    // on the new connection; only the batch in flight on the old one is lost.
    std::shared_ptr<Connection> old = std::move(peer->conn);
    peer->conn = conn;
    if (old) old->Close("replaced by a newer connection from the same node");
  } else {
    peer->backoff_ms = options_.min_backoff_ms;
  }
  peer->queue.Connected(options_.direct_writes ? conn->native_handle() : -1);
  spdlog::info("transport: node {}: connected to node {} ({})", options_.node_id, peer->id,
               conn->remote());
  conn->Stream(peer->queue);
}

void TransportImpl::OnFrame(Frame&& frame) {
  // A throwing callback must not leave the connection without a pending read (it would
  // stall silently): the frame counts as received, the error is logged, reading goes on.
  try {
    on_frame_(std::move(frame));
  } catch (const std::exception& e) {
    spdlog::error("transport: node {}: on_frame threw: {}", options_.node_id, e.what());
  }
}

void TransportImpl::OnClosed(Connection& conn, bool was_active, std::string_view reason) {
  if (conn.role() == Connection::Role::kAcceptor && !was_active) {
    handshaking_.erase(&conn);
    spdlog::debug("transport: node {}: inbound connection {} closed before its handshake: {}",
                  options_.node_id, conn.remote(), reason);
    return;
  }
  Peer* peer = FindEntry(conn.peer());
  CMQ_ASSERT(peer != nullptr, "closed connection of an unknown peer");
  bool current = peer->conn.get() == &conn;
  if (current) {
    peer->conn.reset();
    if (was_active) peer->queue.Disconnected();
  }
  if (shutting_down_) return;
  if (was_active) {
    spdlog::warn("transport: node {}: lost connection to node {} ({}): {}", options_.node_id,
                 peer->id, conn.remote(), reason);
    if (on_lost_) {
      try {
        on_lost_(peer->id);
      } catch (const std::exception& e) {
        spdlog::error("transport: node {}: on_lost threw: {}", options_.node_id, e.what());
      }
    }
  } else {
    spdlog::debug("transport: node {}: dialing node {} ({}) failed: {}", options_.node_id, peer->id,
                  conn.remote(), reason);
  }
  if (current && peer->we_dial && !peer->removed.load(std::memory_order_acquire)) {
    ScheduleRedial(*peer);
  }
}

}  // namespace cmq::transport
