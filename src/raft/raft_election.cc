// Elections: pre-vote, vote, and what candidates do with the answers.

#include "raft/raft.h"

namespace cmq::raft {

void Raft::Campaign() {
  if (role_ == Role::kLeader || !Promotable()) return;
  // A node that has not applied a committed conf change may not know the current voters.
  if (HasUnappliedConfChanges()) return;
  StartCampaign(config_.pre_vote ? CampaignType::kPreElection : CampaignType::kElection);
}

bool Raft::HasUnappliedConfChanges() const {
  if (log_.committed() <= log_.applied()) return false;
  auto entries = log_.Slice(log_.applied() + 1, log_.committed() + 1, UINT64_MAX);
  if (!entries.ok()) return false;
  for (const Entry& e : *entries) {
    if (e.type == EntryType::kConfChange) return true;
  }
  return false;
}

void Raft::StartCampaign(CampaignType type) {
  MessageType vote_type = MessageType::kVote;
  Term vote_term = 0;
  if (type == CampaignType::kPreElection) {
    BecomePreCandidate();
    vote_type = MessageType::kPreVote;
    vote_term = term_ + 1;  // the term we would campaign in; ours stays
  } else {
    BecomeCandidate();
    vote_term = term_;
  }
  tracker_.RecordVote(id_, true);
  if (tracker_.TallyVotes() == VoteResult::kWon) {  // a group of one
    if (type == CampaignType::kPreElection) {
      StartCampaign(CampaignType::kElection);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (NodeId voter : tracker_.config().voters) {
    if (voter == id_) continue;
    Message m;
    m.type = vote_type;
    m.to = voter;
    m.term = vote_term;
    m.index = log_.LastIndex();
    m.log_term = log_.LastTerm();
    if (type == CampaignType::kTransfer) m.context = std::string(kCampaignTransferContext);
    Send(std::move(m));
  }
}

void Raft::HandleVoteRequest(const Message& m) {
  const bool pre = m.type == MessageType::kPreVote;
  // We may grant: a repeat of our vote; a vote when we have none and know no leader; a
  // pre-vote for a later term (it commits us to nothing).
  const bool can_vote =
      vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) || (pre && m.term > term_);
  Message resp;
  resp.type = pre ? MessageType::kPreVoteResp : MessageType::kVoteResp;
  resp.to = m.from;
  if (can_vote && log_.IsUpToDate(m.index, m.log_term)) {
    resp.term = m.term;
    Send(std::move(resp));
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
    return;
  }
  resp.term = term_;
  resp.reject = true;
  Send(std::move(resp));
}

void Raft::StepCandidate(const Message& m) {
  const MessageType my_response =
      role_ == Role::kPreCandidate ? MessageType::kPreVoteResp : MessageType::kVoteResp;
  switch (m.type) {
    case MessageType::kApp:
      BecomeFollower(m.term, m.from);  // a leader of our term exists
      HandleAppend(m);
      return;
    case MessageType::kHeartbeat:
      BecomeFollower(m.term, m.from);
      HandleHeartbeat(m);
      return;
    case MessageType::kSnap:
      BecomeFollower(m.term, m.from);
      HandleSnapshot(m);
      return;
    default:
      break;
  }
  if (m.type != my_response) return;
  tracker_.RecordVote(m.from, !m.reject);
  switch (tracker_.TallyVotes()) {
    case VoteResult::kWon:
      if (role_ == Role::kPreCandidate) {
        StartCampaign(CampaignType::kElection);
      } else {
        BecomeLeader();
        BroadcastAppend();
      }
      break;
    case VoteResult::kLost:
      BecomeFollower(term_, kNoNode);
      break;
    case VoteResult::kPending:
      break;
  }
}

}  // namespace cmq::raft
