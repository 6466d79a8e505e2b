#include "cluster/node.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cctype>
#include <chrono>

#include "cluster/group_snapshot.h"
#include "cluster/node_internal.h"
#include "common/assert.h"
#include "common/thread_name.h"
#include "mq/entry.h"
#include "mq/limits.h"
#include "raft/codec.h"

namespace cmq::cluster {
namespace {

using internal::ErrorResult;
using internal::IsAbandoned;
using internal::QueueKey;
using internal::Unavailable;

// The names ClusterStatus shows (docs/http-api.md).
std::string RoleText(raft::Role role) {
  switch (role) {
    case raft::Role::kLeader:
      return "leader";
    case raft::Role::kCandidate:
      return "candidate";
    case raft::Role::kPreCandidate:
      return "pre-candidate";
    case raft::Role::kFollower:
      break;
  }
  return "follower";
}

std::string ProgressText(raft::ProgressState state) {
  switch (state) {
    case raft::ProgressState::kReplicate:
      return "replicate";
    case raft::ProgressState::kSnapshot:
      return "snapshot";
    case raft::ProgressState::kProbe:
      break;
  }
  return "probe";
}

CommandResult ShuttingDown() {
  CommandResult r;
  r.apply.status = Unavailable("server is shutting down");
  return r;
}

// A new group starts from a snapshot at index 1 holding the empty state and the
// configuration of all its voters (the Raft core's bootstrap rule, docs/raft.md). Every
// node of a new cluster writes the same one, so they agree from the first election on.
Status Bootstrap(RaftStorage& storage, const NodeOptions& options) {
  mq::StateMachine empty(options.group_id, options.group_count);
  raft::Snapshot snapshot;
  snapshot.meta.index = 1;
  snapshot.meta.term = 1;
  snapshot.meta.conf_state.voters = {options.node_id};
  for (uint64_t id : options.voters) snapshot.meta.conf_state.voters.insert(id);
  snapshot.data = raft::MakePayload(EncodeLocalSnapshot(2, {}, empty.Snapshot()));
  CMQ_RETURN_IF_ERROR(storage.ApplySnapshot(snapshot));
  return storage.SetHardState(raft::HardState{1, raft::kNoNode, 1});
}

}  // namespace

Result<std::unique_ptr<Node>> Node::Open(storage::FileSystem* fs, const Clock* clock,
                                         NodeOptions options) {
  CMQ_RETURN_IF_ERROR(fs->CreateDir(options.data_dir));
  RaftStorageOptions storage_options;
  storage_options.dir = options.data_dir + "/group-" + std::to_string(options.group_id);
  storage_options.segment_bytes = options.log_segment_bytes;
  auto storage = RaftStorage::Open(fs, storage_options);
  if (!storage.ok()) return storage.status();
  std::unique_ptr<Node> node(new Node(fs, clock, std::move(options), std::move(storage).value()));
  CMQ_RETURN_IF_ERROR(node->Recover());
  return node;
}

Node::Node(storage::FileSystem* fs, const Clock* clock, NodeOptions options,
           std::unique_ptr<RaftStorage> storage)
    : fs_(fs),
      clock_(clock),
      options_(std::move(options)),
      storage_(std::move(storage)),
      cache_(options_.payload_cache_bytes),
      push_timer_(strand_ctx_),
      poll_timer_(strand_ctx_),
      housekeeping_timer_(strand_ctx_),
      raft_timer_(strand_ctx_) {}

Node::~Node() {
  Stop();
}

// The state: the newest snapshot, then every committed entry after it, applied in order
// through the same Ready loop as at run time (but synchronously, before any thread starts).
// Commands that failed the first time fail the same way again, deterministically.
Status Node::Recover() {
  auto snapshot = storage_->GetSnapshot();
  if (!snapshot.ok()) return snapshot.status();
  const bool waiting_to_join = snapshot->empty() && options_.join && storage_->LastIndex() == 0;
  if (snapshot->empty() && !waiting_to_join) {
    CMQ_RETURN_IF_ERROR(Bootstrap(*storage_, options_));
    snapshot = storage_->GetSnapshot();
    if (!snapshot.ok()) return snapshot.status();
  }
  // A joining node starts empty and without members: it gets the group's state from the
  // leader's snapshot once the leader has added it.
  auto group_snapshot =
      waiting_to_join
          ? Result<GroupSnapshot>(GroupSnapshot{
                1, {}, mq::StateMachine(options_.group_id, options_.group_count).Snapshot(), {}})
          : DecodeGroupSnapshot(snapshot->data ? std::string_view(*snapshot->data) : "");
  if (!group_snapshot.ok()) return group_snapshot.status();
  if (waiting_to_join) {
    spdlog::info("group {}: node {} waits to be added to the group (--join)", options_.group_id,
                 options_.node_id);
  }
  addresses_ = group_snapshot->addresses;
  if (!group_snapshot->retained.empty() &&
      storage_->LogFirstIndex() > group_snapshot->retained.front().index) {
    // Installed from a leader, and the process died before the bodies it came with were
    // in the log: write them again (the snapshot file keeps them for this).
    spdlog::warn("group {}: rewriting {} log entries that came with the snapshot at {}",
                 options_.group_id, group_snapshot->retained.size(), snapshot->meta.index);
    CMQ_RETURN_IF_ERROR(storage_->RestoreRetained(group_snapshot->retained));
  }
  if (group_snapshot->staged_first != 0 &&
      storage_->LogFirstIndex() > group_snapshot->staged_first) {
    // The same for a snapshot whose entries were streamed before it: the staging log
    // keeps them until the log has them.
    spdlog::warn("group {}: rewriting the log entries from {} staged for the snapshot at {}",
                 options_.group_id, group_snapshot->staged_first, snapshot->meta.index);
    CMQ_RETURN_IF_ERROR(storage_->RestoreRetainedFromStaging(group_snapshot->staged_first));
  }
  // Whatever else is staged stays: the leader's stream resumes where it ends (a restart in
  // the middle of a long stream keeps what came), and housekeeping empties it once no
  // chunk came for a while (ExpireStaging).
  auto restored = mq::StateMachine::Restore(group_snapshot->mq_state, options_.group_count);
  if (!restored.ok()) return restored.status();
  state_ = std::move(restored).value();
  applied_index_ = snapshot->meta.index;
  applied_term_ = snapshot->meta.term;
  stats_.snapshot_index = snapshot->meta.index;

  raft::Config config;
  config.id = options_.node_id;
  config.seed = std::random_device{}();
  config.applied = applied_index_;
  config.max_uncommitted_bytes = options_.raft_max_uncommitted_bytes;
  config.election_tick = options_.election_tick;
  config.heartbeat_tick = 1;
  auto raw = raft::RawNode::Create(config, storage_.get());
  if (!raw.ok()) return raw.status();
  raft_ = std::move(raw).value();
  durable_term_ = raft_->hard_state().term;
  if (raft_->conf_state().voters.size() == 1 &&
      raft_->conf_state().voters.count(options_.node_id) == 1) {
    raft_->Campaign();  // a group of one elects itself at once
  }
  uint64_t before = stats_.commands_applied;
  while (raft_->HasReady()) {
    raft::Ready rd = raft_->GetReady();
    if (rd.soft_state) OnSoftState(*rd.soft_state);
    CMQ_RETURN_IF_ERROR(PersistReady(rd));
    if (rd.hard_state) durable_term_ = rd.hard_state->term;
    ApplyCommitted(rd.committed_entries);
    raft_->Advance(rd);
  }
  conf_changed_ = false;  // the listener is told at Start
  recovered_entries_ = applied_index_ - snapshot->meta.index;
  spdlog::debug("recovered {} commands", stats_.commands_applied - before);
  stats_.log_first_index = storage_->LogFirstIndex();
  return Status::Ok();
}

void Node::Start() {
  CMQ_ASSERT(!started_, "Node started twice");
  started_ = true;
  strand_work_ = std::make_unique<WorkGuard>(strand_ctx_.get_executor());
  disk_work_ = std::make_unique<WorkGuard>(disk_ctx_.get_executor());
  snapshot_work_ = std::make_unique<WorkGuard>(snapshot_ctx_.get_executor());
  push_work_ = std::make_unique<WorkGuard>(push_ctx_.get_executor());
  push_client_ = std::make_unique<HttpPushClient>(push_ctx_);
  // Named g<group>-<role>, to tell them apart in top -H and perf.
  const std::string prefix = "g" + std::to_string(options_.group_id) + "-";
  auto run = [prefix](boost::asio::io_context& ctx, const char* role) {
    return std::thread([&ctx, name = prefix + role] {
      SetThreadName(name);
      ctx.run();
    });
  };
  disk_thread_ = run(disk_ctx_, "disk");
  snapshot_thread_ = run(snapshot_ctx_, "snapshot");
  push_thread_ = run(push_ctx_, "push");
  strand_thread_ = run(strand_ctx_, "raft");
  boost::asio::post(strand_ctx_, [this] {
    if (membership_) membership_(raft_->conf_state(), addresses_);
    OnPollTick();
    OnHousekeeping();
    OnPushTick();
    OnRaftTick();
    Drive();
  });
}

void Node::Stop() {
  if (!started_ || stop_requested_.exchange(true)) return;
  boost::asio::post(strand_ctx_, [this] {
    stopped_ = true;
    poll_timer_.cancel();
    housekeeping_timer_.cancel();
    push_timer_.cancel();
    raft_timer_.cancel();
    push_work_.reset();
    push_ctx_.stop();  // abandons pushes in flight: their messages stay pending
    Status st = Unavailable("server is shutting down");
    for (Proposal& p : pending_) Finish(p, ErrorResult(st));
    pending_.clear();
    for (Proposal& p : waiters_.TakeAll()) Finish(p, ErrorResult(st));
    snapshot_work_.reset();  // MaybeSnapshot() checks stopped_: no new snapshot job
  });
  snapshot_thread_.join();  // a snapshot being written completes; its compaction is skipped
  push_thread_.join();
  boost::asio::post(strand_ctx_, [this] {
    disk_work_.reset();  // no disk job can be posted after this: Drive() checks stopped_
  });
  disk_thread_.join();  // the in-flight write (if any) completes and posts OnPersisted
  boost::asio::post(strand_ctx_, [this] {
    FailAll(Unavailable("server is shutting down"));
    strand_work_.reset();
  });
  strand_thread_.join();
}

void Node::Submit(const mq::Command& cmd, CommandCallback done) {
  CMQ_ASSERT(cmd.type != mq::CommandType::kReceiveMessages, "receives go through Receive()");
  if (stop_requested_) return done(ShuttingDown());
  Proposal p;
  mq::EncodeCommand(cmd, p.encoded);
  p.done = std::move(done);
  if (cmd.type == mq::CommandType::kSendMessages ||
      cmd.type == mq::CommandType::kSendHalfMessages) {
    p.is_send = true;
    p.queue_key = QueueKey(cmd.queue_name);
  }
  boost::asio::post(strand_ctx_, [this, p = std::move(p)]() mutable { Enqueue(std::move(p)); });
}

void Node::Receive(const mq::Command& cmd, std::optional<int64_t> wait_seconds,
                   CommandCallback done, AbandonFlag abandoned) {
  CMQ_ASSERT(cmd.type == mq::CommandType::kReceiveMessages, "Receive() takes receives only");
  if (stop_requested_) return done(ShuttingDown());
  Proposal p;
  p.receive = cmd;
  p.done = std::move(done);
  p.abandoned = std::move(abandoned);
  p.is_receive = true;
  p.queue_key = QueueKey(cmd.queue_name);
  boost::asio::post(strand_ctx_, [this, p = std::move(p), wait_seconds]() mutable {
    int64_t wait_s = 0;
    if (wait_seconds) {
      wait_s = *wait_seconds;
    } else if (auto attrs = state_->GetAttributes(p.queue_key)) {
      wait_s = attrs->polling_wait_seconds;
    }
    p.deadline_ms = clock_->NowMs() + wait_s * 1000;
    StartReceive(std::move(p));
  });
}

void Node::GetQueue(std::string queue_name, std::function<void(Result<mq::QueueInfo>)> done) {
  boost::asio::post(strand_ctx_, [this, name = std::move(queue_name), done = std::move(done)] {
    if (Status st = CheckCanRead(); !st.ok()) return done(st);
    done(state_->GetQueue(name, clock_->NowMs()));
  });
}

void Node::ListQueues(std::string search_word, uint64_t offset, uint64_t limit,
                      std::function<void(mq::QueueListing)> done) {
  boost::asio::post(strand_ctx_,
                    [this, search = std::move(search_word), offset, limit, done = std::move(done)] {
                      done(state_->ListQueues(search, offset, limit));
                    });
}

void Node::GetTopic(std::string topic_name, std::function<void(Result<mq::TopicInfo>)> done) {
  boost::asio::post(strand_ctx_, [this, name = std::move(topic_name), done = std::move(done)] {
    if (Status st = CheckCanRead(); !st.ok()) return done(st);
    done(state_->GetTopic(name, clock_->NowMs()));
  });
}

void Node::ListTopics(std::string search_word, uint64_t offset, uint64_t limit,
                      std::function<void(mq::TopicListing)> done) {
  boost::asio::post(strand_ctx_,
                    [this, search = std::move(search_word), offset, limit, done = std::move(done)] {
                      done(state_->ListTopics(search, offset, limit));
                    });
}

void Node::GetSubscription(std::string topic_name, std::string subscription_name,
                           std::function<void(Result<mq::SubscriptionInfo>)> done) {
  boost::asio::post(strand_ctx_, [this, topic = std::move(topic_name),
                                  name = std::move(subscription_name), done = std::move(done)] {
    if (Status st = CheckCanRead(); !st.ok()) return done(st);
    done(state_->GetSubscription(topic, name, clock_->NowMs()));
  });
}

void Node::ListSubscriptions(std::string topic_name, std::string search_word, uint64_t offset,
                             uint64_t limit,
                             std::function<void(Result<mq::SubscriptionListing>)> done) {
  boost::asio::post(strand_ctx_,
                    [this, topic = std::move(topic_name), search = std::move(search_word), offset,
                     limit, done = std::move(done)] {
                      if (Status st = CheckCanRead(); !st.ok()) return done(st);
                      done(state_->ListSubscriptions(topic, search, offset, limit));
                    });
}

// Pure reads are served by the leader from its applied state, once its lease confirms it
// still leads (DESIGN.md: a deposed leader must not answer with a stale view).
Status Node::CheckCanRead() const {
  if (!is_leader_ || !raft_->CanServeReadLocally()) {
    return Status(ErrorCode::kUnavailable,
                  "this node cannot serve reads now (not the leader); retry");
  }
  return Status::Ok();
}

void Node::StepRaft(std::string_view message) {
  auto m = raft::DecodeMessage(message);
  if (!m.ok()) {
    spdlog::warn("group {}: dropping a malformed raft message: {}", options_.group_id,
                 m.status().ToString());
    return;
  }
  boost::asio::post(strand_ctx_, [this, m = std::move(m).value()] {
    if (stopped_) return;
    if (m.to != options_.node_id) return;  // misrouted: never step another node's message
    if (m.type == raft::MessageType::kSnap && !StagedSnapshotIsComplete(m)) return;
    Status st = raft_->Step(m);
    if (!st.ok()) spdlog::debug("raft step: {}", st.ToString());
    if (!failed_.ok()) FollowLeaderAfterFailure();
    Drive();
  });
}

void Node::TransferLeadership(uint64_t to, std::function<void(Status)> done) {
  boost::asio::post(strand_ctx_, [this, to, done = std::move(done)] {
    if (stopped_) return done(Unavailable("server is shutting down"));
    if (!is_leader_) return done(Unavailable("this node is not the leader; retry"));
    if (raft_->conf_state().voters.count(to) == 0) {
      return done(Status(ErrorCode::kInvalidArgument,
                         "node " + std::to_string(to) + " is not a voter of the group"));
    }
    Status st = raft_->TransferLeadership(to);
    Drive();
    done(st);
  });
}

void Node::ChangeMembership(raft::ConfChange change, std::function<void(Status)> done) {
  boost::asio::post(strand_ctx_, [this, change = std::move(change), done = std::move(done)] {
    if (stopped_) return done(Unavailable("server is shutting down"));
    if (!is_leader_) return done(Unavailable("this node is not the leader; retry"));
    if (change.type == raft::ConfChangeType::kRemoveNode && change.node == options_.node_id) {
      // A leader does not remove itself: it hands over first, and the client retries the
      // removal against the new leader.
      uint64_t to = 0;
      for (uint64_t id : raft_->conf_state().voters) {
        if (id != options_.node_id) to = id;
      }
      if (to == 0) {
        return done(Status(ErrorCode::kInvalidArgument, "cannot remove the last voter"));
      }
      Status st = raft_->TransferLeadership(to);
      Drive();
      if (!st.ok()) return done(st);
      return done(Unavailable("leadership is moving to node " + std::to_string(to) +
                              " before this node is removed; retry"));
    }
    auto index = raft_->ProposeConfChange(change);
    if (!index.ok()) {
      if (index.status().code() != ErrorCode::kUnavailable) return done(index.status());
      return done(Unavailable(index.status().message() + "; retry"));
    }
    conf_waiters_[*index] = ConfWaiter{raft_->hard_state().term, done};
    Drive();
  });
}

void Node::ReportUnreachable(uint64_t peer) {
  boost::asio::post(strand_ctx_, [this, peer] {
    if (!stopped_) raft_->ReportUnreachable(peer);
  });
}

NodeStats Node::stats() {
  std::promise<NodeStats> promise;
  auto future = promise.get_future();
  GetGroupStatus([&promise](Result<NodeStats> s) { promise.set_value(std::move(s).value()); });
  return future.get();
}

void Node::GetGroupStatus(std::function<void(Result<NodeStats>)> done) {
  boost::asio::post(strand_ctx_, [this, done = std::move(done)] {
    NodeStats s = stats_;
    raft::NodeStatus status = raft_->GetStatus();
    s.term = status.hard_state.term;
    s.commit_index = status.hard_state.commit;
    s.applied_index = applied_index_;
    s.last_index = status.last_index;
    s.leader_id = status.soft_state.lead;
    s.node_id = options_.node_id;
    s.group_id = options_.group_id;
    s.role = RoleText(status.soft_state.role);
    const RaftStorage::StagedRange staged = storage_->Staged();
    s.staged_entries = staged.next > staged.first ? staged.next - staged.first : 0;
    auto add = [&](uint64_t id, bool learner) {
      NodeStats::Peer p;
      p.id = id;
      p.learner = learner;
      if (auto it = status.progress.find(id); it != status.progress.end()) {
        p.match = it->second.match;
        p.next = it->second.next;
        p.state = ProgressText(it->second.state);
      }
      if (stream_ && stream_->to == id) {
        p.stream_first = stream_->run_first;
        p.stream_target = stream_->target;
        p.stream_staged_next = std::max(stream_->staged_next, stream_->run_first);
      }
      s.peers.push_back(p);
    };
    for (uint64_t id : status.conf_state.voters) add(id, false);
    for (uint64_t id : status.conf_state.learners) add(id, true);
    done(std::move(s));
  });
}

// A receive's messages are chosen by the leader from its applied state (docs/queue-model.md
// "Receives answered before their commit"); the kReceiveChosen that puts them in flight is
// proposed, and the client answered once it is in the log. A receive that finds nothing
// parks without touching the log, unless the queue has messages due that its applied state
// has not made visible yet: then a kReceiveChosen without messages brings the queue up to
// its time, and the receive chooses when that is applied.
void Node::StartReceive(Proposal p, bool after_advance) {
  int64_t now = clock_->NowMs();
  if (IsAbandoned(p)) {
    // Its client is gone: messages chosen now would stay hidden for the visibility timeout.
    ++stats_.receives_abandoned;
    Finish(p, ErrorResult(Status(ErrorCode::kNoMessage, "")));
    return;
  }
  if (!failed_.ok() || stopped_) {
    Finish(p, ErrorResult(failed_.ok() ? Unavailable("server is shutting down") : failed_));
    return;
  }
  if (!is_leader_) {
    Finish(p, ErrorResult(Status(ErrorCode::kUnavailable, "this node is not the leader; retry")));
    return;
  }
  if (!state_->QueueExists(p.queue_key)) {
    Finish(p, ErrorResult(Status(ErrorCode::kQueueNotExist, "")));
    return;
  }
  ResetReservationsIfTermChanged();
  if (ChoosesReceives(after_advance)) {
    auto reservation = state_->ReserveReceive(p.receive, now);
    if (reservation.ok()) return ProposeChosen(std::move(p), std::move(reservation).value());
    if (reservation.status().code() != ErrorCode::kNoMessage) {
      Finish(p, ErrorResult(reservation.status()));
      return;
    }
  }
  if (!after_advance && state_->HasVisibleMessage(p.queue_key, now)) {
    ProposeAdvance(std::move(p), now);
  } else if (now >= p.deadline_ms) {
    Finish(p, ErrorResult(Status(ErrorCode::kNoMessage, "")));
  } else {
    waiters_.Park(std::move(p));
  }
}

bool Node::ChoosesReceives(bool after_advance) const {
  if (!is_leader_ || !failed_.ok() || applied_term_ != raft_->hard_state().term) return false;
  // Right after the receive's own advance committed, the applied state is current. Else
  // the lease must hold (as for reads): a leader cut off from its group may not know yet
  // that another was elected, and its applied state may still show messages the new
  // leader has since delivered and deleted. Answering from it would deliver a deleted
  // message (the fault test, seed 43, found a partitioned leader doing so). Without the
  // lease, the receive goes through the log (an advance) and is chosen at that apply,
  // which a deposed leader never reaches.
  return after_advance || raft_->CanServeReadLocally();
}

void Node::ProposeChosen(Proposal p, mq::StateMachine::Reservation reservation) {
  CommandResult answer;
  answer.bodies = ReadBodies(reservation.messages);
  if (answer.bodies.size() != reservation.messages.size()) {
    state_->ReleaseReservation(reservation.command);
    Finish(p,
           ErrorResult(Status(ErrorCode::kIoError, "could not read message bodies from the log")));
    return;
  }
  answer.apply.messages = std::move(reservation.messages);
  p.encoded.clear();
  mq::EncodeCommand(reservation.command, p.encoded);
  p.chosen = std::make_unique<ChosenReceive>(
      ChosenReceive{std::move(reservation.command), std::move(answer)});
  Enqueue(std::move(p));  // proposed at once if the disk is free
  if (pending_.empty() || flush_posted_) return;
  // The disk is busy: the receive is proposed (and answered) without waiting for it, in one
  // entry with the others chosen in this strand turn (and whatever else is pending). The
  // entry is written with the next Ready, as it would have been.
  flush_posted_ = true;
  boost::asio::post(strand_ctx_, [this] {
    flush_posted_ = false;
    if (stopped_ || !failed_.ok() || !is_leader_) return;
    ResetReservationsIfTermChanged();
    ProposePending();
    Drive();  // writes it now if the disk became free meanwhile
  });
}

void Node::ProposeAdvance(Proposal p, int64_t now_ms) {
  mq::Command advance;
  advance.type = mq::CommandType::kReceiveChosen;
  advance.queue_name = p.receive.queue_name;
  advance.received_at_ms = now_ms;
  p.encoded.clear();
  mq::EncodeCommand(advance, p.encoded);
  ++stats_.receive_advances;
  Enqueue(std::move(p));
}

void Node::ResetReservationsIfTermChanged() {
  const uint64_t term = raft_->hard_state().term;
  if (term == reservation_term_) return;
  reservation_term_ = term;
  state_->ReleaseReservations();
  // Chosen under the old term and not proposed yet: they choose again (their messages may
  // have gone to another receive since).
  std::vector<Proposal> again;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->chosen) {
      it->chosen.reset();
      again.push_back(std::move(*it));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  for (Proposal& p : again) StartReceive(std::move(p));
}

void Node::AnswerAtProposal(Proposal& p) {
  if (!p.chosen) return;
  ++stats_.receives_answered_at_proposal;
  auto done = std::move(p.done);
  p.done = nullptr;
  CommandResult answer = std::move(p.chosen->answer);
  p.chosen.reset();
  if (done) done(std::move(answer));
}

void Node::WakeWaiters(const std::string& queue_key, size_t max_to_wake) {
  // An abandoned waiter does not use up a wake-up: the message it would have had goes to
  // the next one. Each round wakes at least one live waiter or empties the queue's list,
  // and a woken waiter that parks again is counted, so this ends.
  size_t left = max_to_wake;
  while (left > 0) {
    std::vector<Proposal> taken = waiters_.Take(queue_key, left);
    if (taken.empty()) return;
    for (Proposal& p : taken) {
      if (!IsAbandoned(p)) --left;
      StartReceive(std::move(p));
    }
  }
}

void Node::OnPollTick() {
  if (stopped_) return;
  int64_t now = clock_->NowMs();
  for (Proposal& p : waiters_.TakeExpired(now)) {
    Finish(p, ErrorResult(Status(ErrorCode::kNoMessage, "")));
  }
  for (const std::string& key : waiters_.Queues()) {
    if (!state_->QueueExists(key) || state_->HasVisibleMessage(key, now)) {
      WakeWaiters(key, mq::kMaxBatch);
    }
  }
  poll_timer_.expires_after(std::chrono::milliseconds(options_.poll_tick_ms));
  poll_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) OnPollTick();
  });
}

void Node::OnHousekeeping() {
  if (stopped_) return;
  RetryBodyMoves();
  CheckRetainedStream();
  ExpireStaging();
  if (is_leader_ && failed_.ok() && state_->message_count() > 0) {
    mq::Command cmd;
    cmd.type = mq::CommandType::kHousekeeping;
    Proposal p;
    mq::EncodeCommand(cmd, p.encoded);
    Enqueue(std::move(p));
  }
  housekeeping_timer_.expires_after(std::chrono::milliseconds(options_.housekeeping_interval_ms));
  housekeeping_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) OnHousekeeping();
  });
}

void Node::OnRaftTick() {
  if (stopped_) return;
  raft_->Tick();
  if (disk_busy_ && is_leader_ &&
      std::chrono::steady_clock::now() - persist_started_ <
          std::chrono::milliseconds(options_.max_disk_stall_heartbeat_ms)) {
    // The next Ready waits for the disk, but the heartbeats may not: a leader silent for
    // an election timeout (a slow fsync of a large batch) would lose its group. Not for
    // ever, though: a leader whose disk is stuck answers nothing, so after a while it goes
    // silent and another node, whose disk works, takes over.
    std::vector<raft::Message> heartbeats = raft_->TakeHeartbeats(durable_term_);
    SendMessages(heartbeats);
  }
  Drive();
  raft_timer_.expires_after(std::chrono::milliseconds(options_.raft_tick_ms));
  raft_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) OnRaftTick();
  });
}

}  // namespace cmq::cluster
