#pragma once
// RawNode: the public face of the Raft core (modelled on etcd-io/raft's RawNode).
//
// Single-threaded and pure: no I/O, no clock, no threads, no global state. Inputs are the
// methods below; output is a Ready (ready.h), which the driver handles and then passes to
// Advance. Everything is driven by explicit calls, so a simulator can run many nodes in
// one thread from one seed.

#include <map>
#include <memory>

#include "common/result.h"
#include "raft/conf_change.h"
#include "raft/config.h"
#include "raft/raft.h"
#include "raft/ready.h"
#include "raft/storage.h"

namespace cmq::raft {

struct FollowerStatus {
  ProgressState state;
  Index match;
  Index next;
  bool learner;
  size_t inflight;
};

struct NodeStatus {
  NodeId id = kNoNode;
  HardState hard_state;
  SoftState soft_state;
  Index applied = 0;
  Index last_index = 0;
  ConfState conf_state;
  NodeId lead_transferee = kNoNode;
  std::map<NodeId, FollowerStatus> progress;  // leader only
};

class RawNode {
 public:
  // REQUIRES: config.Validate().ok(); storage outlives the node. On restart, Storage holds
  // the persisted hard state, snapshot and log; config.applied says how far the state
  // machine got (0: replay everything after the snapshot).
  RawNode(const Config& config, const Storage* storage);
  static Result<std::unique_ptr<RawNode>> Create(const Config& config, const Storage* storage);

  // One unit of time. Followers campaign after a randomized [election_tick,
  // 2 * election_tick) ticks without a leader; leaders heartbeat every heartbeat_tick.
  void Tick();
  // A message from a peer. Errors: not addressed to us, or from a stranger's response.
  Status Step(const Message& m);
  // Appends data to the log (leader only). Returns the entry's index; it is committed when
  // it shows up in a Ready's committed_entries. Errors (all kUnavailable, retry elsewhere or
  // later): not leader, leadership transfer in progress, too many uncommitted bytes.
  Result<Index> Propose(Payload data);
  // One membership change; refused while another is proposed and not yet applied, and when
  // invalid for the current configuration (kInvalidArgument). Takes effect when applied.
  Result<Index> ProposeConfChange(const ConfChange& cc);
  // Starts an election now (pre-vote first if configured). No-op for a leader or non-voter.
  void Campaign();
  // Leader only: bring `to` up to date, then tell it to campaign. Proposals are refused
  // until the transfer ends (new leader, or one election timeout passed).
  Status TransferLeadership(NodeId to);
  // The transport could not deliver to `id`: slow down to probing.
  void ReportUnreachable(NodeId id);
  // Outcome of sending a snapshot to `id`.
  void ReportSnapshot(NodeId id, bool ok);
  // True when this leader holds a lease (thesis §6.4.1): a quorum acknowledged a heartbeat
  // sent less than election_tick - 1 ticks ago, and it has committed an entry of its term.
  // Needs check_quorum (followers then refuse votes while they hear from us).
  bool CanServeReadLocally() const { return raft_.CanServeReadLocally(); }

  // Not const: a leader's appends are deferred until a Ready is asked for (all proposals
  // since the last Ready share one MsgApp per follower), so this may queue them.
  bool HasReady();
  // REQUIRES: HasReady() and no Ready outstanding (Advance called for the previous one).
  Ready GetReady();
  // REQUIRES: `ready` is the outstanding Ready, fully handled (see ready.h).
  void Advance(const Ready& ready);
  // Takes the heartbeats of `term` queued since the last Ready out of the outbox, for a
  // driver that cannot take the next Ready yet because its disk is still persisting the
  // previous one. A heartbeat promises nothing about the sender's log, so it may go out at
  // any time: a leader whose fsync stalls for longer than an election timeout then keeps
  // its followers (and its own check-quorum) instead of losing the group. Pass the term
  // last made durable: a message must never name a term the sender has not persisted.
  std::vector<Message> TakeHeartbeats(Term term);
  // For the same driver: the entries committed since the outstanding Ready was taken (a
  // leader learns its followers' acks while it fsyncs), so that they are applied without
  // waiting for that fsync. That includes entries the outstanding Ready itself persists:
  // committed means a quorum holds them on disk, with or without this node (a leader
  // counts itself only once its own write is done, so two followers may commit an entry
  // first). The driver must not take a local snapshot past what its own log holds. Only
  // normal entries, up to the first conf change (those wait for a Ready, whose Advance
  // applies them to the configuration). They are reported applied by the outstanding
  // Ready's Advance, after its own committed entries, and never come in a Ready.
  // REQUIRES: a Ready is outstanding, and it holds no snapshot (its entries are applied
  // only once the snapshot is installed).
  std::vector<Entry> TakeCommittedEntries();

  NodeStatus GetStatus() const;
  const ConfState& conf_state() const { return raft_.tracker().config(); }
  NodeId id() const { return raft_.id(); }
  SoftState soft_state() const { return raft_.soft_state(); }
  HardState hard_state() const { return raft_.hard_state(); }
  const Raft& raft() const { return raft_; }

 private:
  Raft raft_;
  SoftState prev_soft_;
  HardState prev_hard_;
  bool outstanding_ = false;
  std::vector<Entry> taken_;  // by TakeCommittedEntries; reported applied at Advance
};

}  // namespace cmq::raft
