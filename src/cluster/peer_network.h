#pragma once
// A node's link to the other nodes of its cluster: owns the transport (src/transport/),
// hands Raft messages to the local replica of their group, and forwards client requests to
// the node that can serve them (the group's leader), with their answers coming back.
//
// Forwarding is request/response over the transport's kForwardRequest/kForwardReply frames:
//   request payload = [request id u64][opaque request bytes]
//   reply payload   = [request id u64][opaque reply bytes]
//   cancel payload  = [request id u64]                       (kForwardCancel)
// What the bytes mean is the caller's business (api/forwarding.h encodes HTTP requests). A
// forwarded request fails with kUnavailable when it cannot be sent (then it surely did not
// run: `sent` is false), when the connection to that node breaks, or when no answer comes
// within forward_timeout_ms (then it may have run).
//
// A forwarded request's client may go away while it waits (a long-poll receive whose
// connection closed: cluster::AbandonFlag). The sender then tells the serving node with a
// kForwardCancel frame, which sets the AbandonFlag the handler got with the request, so a
// receive still waiting there takes no message (instead of hiding it for its visibility
// timeout with no one to read it). The serving node also sets the flags of every request
// from a peer whose connection broke: the sender has already told their clients to retry.
// The request is still answered as usual.
//
// Large Raft messages (snapshots, which carry log entries with message bodies) go as a
// series of kRaftChunk frames of at most kRaftChunkBytes, fed to the transport only as
// fast as its queue for that peer drains, so they neither exceed the queue's bound nor hold
// back other traffic for long (heartbeats interleave):
//   chunk payload = [transfer id u64][offset u64][total size u64][bytes]
// The receiver reassembles one transfer per peer (in order: one connection is FIFO) and
// steps the whole message, so a sender feeds one transfer per peer at a time; a broken
// connection abandons the transfer on both sides (Raft sends the snapshot again).
//
// Threads: the transport's io thread runs the frame handlers; a timer thread expires
// forwarded requests, feeds chunks and runs After() callbacks. Callbacks must not block.

#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <compare>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>

#include "cluster/chunk_assembler.h"
#include "cluster/queue_service.h"
#include "common/result.h"
#include "mq/state_machine.h"
#include "raft/conf_change.h"
#include "transport/transport.h"

namespace cmq::cluster {

class Node;

inline constexpr uint64_t kRaftChunkBytes = 1ull << 20;
inline constexpr uint32_t kMaxGroups = 64;  // group ids are 1..kMaxGroups

struct PeerNetworkOptions {
  transport::TransportOptions transport;
  int64_t forward_timeout_ms = 45'000;  // above the longest long poll (30 s)
  // Largest Raft message reassembled from chunks (bounds the receiver's memory).
  uint64_t max_chunked_message_bytes = 2ull << 30;
};

struct ForwardFailure {
  Status status;
  bool sent = false;  // false: the request never left this node
};

class PeerNetwork {
 public:
  using ReplyFn = std::function<void(std::string reply)>;
  // abandoned: set once the request's client is gone (kForwardCancel, or the sender's
  // connection broke); never null.
  using ForwardHandler =
      std::function<void(std::string request, ReplyFn reply, AbandonFlag abandoned)>;
  using ForwardDone = std::function<void(Result<std::string> reply, bool sent)>;

  static Result<std::unique_ptr<PeerNetwork>> Start(PeerNetworkOptions options);
  ~PeerNetwork();

  // Before node->Start(): the node's Raft messages go out through this network, and frames
  // for its group (1..kMaxGroups) reach it; one node per group. Frames that arrive before a
  // group's node is attached are dropped. The members of any group that are not among
  // options.transport.peers (nodes added at run time) become transport peers at the
  // address their conf change carried, and stop being peers when no group has them.
  void Attach(Node* node, uint32_t group);
  // Serves requests forwarded here by other nodes.
  void SetForwardHandler(ForwardHandler handler);
  // Sends a request to node `to`, the leader of `group` (0: of no group); done runs exactly
  // once (on an internal thread). It fails early if this node learns of another leader of
  // that group while the request waits for its answer. Once `abandoned` (if given) is set,
  // `to` is told within 0.1 s (kForwardCancel); the answer is still awaited.
  void Forward(uint64_t to, uint32_t group, std::string request, ForwardDone done,
               AbandonFlag abandoned = nullptr);
  // Sends an encoded raft::Message of `group` to node `to` (what Attach wires a node's
  // RaftSend to); false if it was dropped. One larger than kRaftChunkBytes goes in chunks,
  // and only one such transfer per peer at a time: the receiver reassembles one per peer,
  // so a second one (a resent snapshot, or another group's) would abort both. It is
  // refused while the first is being fed (the caller's Raft core sends it again later).
  bool SendRaft(uint64_t to, uint32_t group, std::string message);
  // Check-backs of transaction messages (docs/tcp-protocol.md "Transaction messages"):
  // every replica of a group asks the producers connected to its node, so the leader of a
  // group that falls due for a check also passes it to every connected node without a
  // replica of that group (kCheckBack frames), where the producer may be connected.
  // The handler (set before Start of any node; any thread; must not block) asks them.
  using CheckBackHandler = std::function<void(const mq::TransactionCheck& check)>;
  void SetCheckBackHandler(CheckBackHandler handler);
  void SendCheckBackToNonMembers(uint32_t group, const mq::TransactionCheck& check);
  // Runs fn on the timer thread after ms milliseconds (unless stopped first).
  void After(int64_t ms, std::function<void()> fn);

  // The leader of `group` as best known here: this node's replica's view, or a newer one
  // other nodes reported (a node that is not a member of the group, or was removed from
  // it, learns its leader only this way). 0: none known.
  uint64_t LeaderOf(uint32_t group) const;

  std::map<uint64_t, transport::PeerStats> peer_stats() const { return transport_->stats(); }
  uint16_t listen_port() const { return transport_->listen_port(); }
  // Requests forwarded here whose flags are still kept (until answered, or until nothing
  // but this network holds the flag: the next sweep forgets them).
  size_t incoming_forwards() const;
  uint64_t node_id() const { return options_.transport.node_id; }

  // Stops the transport and the timer thread; pending forwards fail. Idempotent.
  void Stop();

 private:
  struct Pending {
    uint64_t to = 0;
    uint32_t group = 0;
    std::chrono::steady_clock::time_point deadline;
    ForwardDone done;
    AbandonFlag abandoned;     // null: the client cannot go away early
    bool cancel_sent = false;  // kForwardCancel went out
  };
  // A request forwarded here, until answered: the flag its handler got.
  struct IncomingKey {
    uint64_t from = 0;
    uint64_t id = 0;
    auto operator<=>(const IncomingKey&) const = default;
  };

  explicit PeerNetwork(PeerNetworkOptions options);
  void PumpChunks(uint64_t transfer);
  void OnChunk(const transport::Frame& frame);
  void OnCheckBack(const transport::Frame& frame);
  void OnFrame(transport::Frame frame);
  void OnPeerLost(uint64_t peer);
  void OnSweep();
  Node* NodeOf(uint32_t group) const;
  void SendLeaderHints();
  void OnLeaderHints(const transport::Frame& frame);
  void OnMembership(uint32_t group, const raft::ConfState& members,
                    const std::map<uint64_t, std::string>& addresses);

  PeerNetworkOptions options_;
  std::unique_ptr<transport::Transport> transport_;
  std::array<std::atomic<Node*>, kMaxGroups + 1> nodes_{};  // by group id

  std::mutex mu_;
  ForwardHandler handler_;
  CheckBackHandler check_back_;  // guarded by mu_
  std::unordered_map<uint64_t, Pending> pending_;
  uint64_t next_request_id_ = 1;
  // Its own lock: it is taken twice per forwarded request served, by other threads than
  // those that forward.
  mutable std::mutex incoming_mu_;
  std::map<IncomingKey, std::shared_ptr<std::atomic<bool>>> incoming_;  // guarded by incoming_mu_
  // Members of each group, and the peers added at run time for them (every group's strand
  // reports here: guarded by membership_mu_).
  std::mutex membership_mu_;
  std::map<uint32_t, std::set<uint64_t>> group_members_;
  std::map<uint64_t, std::string> member_addresses_;
  std::map<uint64_t, std::string> dynamic_peers_;

  struct Outgoing {  // a chunked message being fed to the transport
    uint64_t to = 0;
    uint32_t group = 0;
    std::shared_ptr<const std::string> data;
    uint64_t offset = 0;
  };
  std::map<uint64_t, Outgoing> outgoing_;  // by transfer id; guarded by mu_
  uint64_t next_transfer_id_ = 1;          // guarded by mu_
  ChunkAssembler chunks_;                  // transport io thread only

  // Leader hints (kLeaderHint frames): every node tells the others, twice a second, the
  // leader and term of each group it knows a leader of.
  struct Hint {
    uint64_t term = 0;
    uint64_t leader = 0;
  };
  mutable std::mutex hints_mu_;
  std::map<uint32_t, Hint> hints_;
  int sweeps_since_hints_ = 0;  // timer thread only

  boost::asio::io_context timer_ctx_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> timer_work_;
  boost::asio::steady_timer sweep_timer_;
  std::thread timer_thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace cmq::cluster
