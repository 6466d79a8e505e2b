#pragma once
// The Transport behind Transport::Start: the io thread, the listening socket, and one Peer
// per other node (its queue, its connection, its redial timer). Which side dials, when to
// redial, which of two connections from the same node wins, and peers joining and leaving
// at run time are decided here; the protocol of one connection lives in connection.cc.
//
// Peers at run time. peers_ is guarded by peers_mu_ (a shared_mutex: Send, IsConnected,
// stats and the io thread look up under a shared lock; AddPeer and RemovePeer change it
// under the exclusive lock). An entry is never erased, only marked removed (and unmarked
// when added again), so a Peer* stays valid for the Transport's life: Send and the io thread
// hold it without the lock. AddPeer and RemovePeer change the shared state at once and post
// the rest (dial, close) to the io thread while still holding the lock, so the io thread
// applies membership changes in the order they were made.

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "transport/connection.h"
#include "transport/peer_queue.h"
#include "transport/peer_tls.h"
#include "transport/transport.h"

namespace cmq::transport {

class TransportImpl final : public Transport, private ConnectionOwner {
 public:
  // tls: the peer TLS context (peer_tls.h), or null for plain TCP.
  TransportImpl(TransportOptions options, FrameHandler on_frame, PeerHandler on_lost,
                std::shared_ptr<boost::asio::ssl::context> tls);
  ~TransportImpl() override;

  // Binds and listens (before the io thread starts, so errors reach Start's caller).
  Status Listen();
  // Starts the io thread: accepting, and dialing every peer with a larger id.
  void Run();

  bool Send(uint64_t to, FrameKind kind, uint32_t group, std::string payload) override;
  void AddPeer(uint64_t id, PeerAddress address) override;
  void RemovePeer(uint64_t id) override;
  void Stop() override;
  // One peer's lock instead of the base version's copy of every peer's stats.
  bool IsConnected(uint64_t peer) const override;
  uint16_t listen_port() const override { return port_; }
  std::map<uint64_t, PeerStats> stats() const override;

 private:
  struct Peer {
    Peer(uint64_t id, PeerAddress address, bool we_dial, const TransportOptions& options,
         boost::asio::io_context& ioc);

    const uint64_t id;
    const bool we_dial;   // our id is the smaller: we dial, the peer only accepts
    PeerAddress address;  // guarded by peers_mu_ (AddPeer may change it)
    // Written under the exclusive peers_mu_; read anywhere (the io thread without the lock).
    std::atomic<bool> removed{false};
    PeerQueue queue;  // thread-safe
    // The rest belongs to the io thread.
    // The active connection; when we dial, also the attempt in progress (not yet active).
    std::shared_ptr<Connection> conn;
    PeerAddress dialed;  // the address conn dialed (when we dial and conn is set)
    boost::asio::steady_timer redial_timer;
    int64_t backoff_ms;  // the delay before the next redial (before jitter)
  };

  // ConnectionOwner (io thread).
  std::string CheckPeer(uint64_t from) override;
  void OnActive(const std::shared_ptr<Connection>& conn) override;
  void OnFrame(Frame&& frame) override;
  void OnClosed(Connection& conn, bool was_active, std::string_view reason) override;

  // A current peer (not removed), or nullptr. Takes the shared lock.
  Peer* FindPeer(uint64_t id) const;
  // Any entry, removed or not, or nullptr. Takes the shared lock.
  Peer* FindEntry(uint64_t id) const;
  // Every entry (removed ones too), copied under the shared lock.
  std::vector<Peer*> AllEntries() const;
  PeerAddress AddressOf(const Peer& peer) const;
  // io thread: applies an AddPeer (new, re-added or new address) / a RemovePeer.
  void OnPeerAdded(Peer& peer);
  void OnPeerRemoved(Peer& peer);
  void Accept();
  void Dial(Peer& peer);
  void ScheduleRedial(Peer& peer);
  void Shutdown();

  const TransportOptions options_;
  const ConnectionConfig conn_config_;  // outlives the io_context: connections refer to it
  const FrameHandler on_frame_;
  const PeerHandler on_lost_;

  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;
  uint16_t port_ = 0;

  // Entries are added (by the constructor and AddPeer) but never erased; see the top.
  // Never held while calling a handler or closing a connection (AddPeer and RemovePeer may
  // be called from the handlers, and std::shared_mutex is not recursive).
  mutable std::shared_mutex peers_mu_;
  std::map<uint64_t, std::unique_ptr<Peer>> peers_;

  // io thread only.
  std::unordered_map<Connection*, std::shared_ptr<Connection>> handshaking_;  // inbound
  std::mt19937_64 rng_;
  bool shutting_down_ = false;

  std::atomic<bool> stopped_{false};
  std::mutex stop_mu_;  // serializes Stop so a second caller returns only once it is done
  std::thread thread_;
};

}  // namespace cmq::transport
