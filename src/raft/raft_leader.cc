// The leader: proposals, replication to each follower, commit.

#include "common/encoding.h"
#include "raft/raft.h"

namespace cmq::raft {

Result<Index> Raft::Propose(EntryType type, Payload data) {
  if (role_ != Role::kLeader) return Status(ErrorCode::kUnavailable, "raft: not leader");
  if (lead_transferee_ != kNoNode) {
    return Status(ErrorCode::kUnavailable, "raft: leadership transfer in progress");
  }
  if (!tracker_.IsVoter(id_)) return Status(ErrorCode::kUnavailable, "raft: leader was removed");
  if (!AppendEntries({Entry{0, 0, type, std::move(data)}})) {
    return Status(ErrorCode::kUnavailable, "raft: too many uncommitted bytes");
  }
  // The MsgApps go out when the Ready is built (FlushSends): all proposals made until then
  // share one append per follower.
  broadcast_pending_ = true;
  return log_.LastIndex();
}

bool Raft::IncreaseUncommitted(const std::vector<Entry>& entries) {
  uint64_t bytes = 0;
  for (const Entry& e : entries) bytes += e.data_size();
  // An entry larger than the limit still goes through when nothing else is pending, or it
  // could never be proposed at all.
  if (uncommitted_bytes_ > 0 && bytes > 0 &&
      uncommitted_bytes_ + bytes > config_.max_uncommitted_bytes) {
    return false;
  }
  uncommitted_bytes_ += bytes;
  return true;
}

bool Raft::AppendEntries(std::vector<Entry> entries) {
  Index last = log_.LastIndex();
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].term = term_;
    entries[i].index = last + 1 + i;
  }
  if (!IncreaseUncommitted(entries)) return false;
  log_.Append(entries);
  // The leader counts itself toward commit only once the driver reports the entries stable
  // (OnEntriesStable): an acknowledged write is on a quorum of disks, ours included.
  return true;
}

bool Raft::MaybeCommit() {
  return log_.MaybeCommit(tracker_.Committed(), term_);
}

void Raft::BroadcastAppend() {
  for (const auto& [id, pr] : tracker_.progress()) {
    if (id != id_) SendAppend(id, true);
  }
}

void Raft::FlushSends() {
  if (!broadcast_pending_ && !follower_pending_ && !commit_pending_) return;
  const bool all = broadcast_pending_;
  const bool commit = commit_pending_ && config_.announce_commit_at_once;
  broadcast_pending_ = follower_pending_ = commit_pending_ = false;
  if (role_ != Role::kLeader) return;
  const Index committed = log_.committed();
  for (auto& [id, pr] : tracker_.mutable_progress()) {
    if (id == id_) continue;
    const bool marked = all || pr.send_pending();
    pr.set_send_pending(false);
    if (!marked && !(commit && pr.CanBumpCommit(committed))) continue;
    // Fill the window (bounded by max_msg_bytes per append and the inflight limit). With
    // announce_commit_at_once, an empty append goes out if the follower may not know the
    // commit index yet, and then only once: the first append, empty or not, carries it.
    while (SendAppend(id, false)) {
    }
  }
}

void Raft::BroadcastHeartbeat() {
  std::string stamp;
  PutFixed64(stamp, tick_count_ + 1);  // 0 means "no lease"
  for (const auto& [id, pr] : tracker_.progress()) {
    if (id == id_) continue;
    Message m;
    m.type = MessageType::kHeartbeat;
    m.to = id;
    // Never ask a follower to commit past what we know it holds.
    m.commit = std::min(pr.match(), log_.committed());
    m.context = stamp;
    tracker_.Get(id)->SentCommit(m.commit);
    Send(std::move(m));
  }
}

bool Raft::SendAppend(NodeId to, bool send_if_empty) {
  Progress* pr = tracker_.Get(to);
  if (pr == nullptr || pr->IsPaused()) return false;
  Index prev = pr->next() - 1;
  auto prev_term = log_.TermAt(prev);
  auto entries = log_.EntriesFrom(pr->next(), config_.max_msg_bytes);
  if (!prev_term.ok() || !entries.ok()) {
    const bool compacted = prev_term.status().code() == kStorageCompacted ||
                           entries.status().code() == kStorageCompacted;
    return compacted && SendSnapshot(to, *pr);
  }
  if (entries->empty() && !send_if_empty &&
      !(config_.announce_commit_at_once && pr->CanBumpCommit(log_.committed()))) {
    return false;  // nothing to send; a commit index alone waits for the next heartbeat
  }
  Message m;
  m.type = MessageType::kApp;
  m.to = to;
  m.index = prev;
  m.log_term = *prev_term;
  m.commit = log_.committed();
  uint64_t bytes = 0;
  for (const Entry& e : *entries) bytes += e.data_size();
  Index last = entries->empty() ? prev : entries->back().index;
  pr->SentEntries(entries->size(), bytes, last);
  pr->SentCommit(m.commit);
  m.entries = std::move(*entries);
  Send(std::move(m));
  return true;
}

bool Raft::SendSnapshot(NodeId to, Progress& pr) {
  if (!pr.recent_active()) return false;  // do not ship a snapshot into the void
  auto snapshot = log_.GetSnapshot();
  if (!snapshot.ok()) {
    CMQ_ASSERT(snapshot.status().code() == kStorageUnavailable, "snapshot read failed");
    return false;  // being built; the next heartbeat response retries
  }
  CMQ_ASSERT(!snapshot->empty(), "entries were compacted but there is no snapshot");
  pr.BecomeSnapshot(snapshot->meta.index);
  pr.set_snapshot_sent_tick(tick_count_);
  Message m;
  m.type = MessageType::kSnap;
  m.to = to;
  m.snapshot = std::move(*snapshot);
  Send(std::move(m));
  return true;
}

void Raft::SendTimeoutNow(NodeId to) {
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = to;
  timeout_now_sent_ = true;
  Send(std::move(m));
}

void Raft::StepLeader(const Message& m) {
  Progress* pr = tracker_.Get(m.from);
  if (pr == nullptr) return;  // not (or no longer) a member
  switch (m.type) {
    case MessageType::kAppResp:
      HandleAppendResponse(m, *pr);
      break;
    case MessageType::kHeartbeatResp:
      HandleHeartbeatResponse(m, *pr);
      break;
    default:
      break;  // stale vote answers and the like
  }
}

void Raft::HandleAppendResponse(const Message& m, Progress& pr) {
  pr.set_recent_active(true);
  if (m.reject) {
    // Fast backtracking: skip every entry of ours whose term is above the follower's term at
    // its hint; those cannot match.
    Index next_probe = m.reject_hint;
    if (m.log_term > 0) next_probe = log_.FindConflictByTerm(m.reject_hint, m.log_term).first;
    if (pr.MaybeDecrTo(m.index, next_probe)) {
      if (pr.state() == ProgressState::kReplicate) pr.BecomeProbe();
      SendAppend(m.from, true);
    }
    return;
  }
  if (m.index > log_.LastIndex()) return;  // acknowledges entries we never had: ignore
  const bool caught_up_probe = pr.match() == m.index && pr.state() == ProgressState::kProbe;
  if (!pr.MaybeUpdate(m.index) && !caught_up_probe) return;
  switch (pr.state()) {
    case ProgressState::kProbe:
      pr.BecomeReplicate();
      break;
    case ProgressState::kSnapshot:
      if (pr.match() + 1 >= log_.FirstIndex()) {  // the log can take it from here
        pr.BecomeProbe();
        pr.BecomeReplicate();
      }
      break;
    case ProgressState::kReplicate:
      pr.FreeInflightsUpTo(m.index);
      break;
  }
  // A new commit index reaches the followers that lag it at the next Ready (FlushSends),
  // in one MsgApp each however many answers moved it.
  if (MaybeCommit()) commit_pending_ = true;
  if (m.from != lead_transferee_) {
    // Fill this follower's window at the next Ready, with everything proposed until then.
    pr.set_send_pending(true);
    follower_pending_ = true;
    return;
  }
  // The transferee is brought up to date at once, then told to campaign.
  while (SendAppend(m.from, false)) {
  }
  if (pr.match() == log_.LastIndex()) SendTimeoutNow(m.from);
}

void Raft::HandleHeartbeatResponse(const Message& m, Progress& pr) {
  pr.set_recent_active(true);
  pr.Unpause();
  if (m.context.size() == 8) {
    uint64_t stamp = DecodeFixed64(m.context.data());
    if (stamp <= tick_count_ + 1) pr.AckLease(stamp);
  }
  if (pr.state() == ProgressState::kReplicate && pr.inflights().Full()) {
    pr.FreeFirstInflight();  // an answer may have been lost: let one more append out
  }
  const uint64_t snapshot_timeout =
      static_cast<uint64_t>(config_.election_tick) * kSnapshotRetryElectionTimeouts;
  if (pr.state() == ProgressState::kSnapshot &&
      tick_count_ - pr.snapshot_sent_tick() >= snapshot_timeout) {
    pr.BecomeSnapshot(0);  // alive but silent about the snapshot: assume it was lost
    pr.BecomeProbe();
  }
  if (pr.match() < log_.LastIndex()) SendAppend(m.from, true);
}

}  // namespace cmq::raft
