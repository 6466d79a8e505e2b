// Membership: conf changes take effect when applied.

#include "raft/raft.h"

namespace cmq::raft {

Result<Index> Raft::ProposeConfChange(const ConfChange& cc) {
  if (role_ != Role::kLeader) return Status(ErrorCode::kUnavailable, "raft: not leader");
  if (pending_conf_index_ > log_.applied()) {
    return Status(ErrorCode::kUnavailable, "raft: a conf change is already pending");
  }
  Status valid = ValidateConfChange(tracker_.config(), cc);
  if (!valid.ok()) return valid;
  auto index = Propose(EntryType::kConfChange, MakePayload(EncodeConfChange(cc)));
  if (index.ok()) pending_conf_index_ = *index;
  return index;
}

void Raft::ApplyConfChange(const ConfChange& cc) {
  // Every replica applies the same changes in the same order, so a change that is invalid
  // here is invalid everywhere; skipping it keeps the replicas identical.
  if (!ValidateConfChange(tracker_.config(), cc).ok()) return;
  // A node without a configuration has not received its group's snapshot yet; applying a
  // change to nothing would make it a group of its own.
  if (tracker_.config().voters.empty()) return;
  tracker_.SetConfig(::cmq::raft::ApplyConfChange(tracker_.config(), cc), log_.LastIndex() + 1);
  if (role_ != Role::kLeader) return;
  if (!tracker_.IsVoter(id_)) {
    // Removed: hand over to the most up-to-date voter at once (as in a leadership transfer;
    // it campaigns without waiting for the followers' leases to expire), then step down.
    NodeId successor = kNoNode;
    Index best = 0;
    for (const auto& [id, pr] : tracker_.progress()) {
      if (tracker_.IsVoter(id) && pr.match() >= best) {
        successor = id;
        best = pr.match();
      }
    }
    if (successor != kNoNode) SendTimeoutNow(successor);
    BecomeFollower(term_, kNoNode);
    return;
  }
  if (lead_transferee_ != kNoNode && !tracker_.IsVoter(lead_transferee_)) AbortLeaderTransfer();
  // The quorum may have shrunk (entries may be committed now) or grown (new members need
  // probing): every follower gets what it lacks at the next Ready (FlushSends).
  if (MaybeCommit()) commit_pending_ = true;
  broadcast_pending_ = true;
}

void Raft::ReplayConfChanges(Index from, Index to) {
  if (from > to) return;
  auto entries = log_.Slice(from, to + 1, UINT64_MAX);
  CMQ_ASSERT(entries.ok(), "applied entries are not readable at start");
  for (const Entry& e : *entries) {
    if (e.type != EntryType::kConfChange) continue;
    auto cc = DecodeConfChange(e.data_view());
    if (cc.ok()) ApplyConfChange(*cc);
  }
}

void Raft::OnEntriesStable(Index i, Term t) {
  log_.StableTo(i, t);
  if (role_ != Role::kLeader) return;
  Progress* self = tracker_.Get(id_);
  if (self != nullptr && self->MaybeUpdate(log_.StableLastIndex()) && MaybeCommit()) {
    commit_pending_ = true;  // sent at the next Ready (FlushSends)
  }
}

void Raft::OnSnapshotStable(Index i) {
  log_.StableSnapTo(i);
  log_.AppliedSnapshot(i);
}

void Raft::OnApplied(const std::vector<Entry>& applied) {
  if (applied.empty()) return;
  uint64_t bytes = 0;
  for (const Entry& e : applied) {
    bytes += e.data_size();
    if (e.type != EntryType::kConfChange) continue;
    auto cc = DecodeConfChange(e.data_view());
    if (cc.ok()) ApplyConfChange(*cc);
  }
  if (role_ == Role::kLeader) uncommitted_bytes_ -= std::min(uncommitted_bytes_, bytes);
  log_.AppliedTo(applied.back().index);
}

}  // namespace cmq::raft
