#pragma once
// Raft: the protocol state machine of one node of one group (Raft paper §5, thesis §3-4,
// §6 for leases, §9.6 for pre-vote, §3.10 for leadership transfer). Internal to raft/:
// drivers use RawNode (raw_node.h), which adds the Ready/Advance bookkeeping.
//
// Single-threaded, no I/O, no clock: time is Tick(), randomness is the seeded Prng,
// output is the `messages()` outbox plus the log's unstable/committed entries.

#include <string>
#include <vector>

#include "common/result.h"
#include "raft/conf_change.h"
#include "raft/config.h"
#include "raft/message.h"
#include "raft/raft_log.h"
#include "raft/rand.h"
#include "raft/tracker.h"

namespace cmq::raft {

class Raft {
 public:
  Raft(const Config& config, const Storage* storage);

  // Inputs.
  void Tick();
  void Step(const Message& m);
  Result<Index> Propose(EntryType type, Payload data);
  Result<Index> ProposeConfChange(const ConfChange& cc);
  void Campaign();
  Status TransferLeadership(NodeId to);
  void ReportUnreachable(NodeId id);
  void ReportSnapshot(NodeId id, bool ok);
  bool CanServeReadLocally() const;
  // Leader: sends the appends deferred since the last call (RawNode calls it when it builds
  // a Ready). Proposals and MsgAppResps only mark followers; here each marked follower gets
  // its new entries in as few MsgApps as max_msg_bytes and the inflight window allow, and
  // each follower that may not know the commit index yet gets at most one MsgApp carrying it.
  void FlushSends();

  // Feedback from the driver, through RawNode::Advance.
  void OnEntriesStable(Index i, Term t);
  void OnSnapshotStable(Index i);
  void OnApplied(const std::vector<Entry>& applied);

  // Observers.
  NodeId id() const { return id_; }
  Term term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId lead() const { return lead_; }
  Role role() const { return role_; }
  HardState hard_state() const { return HardState{term_, vote_, log_.committed()}; }
  SoftState soft_state() const { return SoftState{lead_, role_}; }
  const RaftLog& log() const { return log_; }
  RaftLog& mutable_log() { return log_; }
  const ProgressTracker& tracker() const { return tracker_; }
  NodeId lead_transferee() const { return lead_transferee_; }
  uint64_t uncommitted_bytes() const { return uncommitted_bytes_; }
  int randomized_election_timeout() const { return randomized_election_timeout_; }
  const Config& config() const { return config_; }
  std::vector<Message>& messages() { return msgs_; }
  const std::vector<Message>& messages() const { return msgs_; }

 private:
  enum class CampaignType { kPreElection, kElection, kTransfer };

  // raft.cc: roles, time, dispatch.
  void Reset(Term term);
  void ResetRandomizedElectionTimeout();
  void BecomeFollower(Term term, NodeId lead);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  void TickElection();
  void TickHeartbeat();
  bool StepTerm(const Message& m);  // false: the message is dropped
  void Send(Message m);
  bool Promotable() const;
  void AbortLeaderTransfer() { lead_transferee_ = kNoNode; }

  // raft_election.cc
  void StartCampaign(CampaignType type);
  void HandleVoteRequest(const Message& m);
  void StepCandidate(const Message& m);
  bool HasUnappliedConfChanges() const;

  // raft_leader.cc
  void StepLeader(const Message& m);
  void HandleAppendResponse(const Message& m, Progress& pr);
  void HandleHeartbeatResponse(const Message& m, Progress& pr);
  bool AppendEntries(std::vector<Entry> entries);
  bool SendAppend(NodeId to, bool send_if_empty);
  bool SendSnapshot(NodeId to, Progress& pr);
  void BroadcastAppend();
  void BroadcastHeartbeat();
  void SendTimeoutNow(NodeId to);
  bool MaybeCommit();
  bool IncreaseUncommitted(const std::vector<Entry>& entries);

  // raft_follower.cc
  void StepFollower(const Message& m);
  void HandleAppend(const Message& m);
  void HandleHeartbeat(const Message& m);
  void HandleSnapshot(const Message& m);
  bool Restore(const Snapshot& s);

  // raft_conf.cc
  void ApplyConfChange(const ConfChange& cc);
  void ReplayConfChanges(Index from, Index to);

  const Config config_;
  const NodeId id_;
  Prng prng_;
  RaftLog log_;
  ProgressTracker tracker_;

  Term term_ = 0;
  NodeId vote_ = kNoNode;
  NodeId lead_ = kNoNode;
  Role role_ = Role::kFollower;

  int election_elapsed_ = 0;   // leader: since the last check-quorum; others: since leader/vote
  int heartbeat_elapsed_ = 0;  // leader only
  int randomized_election_timeout_ = 0;
  uint64_t tick_count_ = 0;  // ticks since construction: the leader's lease clock

  NodeId lead_transferee_ = kNoNode;
  // A TimeoutNow went out in this term: its receiver campaigns past the followers' leases
  // (even after the transfer was aborted, if it arrives late), so ours means nothing any more.
  bool timeout_now_sent_ = false;
  Index pending_conf_index_ = 0;  // leader: index of the latest proposed conf change
  uint64_t uncommitted_bytes_ = 0;

  // Leader: sends deferred to FlushSends (cleared by Reset).
  bool broadcast_pending_ = false;  // new entries for every follower (proposals)
  bool follower_pending_ = false;   // some Progress has send_pending()
  bool commit_pending_ = false;     // the commit index moved: tell followers that lag it

  std::vector<Message> msgs_;
};

}  // namespace cmq::raft
