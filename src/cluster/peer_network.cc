#include "cluster/peer_network.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <set>
#include <vector>

#include "cluster/node.h"
#include "common/assert.h"
#include "common/encoding.h"
#include "common/thread_name.h"
#include "raft/types.h"

namespace cmq::cluster {
namespace {

constexpr int64_t kSweepMs = 100;
constexpr int kHintEverySweeps = 5;  // leader hints every 500 ms

// "host:port" or "[v6]:port".
bool ParseAddress(const std::string& text, transport::PeerAddress& out) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size()) return false;
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned long port = 0;
  try {
    size_t used = 0;
    port = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) return false;
  } catch (const std::exception&) {
    return false;
  }
  if (port == 0 || port > 65535 || host.empty()) return false;
  out.host = std::move(host);
  out.port = static_cast<uint16_t>(port);
  return true;
}

std::string WithId(uint64_t id, std::string_view bytes) {
  std::string out;
  out.reserve(8 + bytes.size());
  PutFixed64(out, id);
  out.append(bytes);
  return out;
}

}  // namespace

PeerNetwork::PeerNetwork(PeerNetworkOptions options)
    : options_(std::move(options)),
      chunks_(options_.max_chunked_message_bytes),
      timer_work_(timer_ctx_.get_executor()),
      sweep_timer_(timer_ctx_) {}

Result<std::unique_ptr<PeerNetwork>> PeerNetwork::Start(PeerNetworkOptions options) {
  std::unique_ptr<PeerNetwork> net(new PeerNetwork(std::move(options)));
  PeerNetwork* self = net.get();
  auto transport = transport::Transport::Start(
      net->options_.transport, [self](transport::Frame f) { self->OnFrame(std::move(f)); },
      [self](uint64_t peer) { self->OnPeerLost(peer); });
  if (!transport.ok()) return transport.status();
  net->transport_ = std::move(transport).value();
  net->timer_thread_ = std::thread([self] {
    SetThreadName("peer-timers");
    self->timer_ctx_.run();
  });
  boost::asio::post(net->timer_ctx_, [self] { self->OnSweep(); });
  return net;
}

PeerNetwork::~PeerNetwork() {
  Stop();
}

void PeerNetwork::Stop() {
  if (stopped_.exchange(true)) return;
  if (transport_) transport_->Stop();  // no frame handler runs after this
  boost::asio::post(timer_ctx_, [this] { sweep_timer_.cancel(); });
  timer_work_.reset();
  timer_ctx_.stop();
  if (timer_thread_.joinable()) timer_thread_.join();
  std::unordered_map<uint64_t, Pending> pending;
  {
    std::lock_guard lock(mu_);
    pending.swap(pending_);
  }
  for (auto& [id, p] : pending) {
    p.done(Status(ErrorCode::kUnavailable, "server is shutting down; retry"), true);
  }
}

void PeerNetwork::Attach(Node* node, uint32_t group) {
  CMQ_ASSERT(group >= 1 && group <= kMaxGroups, "group id out of range");
  node->SetRaftSend([this, group](uint64_t to, std::string message) {
    return SendRaft(to, group, std::move(message));
  });
  node->SetStreamSend([this, group](uint64_t to, bool ack, std::string payload) {
    return transport_->Send(
        to, ack ? transport::FrameKind::kRetainedAck : transport::FrameKind::kRetainedChunk, group,
        std::move(payload));
  });
  node->SetMembershipListener([this, group](const raft::ConfState& members,
                                            const std::map<uint64_t, std::string>& addresses) {
    OnMembership(group, members, addresses);
  });
  nodes_[group].store(node, std::memory_order_release);
}

Node* PeerNetwork::NodeOf(uint32_t group) const {
  if (group == 0 || group > kMaxGroups) return nullptr;
  return nodes_[group].load(std::memory_order_acquire);
}

// A node added at run time is a transport peer while any group has it as a member.
void PeerNetwork::OnMembership(uint32_t group, const raft::ConfState& members,
                               const std::map<uint64_t, std::string>& addresses) {
  std::lock_guard lock(membership_mu_);
  std::set<uint64_t>& ids = group_members_[group];
  ids = members.voters;
  ids.insert(members.learners.begin(), members.learners.end());
  for (const auto& [id, address] : addresses) member_addresses_[id] = address;
  std::set<uint64_t> wanted;
  for (const auto& [g, member_ids] : group_members_)
    wanted.insert(member_ids.begin(), member_ids.end());
  for (uint64_t id : wanted) {
    if (id == options_.transport.node_id || options_.transport.peers.count(id) != 0) continue;
    auto address = member_addresses_.find(id);
    if (address == member_addresses_.end()) {
      spdlog::warn("group member {} has no known address", id);
      continue;
    }
    auto known = dynamic_peers_.find(id);
    if (known != dynamic_peers_.end() && known->second == address->second) continue;
    transport::PeerAddress parsed;
    if (!ParseAddress(address->second, parsed)) {
      spdlog::error("group member {} has a malformed address '{}'", id, address->second);
      continue;
    }
    spdlog::info("node {} joins the peers at {}", id, address->second);
    transport_->AddPeer(id, parsed);
    dynamic_peers_[id] = address->second;
  }
  for (auto it = dynamic_peers_.begin(); it != dynamic_peers_.end();) {
    if (wanted.count(it->first) != 0) {
      ++it;
      continue;
    }
    spdlog::info("node {} leaves the peers", it->first);
    transport_->RemovePeer(it->first);
    it = dynamic_peers_.erase(it);
  }
}

// Check-back frames: payload = [queue name length-prefixed][msg id u64][producer
// length-prefixed].
void PeerNetwork::SetCheckBackHandler(CheckBackHandler handler) {
  std::lock_guard lock(mu_);
  check_back_ = std::move(handler);
}

void PeerNetwork::SendCheckBackToNonMembers(uint32_t group, const mq::TransactionCheck& check) {
  std::string payload;
  PutLengthPrefixed(payload, check.queue_name);
  PutFixed64(payload, check.msg_id);
  PutLengthPrefixed(payload, check.producer);
  std::set<uint64_t> members;
  {
    std::lock_guard lock(membership_mu_);
    if (auto it = group_members_.find(group); it != group_members_.end()) members = it->second;
  }
  for (const auto& [peer, stats] : transport_->stats()) {
    if (stats.connected && members.count(peer) == 0) {
      transport_->Send(peer, transport::FrameKind::kCheckBack, group, payload);
    }
  }
}

void PeerNetwork::OnCheckBack(const transport::Frame& frame) {
  Reader r(frame.payload);
  std::string_view queue, producer;
  mq::TransactionCheck check;
  if (!r.LengthPrefixed(queue) || !r.Fixed64(check.msg_id) || !r.LengthPrefixed(producer) ||
      !r.empty()) {
    spdlog::warn("dropping a malformed check-back from node {}", frame.from);
    return;
  }
  check.queue_name.assign(queue);
  check.producer.assign(producer);
  CheckBackHandler handler;
  {
    std::lock_guard lock(mu_);
    handler = check_back_;
  }
  if (handler) handler(check);
}

bool PeerNetwork::SendRaft(uint64_t to, uint32_t group, std::string message) {
  if (message.size() <= kRaftChunkBytes) {
    return transport_->Send(to, transport::FrameKind::kRaft, group, std::move(message));
  }
  if (stopped_ || !transport_->IsConnected(to)) return false;
  uint64_t transfer;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, out] : outgoing_) {
      // Interleaved with this one, a second transfer would abort both at the receiver:
      // a snapshot resent while the first copy was still on its way never arrived.
      if (out.to == to) return false;
    }
    transfer = next_transfer_id_++;
    outgoing_[transfer] =
        Outgoing{to, group, std::make_shared<const std::string>(std::move(message)), 0};
  }
  boost::asio::post(timer_ctx_, [this, transfer] { PumpChunks(transfer); });
  return true;
}

// Feeds the transport while the peer's queue has room for another chunk; then comes back
// when it may have drained.
void PeerNetwork::PumpChunks(uint64_t transfer) {
  if (stopped_) return;
  Outgoing out;
  {
    std::lock_guard lock(mu_);
    auto it = outgoing_.find(transfer);
    if (it == outgoing_.end()) return;  // abandoned: the connection broke
    out = it->second;
  }
  const uint64_t room = options_.transport.max_queued_bytes_per_peer / 2;
  const uint64_t total = out.data->size();
  while (out.offset < total) {
    auto stats = transport_->stats();
    auto peer = stats.find(out.to);
    if (peer == stats.end() || !peer->second.connected) break;  // OnPeerLost abandons it
    if (peer->second.queued_bytes + kRaftChunkBytes > room) {
      std::lock_guard lock(mu_);
      if (auto it = outgoing_.find(transfer); it != outgoing_.end()) it->second.offset = out.offset;
      After(5, [this, transfer] { PumpChunks(transfer); });
      return;
    }
    const uint64_t n = std::min(kRaftChunkBytes, total - out.offset);
    std::string chunk =
        EncodeChunk(transfer, out.offset, total, std::string_view(*out.data).substr(out.offset, n));
    if (!transport_->Send(out.to, transport::FrameKind::kRaftChunk, out.group, std::move(chunk))) {
      break;  // refused: the receiver will never complete it; Raft sends again later
    }
    out.offset += n;
  }
  std::lock_guard lock(mu_);
  outgoing_.erase(transfer);
}

void PeerNetwork::OnChunk(const transport::Frame& frame) {
  std::optional<std::string> message = chunks_.Add(frame.from, frame.payload);
  if (!message) return;
  if (Node* node = NodeOf(frame.group)) node->StepRaft(*message);
}

uint64_t PeerNetwork::LeaderOf(uint32_t group) const {
  const Node* node = NodeOf(group);
  uint64_t leader = node != nullptr ? node->leader_id() : 0;
  uint64_t term = node != nullptr ? node->leader_term() : 0;
  std::lock_guard lock(hints_mu_);
  auto hint = hints_.find(group);
  if (hint != hints_.end() && (leader == 0 || hint->second.term > term)) {
    leader = hint->second.leader;
  }
  return leader;
}

// payload = [varint n] n x [varint group][varint term][varint leader]
void PeerNetwork::SendLeaderHints() {
  std::string payload;
  uint64_t n = 0;
  std::string entries;
  for (uint32_t g = 1; g <= kMaxGroups; ++g) {
    const Node* node = NodeOf(g);
    if (node == nullptr || node->leader_id() == 0) continue;
    PutVarint64(entries, g);
    PutVarint64(entries, node->leader_term());
    PutVarint64(entries, node->leader_id());
    ++n;
  }
  if (n == 0) return;
  PutVarint64(payload, n);
  payload += entries;
  for (const auto& [peer, stats] : transport_->stats()) {
    if (stats.connected) transport_->Send(peer, transport::FrameKind::kLeaderHint, 0, payload);
  }
}

void PeerNetwork::OnLeaderHints(const transport::Frame& frame) {
  Reader r(frame.payload);
  uint64_t n = 0;
  if (!r.Varint64(n) || n > kMaxGroups) return;
  std::lock_guard lock(hints_mu_);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t group = 0, term = 0, leader = 0;
    if (!r.Varint64(group) || !r.Varint64(term) || !r.Varint64(leader)) return;
    if (group == 0 || group > kMaxGroups || leader == 0) continue;
    Hint& h = hints_[static_cast<uint32_t>(group)];
    if (term >= h.term) h = Hint{term, leader};
  }
}

void PeerNetwork::SetForwardHandler(ForwardHandler handler) {
  std::lock_guard lock(mu_);
  handler_ = std::move(handler);
}

void PeerNetwork::Forward(uint64_t to, uint32_t group, std::string request, ForwardDone done,
                          AbandonFlag abandoned) {
  if (stopped_)
    return done(Status(ErrorCode::kUnavailable, "server is shutting down; retry"), false);
  // A request queued for a peer that is not connected would wait for a reconnect that may
  // never come (the leader died): refuse it now, so the caller waits for a new leader.
  if (!transport_->IsConnected(to)) {
    return done(Status(ErrorCode::kUnavailable,
                       "node " + std::to_string(to) + " (the leader) is not connected; retry"),
                false);
  }
  uint64_t id;
  {
    std::lock_guard lock(mu_);
    id = next_request_id_++;
    pending_[id] = Pending{
        to, group,
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.forward_timeout_ms),
        std::move(done), std::move(abandoned)};
  }
  if (!transport_->Send(to, transport::FrameKind::kForwardRequest, 0, WithId(id, request))) {
    ForwardDone failed;
    {
      std::lock_guard lock(mu_);
      auto it = pending_.find(id);
      if (it == pending_.end()) return;
      failed = std::move(it->second.done);
      pending_.erase(it);
    }
    failed(Status(ErrorCode::kUnavailable,
                  "cannot reach node " + std::to_string(to) + " (the leader); retry"),
           false);
  }
}

size_t PeerNetwork::incoming_forwards() const {
  std::lock_guard lock(incoming_mu_);
  return incoming_.size();
}

void PeerNetwork::After(int64_t ms, std::function<void()> fn) {
  if (stopped_) return;
  auto timer = std::make_shared<boost::asio::steady_timer>(timer_ctx_);
  timer->expires_after(std::chrono::milliseconds(ms));
  timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (!ec) fn();
  });
}

void PeerNetwork::OnFrame(transport::Frame frame) {
  switch (frame.kind) {
    case transport::FrameKind::kRaft: {
      if (Node* node = NodeOf(frame.group)) node->StepRaft(frame.payload);
      return;
    }
    case transport::FrameKind::kRaftChunk:
      OnChunk(frame);
      return;
    case transport::FrameKind::kLeaderHint:
      OnLeaderHints(frame);
      return;
    case transport::FrameKind::kCheckBack:
      OnCheckBack(frame);
      return;
    case transport::FrameKind::kRetainedChunk:
    case transport::FrameKind::kRetainedAck:
      if (Node* node = NodeOf(frame.group)) {
        node->OnRetainedFrame(frame.from, frame.kind == transport::FrameKind::kRetainedAck,
                              std::move(frame.payload));
      }
      return;
    case transport::FrameKind::kForwardRequest: {
      if (frame.payload.size() < 8) return;
      const uint64_t id = DecodeFixed64(frame.payload.data());
      ForwardHandler handler;
      {
        std::lock_guard lock(mu_);
        handler = handler_;
      }
      if (!handler) return;  // not serving yet: the sender times out and retries
      const IncomingKey key{frame.from, id};
      auto abandoned = std::make_shared<std::atomic<bool>>(false);
      {
        std::lock_guard lock(incoming_mu_);
        incoming_.emplace(key, abandoned);
      }
      handler(
          frame.payload.substr(8),
          [this, key](std::string reply) {
            {
              std::lock_guard lock(incoming_mu_);
              incoming_.erase(key);
            }
            transport_->Send(key.from, transport::FrameKind::kForwardReply, 0,
                             WithId(key.id, reply));
          },
          std::move(abandoned));
      return;
    }
    case transport::FrameKind::kForwardCancel: {
      if (frame.payload.size() != 8) return;
      std::lock_guard lock(incoming_mu_);
      auto it = incoming_.find(IncomingKey{frame.from, DecodeFixed64(frame.payload.data())});
      if (it != incoming_.end()) it->second->store(true, std::memory_order_release);
      return;
    }
    case transport::FrameKind::kForwardReply: {
      if (frame.payload.size() < 8) return;
      const uint64_t id = DecodeFixed64(frame.payload.data());
      ForwardDone done;
      {
        std::lock_guard lock(mu_);
        auto it = pending_.find(id);
        if (it == pending_.end() || it->second.to != frame.from) return;  // expired already
        done = std::move(it->second.done);
        pending_.erase(it);
      }
      done(frame.payload.substr(8), true);
      return;
    }
  }
}

void PeerNetwork::OnPeerLost(uint64_t peer) {
  for (uint32_t g = 1; g <= kMaxGroups; ++g) {
    if (Node* node = NodeOf(g)) node->ReportUnreachable(peer);
  }
  chunks_.Forget(peer);  // io thread, like OnChunk
  {
    // What that peer forwarded here: it is telling their clients to retry (below, on its
    // side), so none of them is still waiting for these answers.
    std::lock_guard lock(incoming_mu_);
    for (auto it = incoming_.lower_bound(IncomingKey{peer, 0});
         it != incoming_.end() && it->first.from == peer; ++it) {
      it->second->store(true, std::memory_order_release);
    }
  }
  std::vector<ForwardDone> failed;
  {
    std::lock_guard lock(mu_);
    for (auto it = outgoing_.begin(); it != outgoing_.end();) {
      it = it->second.to == peer ? outgoing_.erase(it) : std::next(it);
    }
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.to == peer) {
        failed.push_back(std::move(it->second.done));
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& done : failed) {
    done(Status(ErrorCode::kUnavailable, "connection to node " + std::to_string(peer) +
                                             " (the leader) broke; the request may or may not "
                                             "have been carried out; retry"),
         true);
  }
}

// Expires forwarded requests: past their deadline, or sent to a node that is no longer
// the leader (it was paused or cut off and the others elected another: its answer, if any
// comes, is no better than telling the client to retry now).
void PeerNetwork::OnSweep() {
  if (stopped_) return;
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::pair<uint64_t, ForwardDone>> expired;
  std::vector<std::pair<uint64_t, uint64_t>> cancels;  // (to, request id)
  {
    std::lock_guard lock(mu_);
    for (auto it = pending_.begin(); it != pending_.end();) {
      Pending& p = it->second;
      const uint64_t leader = p.group != 0 ? LeaderOf(p.group) : 0;
      if (p.deadline <= now || (leader != 0 && p.to != leader)) {
        expired.emplace_back(p.to, std::move(p.done));
        it = pending_.erase(it);
        continue;
      }
      if (p.abandoned && !p.cancel_sent && p.abandoned->load(std::memory_order_acquire)) {
        p.cancel_sent = true;
        cancels.emplace_back(p.to, it->first);
      }
      ++it;
    }
  }
  {
    // A request whose handler let go of its flag has no receive waiting on it (setting the
    // flag would change nothing), and one whose handler dropped it unanswered (a request
    // it could not decode) would otherwise stay here for good.
    std::lock_guard lock(incoming_mu_);
    std::erase_if(incoming_, [](const auto& entry) { return entry.second.use_count() == 1; });
  }
  for (const auto& [to, id] : cancels) {
    std::string payload;
    PutFixed64(payload, id);
    transport_->Send(to, transport::FrameKind::kForwardCancel, 0, std::move(payload));
  }
  for (auto& [to, done] : expired) {
    done(Status(ErrorCode::kUnavailable,
                "node " + std::to_string(to) +
                    " (the leader) did not answer in time or lost the leadership; the request "
                    "may or may not have been carried out; retry"),
         true);
  }
  if (++sweeps_since_hints_ >= kHintEverySweeps) {
    sweeps_since_hints_ = 0;
    SendLeaderHints();
  }
  sweep_timer_.expires_after(std::chrono::milliseconds(kSweepMs));
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) OnSweep();
  });
}

}  // namespace cmq::cluster
