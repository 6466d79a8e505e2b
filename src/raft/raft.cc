#include "raft/raft.h"

namespace cmq::raft {

Raft::Raft(const Config& config, const Storage* storage)
    : config_(config),
      id_(config.id),
      prng_(config.seed),
      log_(storage, config.max_committed_bytes_per_ready),
      tracker_(config.max_inflight_msgs) {
  CMQ_ASSERT(config.Validate().ok(), "invalid raft config");
  auto init = storage->GetInitialState();
  CMQ_ASSERT(init.ok(), "raft storage has no initial state");
  const HardState& hs = init->hard_state;
  const ConfState& cs = init->conf_state;
  // The initial configuration must come from a snapshot at index >= 1, never be implied at
  // index 0: a node that joins later gets the configuration by that snapshot (the leader
  // cannot send entries below its first index) and so never guesses it.
  CMQ_ASSERT((cs.voters.empty() && cs.learners.empty()) || storage->FirstIndex() > 1,
             "bootstrap a group's configuration with a snapshot at index >= 1");
  tracker_.SetConfig(cs, log_.LastIndex() + 1);
  if (!hs.empty()) {
    CMQ_ASSERT(hs.commit <= log_.LastIndex(), "persisted commit index past the last entry");
    log_.CommitTo(hs.commit);
    term_ = hs.term;
    vote_ = hs.vote;
  }
  Index snapshot_index = log_.applied();
  if (config.applied > snapshot_index) log_.SetApplied(config.applied);
  ReplayConfChanges(snapshot_index + 1, log_.applied());
  BecomeFollower(term_, kNoNode);
}

void Raft::ResetRandomizedElectionTimeout() {
  const auto base = static_cast<uint64_t>(config_.election_tick);
  randomized_election_timeout_ = static_cast<int>(base + prng_.Below(base));
}

void Raft::Reset(Term term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;
  }
  lead_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  tracker_.ResetVotes();
  tracker_.ResetProgress(log_.LastIndex() + 1);
  pending_conf_index_ = 0;
  uncommitted_bytes_ = 0;
  timeout_now_sent_ = false;
  broadcast_pending_ = follower_pending_ = commit_pending_ = false;
}

void Raft::BecomeFollower(Term term, NodeId lead) {
  Reset(term);
  lead_ = lead;
  role_ = Role::kFollower;
}

void Raft::BecomePreCandidate() {
  CMQ_ASSERT(role_ != Role::kLeader, "leader -> pre-candidate");
  // Term and vote stay: a pre-election changes nothing durable.
  role_ = Role::kPreCandidate;
  ResetRandomizedElectionTimeout();  // a fresh timeout per attempt, as for candidates
  tracker_.ResetVotes();
  lead_ = kNoNode;
}

void Raft::BecomeCandidate() {
  CMQ_ASSERT(role_ != Role::kLeader, "leader -> candidate");
  Reset(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
}

void Raft::BecomeLeader() {
  CMQ_ASSERT(role_ == Role::kCandidate, "only a candidate becomes leader");
  Reset(term_);
  lead_ = id_;
  role_ = Role::kLeader;
  Progress* self = tracker_.Get(id_);
  CMQ_ASSERT(self != nullptr, "a leader must be a member");
  self->BecomeReplicate();
  self->MaybeUpdate(log_.StableLastIndex());
  self->set_recent_active(true);
  // Any conf change still in the log may be unapplied: wait for it before proposing one.
  pending_conf_index_ = log_.LastIndex();
  // The empty entry of this term lets the leader commit (and so learn) everything before it.
  bool ok = AppendEntries({Entry{}});
  CMQ_ASSERT(ok, "the leader's empty entry was refused");
}

bool Raft::Promotable() const {
  return tracker_.IsVoter(id_);
}

void Raft::Tick() {
  ++tick_count_;
  if (role_ == Role::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

void Raft::TickElection() {
  ++election_elapsed_;
  if (Promotable() && election_elapsed_ >= randomized_election_timeout_) {
    election_elapsed_ = 0;
    Campaign();
  }
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= config_.election_tick) {
    election_elapsed_ = 0;
    if (config_.check_quorum) {
      if (!tracker_.QuorumActive(id_)) {
        BecomeFollower(term_, kNoNode);  // cannot reach a quorum: stop accepting writes
        return;
      }
      for (auto& [id, pr] : tracker_.mutable_progress()) {
        if (id != id_) pr.set_recent_active(false);
      }
    }
    AbortLeaderTransfer();  // a transfer must complete within one election timeout
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    BroadcastHeartbeat();
  }
}

void Raft::Step(const Message& m) {
  if (m.to != id_ || m.from == kNoNode || m.from == id_) return;
  if (!StepTerm(m)) return;
  if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
    HandleVoteRequest(m);
    return;
  }
  switch (role_) {
    case Role::kLeader:
      StepLeader(m);
      break;
    case Role::kCandidate:
    case Role::kPreCandidate:
      StepCandidate(m);
      break;
    case Role::kFollower:
      StepFollower(m);
      break;
  }
}

bool Raft::StepTerm(const Message& m) {
  const bool vote_request = m.type == MessageType::kVote || m.type == MessageType::kPreVote;
  if (m.term > term_) {
    if (vote_request) {
      const bool force = m.context == kCampaignTransferContext;
      const bool in_lease =
          config_.check_quorum && lead_ != kNoNode && election_elapsed_ < config_.election_tick;
      if (!force && in_lease) return false;  // we heard from a live leader recently
    }
    if (m.type == MessageType::kPreVote) return true;  // a pre-vote never changes our term
    if (m.type == MessageType::kPreVoteResp && !m.reject) return true;  // term is the next one
    const bool from_leader = m.type == MessageType::kApp || m.type == MessageType::kHeartbeat ||
                             m.type == MessageType::kSnap;
    BecomeFollower(m.term, from_leader ? m.from : kNoNode);
    return true;
  }
  if (m.term < term_) {
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::kHeartbeat || m.type == MessageType::kApp)) {
      // A stale leader (maybe partitioned away) learns our term and steps down.
      Message resp;
      resp.type = MessageType::kAppResp;
      resp.to = m.from;
      Send(std::move(resp));
    } else if (m.type == MessageType::kPreVote) {
      Message resp;
      resp.type = MessageType::kPreVoteResp;
      resp.to = m.from;
      resp.reject = true;
      Send(std::move(resp));
    }
    return false;
  }
  return true;
}

void Raft::Send(Message m) {
  CMQ_ASSERT(m.to != kNoNode && m.to != id_, "message to nobody or to self");
  m.from = id_;
  if (m.term == 0) m.term = term_;
  msgs_.push_back(std::move(m));
}

Status Raft::TransferLeadership(NodeId to) {
  if (role_ != Role::kLeader) return Status(ErrorCode::kUnavailable, "raft: not leader");
  if (to == id_) return Status(ErrorCode::kInvalidArgument, "raft: already the leader");
  if (!tracker_.IsVoter(to)) return Status(ErrorCode::kInvalidArgument, "raft: not a voter");
  if (lead_transferee_ == to) return Status::Ok();
  AbortLeaderTransfer();
  election_elapsed_ = 0;  // the transfer has one election timeout to complete
  lead_transferee_ = to;
  Progress* pr = tracker_.Get(to);
  if (pr->match() == log_.LastIndex()) {
    SendTimeoutNow(to);
  } else {
    SendAppend(to, true);
  }
  return Status::Ok();
}

void Raft::ReportUnreachable(NodeId id) {
  if (role_ != Role::kLeader) return;
  Progress* pr = tracker_.Get(id);
  if (pr != nullptr && pr->state() == ProgressState::kReplicate) pr->BecomeProbe();
}

void Raft::ReportSnapshot(NodeId id, bool ok) {
  if (role_ != Role::kLeader) return;
  Progress* pr = tracker_.Get(id);
  if (pr == nullptr || pr->state() != ProgressState::kSnapshot) return;
  if (!ok) pr->BecomeSnapshot(0);  // forget the snapshot: probe from match
  pr->BecomeProbe();
  pr->Pause();  // wait for the follower's answer or the next heartbeat response
}

bool Raft::CanServeReadLocally() const {
  if (role_ != Role::kLeader || !config_.check_quorum || lead_transferee_ != kNoNode) return false;
  if (timeout_now_sent_) return false;  // a forced election may be under way
  if (log_.TermOrZero(log_.committed()) != term_) return false;  // §6.4: commit in our term
  uint64_t acked = tracker_.QuorumLeaseTick(id_, tick_count_ + 1);
  const auto lease = static_cast<uint64_t>(config_.election_tick - kLeaseSafetyTicks);
  return acked != 0 && tick_count_ + 1 < acked + lease;
}

}  // namespace cmq::raft
