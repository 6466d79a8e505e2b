// What a follower does with its leader's messages.

#include "common/encoding.h"
#include "raft/raft.h"

namespace cmq::raft {
namespace {

// Drops appends whose entries are not contiguous after `index` or claim a later term: the
// peer is broken, and accepting them would corrupt the log.
bool WellFormedAppend(const Message& m) {
  Index expected = m.index + 1;
  for (const Entry& e : m.entries) {
    if (e.index != expected++ || e.term > m.term || e.term == 0) return false;
  }
  return true;
}

}  // namespace

void Raft::StepFollower(const Message& m) {
  switch (m.type) {
    case MessageType::kApp:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleAppend(m);
      break;
    case MessageType::kHeartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleHeartbeat(m);
      break;
    case MessageType::kSnap:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleSnapshot(m);
      break;
    case MessageType::kTimeoutNow:
      // The leader asks us to take over: campaign at once, skipping pre-vote and leases.
      if (Promotable() && !HasUnappliedConfChanges()) StartCampaign(CampaignType::kTransfer);
      break;
    default:
      break;
  }
}

void Raft::HandleAppend(const Message& m) {
  if (!WellFormedAppend(m)) return;
  Message resp;
  resp.type = MessageType::kAppResp;
  resp.to = m.from;
  if (m.index < log_.committed()) {
    resp.index = log_.committed();  // we have all that; tell the leader where we are
    Send(std::move(resp));
    return;
  }
  if (auto last = log_.MaybeAppend(m.index, m.log_term, m.commit, m.entries)) {
    resp.index = *last;
    Send(std::move(resp));
    return;
  }
  // Reject, with a hint for fast backtracking: the latest index at or below the leader's
  // probe whose term is <= the leader's term there; the leader can skip the rest.
  Index probe = std::min(m.index, log_.LastIndex());
  auto [hint_index, hint_term] = log_.FindConflictByTerm(probe, m.log_term);
  resp.index = m.index;
  resp.reject = true;
  resp.reject_hint = hint_index;
  resp.log_term = hint_term;
  Send(std::move(resp));
}

void Raft::HandleHeartbeat(const Message& m) {
  // The leader caps commit at our match, so every index up to it holds its entry.
  if (m.commit <= log_.LastIndex()) log_.CommitTo(m.commit);
  Message resp;
  resp.type = MessageType::kHeartbeatResp;
  resp.to = m.from;
  resp.context = m.context;
  Send(std::move(resp));
}

void Raft::HandleSnapshot(const Message& m) {
  if (!m.snapshot) return;
  Message resp;
  resp.type = MessageType::kAppResp;
  resp.to = m.from;
  resp.index = Restore(*m.snapshot) ? log_.LastIndex() : log_.committed();
  Send(std::move(resp));
}

bool Raft::Restore(const Snapshot& s) {
  if (s.meta.index <= log_.committed()) return false;
  const ConfState& cs = s.meta.conf_state;
  if (cs.voters.empty()) return false;  // no group has no voters: garbage
  // The snapshot may predate our own addition to the group: we then learn of it from the
  // conf-change entry that follows.
  if (log_.MatchTerm(s.meta.index, s.meta.term)) {
    log_.CommitTo(s.meta.index);  // we have the entries already: just move commit
    return false;
  }
  log_.Restore(s);
  tracker_.SetConfig(cs, log_.LastIndex() + 1);
  return true;
}

}  // namespace cmq::raft
