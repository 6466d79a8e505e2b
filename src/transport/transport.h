#pragma once
// Node-to-node messaging over TCP (Boost.Asio): the only way cmqd nodes talk to each other.
// It carries opaque frames for cluster/ (Raft messages of any group, forwarded client
// requests and their replies); it knows nothing of what is inside them.
//
// Connections. One TCP connection per pair of nodes, used in both directions and shared by
// every group: the node with the smaller id dials, the other accepts (a node that has frames
// for a peer with a smaller id keeps them queued until that peer connects). The dialer
// reconnects after a failure with exponential backoff (min_backoff_ms doubling up to
// max_backoff_ms, with jitter). A connection opens with a handshake that names the cluster,
// the wire version and both node ids; a peer with another cluster id, version or an
// unexpected node id (not, or no longer, a peer) is refused and logged.
//
// Membership. The peers given at Start can be changed at run time with AddPeer and
// RemovePeer (a node joins or leaves the cluster); an added peer follows the same rules as
// one given at Start.
//
// Wire format (docs/transport.md):
//   handshake  = ["CMQT" magic][version u16][cluster id u64][from node u64][to node u64]
//   frame      = [body length u32][xxh3-64 of body, low 32 bits u32][body]
//   body       = [kind u8][group u32][payload bytes]
// little-endian. A frame longer than max_frame_bytes or with a wrong checksum closes the
// connection (logged); frames are never partially delivered.
//
// Batching: frames queued for a peer while a write is in progress go out together in the
// next write (one gathered async_write), so many small Raft messages share a syscall.
//
// Bounds: at most max_queued_bytes_per_peer bytes wait for one peer; Send refuses (returns
// false) past it, and also while the peer is not connected and its queue is full. Raft
// tolerates lost messages; forwarded requests fail fast with a retryable error. When a
// connection breaks, the frames queued for it are dropped (the caller's timeouts and Raft's
// retransmissions recover) and on_lost is called. Frames queued while no connection exists
// (before the first, between a break and the redial) wait, within the bound.
//
// Threads: the Transport runs its own io thread. Send, stats, IsConnected, AddPeer,
// RemovePeer and Stop are thread-safe. The handlers run on the io thread and must not block
// (post to your own strand); they may call Send, stats, AddPeer and RemovePeer, but not Stop
// (it joins the io thread). Frames from one peer are delivered
// in the order that peer sent them (per sending thread).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/result.h"

namespace cmq::transport {

inline constexpr uint16_t kWireVersion = 1;

enum class FrameKind : uint8_t {
  kRaft = 1,            // a raft::Message (raft/codec.h) for group `group`
  kForwardRequest = 2,  // a client request forwarded to the node that can serve it
  kForwardReply = 3,    // the answer to a forwarded request
  kRaftChunk = 4,       // a piece of a raft::Message too large for one frame (a snapshot)
  kLeaderHint = 5,      // which node leads which group, as the sender knows (cluster/)
  kRetainedChunk = 6,   // log entries streamed before a large snapshot (cluster/retained_stream.h)
  kRetainedAck = 7,     // the answer to a kRetainedChunk
  kCheckBack = 8,       // a transaction check-back for a node with no replica of its group
  kForwardCancel = 9,   // the client of a forwarded request is gone (cluster/peer_network.h)
};

struct Frame {
  uint64_t from = 0;  // the sending node (filled in on receipt from the connection)
  FrameKind kind = FrameKind::kRaft;
  uint32_t group = 0;
  std::string payload;
};

struct PeerAddress {
  std::string host;  // a host name or an IP address
  uint16_t port = 0;

  friend bool operator==(const PeerAddress&, const PeerAddress&) = default;
};

struct TransportOptions {
  uint64_t cluster_id = 1;
  uint64_t node_id = 0;  // this node; must not be 0
  std::string listen_host = "0.0.0.0";
  uint16_t listen_port = 0;               // 0: an ephemeral port (see listen_port())
  std::map<uint64_t, PeerAddress> peers;  // every other node (an entry for node_id is ignored)
  uint64_t max_queued_bytes_per_peer = 64ull << 20;
  uint64_t max_frame_bytes = 1ull << 30;
  int64_t min_backoff_ms = 50;
  int64_t max_backoff_ms = 2000;
  int64_t connect_timeout_ms = 2000;
  // A frame sent while its peer's connection is idle is written by the sending thread
  // (docs/transport.md "Writing and batching"); false: always by the io thread.
  bool direct_writes = true;
  // Mutual TLS (docs/transport.md "TLS"): all three PEM files, or none for plain TCP. Every
  // connection is then encrypted, and both ends must show a certificate that tls_ca_file
  // signed. Direct writes are off with TLS (the sending thread cannot use the TLS stream).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
};

struct PeerStats {
  bool connected = false;
  uint64_t frames_sent = 0;
  uint64_t frames_received = 0;
  uint64_t frames_dropped = 0;  // refused by Send or lost with a broken connection
  uint64_t queued_bytes = 0;
  uint64_t connects = 0;  // successful handshakes so far
};

class Transport {
 public:
  using FrameHandler = std::function<void(Frame frame)>;
  using PeerHandler = std::function<void(uint64_t peer)>;

  // Binds the listening socket (errors: kIoError with the reason, e.g. the port is in use;
  // kInvalidArgument for bad options) and starts the io thread, which begins dialing the
  // peers with larger ids. on_frame is called for every frame received; on_lost (may be
  // empty) when an established connection to a peer ends: broken, closed for a protocol
  // error, or replaced by a newer connection from that peer (frames may have been lost).
  // Failed dial attempts do not call it.
  static Result<std::unique_ptr<Transport>> Start(TransportOptions options, FrameHandler on_frame,
                                                  PeerHandler on_lost = nullptr);
  virtual ~Transport() = default;

  // Queues a frame for peer `to`. false if it was refused (unknown or removed peer, queue full,
  // stopped, payload over max_frame_bytes); the frame is then dropped and counted (except
  // for an unknown or removed peer, which has no stats). true means queued, not delivered.
  virtual bool Send(uint64_t to, FrameKind kind, uint32_t group, std::string payload) = 0;

  // Adds peer `id` at `address` (or changes its address), thread-safe, any time after Start.
  // If this node's id is smaller, it starts dialing it (same rules as a peer given at Start);
  // frames may be Sent to it at once (queued, bounded). Adding our own id is ignored, and so
  // is an id of 0 or an empty host (logged). Re-adding a removed peer makes it a peer again
  // (its stats go on from where they were). A new address of a known peer is used from its
  // next dial: if we are the dialer and the address changed, the current connection (or
  // attempt) is closed (on_lost if it was established) and the new address dialed at once.
  // Adding a known peer with its current address changes nothing.
  virtual void AddPeer(uint64_t id, PeerAddress address) = 0;

  // Removes peer `id`: closes its connection, drops its queued frames, stops dialing it,
  // refuses its future handshakes and Sends to it (counted as refused, like an unknown peer:
  // false, and no stats). Idempotent; thread-safe. When it returns, Send(id) is refused,
  // IsConnected(id) is false, stats() no longer lists it, its queued frames are dropped and
  // no frame from it starts being delivered; the connection itself is closed shortly after,
  // on the io thread (on_lost(id) is called if it was established).
  virtual void RemovePeer(uint64_t id) = 0;

  // Closes every connection, joins the io thread; no handler runs after it returns.
  // Idempotent; the destructor calls it.
  virtual void Stop() = 0;

  // Whether a handshaken connection to peer is up now (cheap; for routing decisions). false
  // for an unknown or removed peer.
  virtual bool IsConnected(uint64_t peer) const {
    auto all = stats();
    auto it = all.find(peer);
    return it != all.end() && it->second.connected;
  }

  virtual uint16_t listen_port() const = 0;
  // Every current peer (removed ones are not listed).
  virtual std::map<uint64_t, PeerStats> stats() const = 0;
};

}  // namespace cmq::transport
