#pragma once
// Progress: what a leader knows about one follower's log, and how it sends to it.
//
//   kProbe:     we do not know where the follower's log matches ours; send one MsgApp at a
//               time (paused until it is answered or a heartbeat response arrives).
//   kReplicate: we know `match`; stream MsgApps optimistically (next moves ahead at send),
//               at most the Inflights window unacknowledged.
//   kSnapshot:  the follower needs entries we compacted; a snapshot is on its way; send
//               nothing until it reports back.
//
// Transitions: probe -> replicate on a successful MsgAppResp; replicate -> probe on a
// reject or an unreachable report; any -> snapshot when entries are compacted; snapshot ->
// probe when the snapshot is reported applied or failed.

#include <algorithm>
#include <string>

#include "raft/inflights.h"
#include "raft/types.h"

namespace cmq::raft {

enum class ProgressState : uint8_t { kProbe, kReplicate, kSnapshot };
std::string_view ProgressStateName(ProgressState s);

class Progress {
 public:
  Progress(Index next, size_t max_inflight, bool is_learner)
      : next_(next), inflights_(max_inflight), is_learner_(is_learner) {}

  void BecomeProbe();
  void BecomeReplicate();
  void BecomeSnapshot(Index snapshot_index);

  // A MsgAppResp acknowledged up to n. Returns false if it told us nothing new.
  bool MaybeUpdate(Index n);
  // A MsgAppResp rejected the append after `rejected`; `match_hint` is the follower's guess
  // of the last index where we may agree. Returns false if the reject is stale.
  bool MaybeDecrTo(Index rejected, Index match_hint);
  // A MsgApp with `count` entries ending at `last_index` (or none) was sent.
  void SentEntries(size_t count, uint64_t bytes, Index last_index);
  // May we send this follower a MsgApp now?
  bool IsPaused() const;
  // Heartbeat responses lift the probe pause.
  void Unpause() { probe_sent_ = false; }
  void Pause() { probe_sent_ = true; }
  void FreeInflightsUpTo(Index i) { inflights_.FreeLE(i); }
  void FreeFirstInflight() { inflights_.FreeFirstOne(); }
  // The highest commit index sent to this follower (it may not know a later one).
  void SentCommit(Index commit) { sent_commit_ = std::max(sent_commit_, commit); }
  bool CanBumpCommit(Index commit) const { return sent_commit_ < commit; }
  // Leader: this follower may have something to send (a MsgAppResp freed its window); the
  // appends go out when the next Ready is built (Raft::FlushSends).
  bool send_pending() const { return send_pending_; }
  void set_send_pending(bool v) { send_pending_ = v; }

  Index match() const { return match_; }
  Index next() const { return next_; }
  ProgressState state() const { return state_; }
  Index pending_snapshot() const { return pending_snapshot_; }
  bool recent_active() const { return recent_active_; }
  void set_recent_active(bool v) { recent_active_ = v; }
  bool is_learner() const { return is_learner_; }
  void set_learner(bool v) { is_learner_ = v; }
  const Inflights& inflights() const { return inflights_; }
  uint64_t lease_ack_tick() const { return lease_ack_tick_; }
  // kSnapshot: the leader tick at which the snapshot was sent.
  uint64_t snapshot_sent_tick() const { return snapshot_sent_tick_; }
  void set_snapshot_sent_tick(uint64_t tick) { snapshot_sent_tick_ = tick; }
  void AckLease(uint64_t sent_tick) { lease_ack_tick_ = std::max(lease_ack_tick_, sent_tick); }
  std::string Describe() const;

 private:
  void ResetState(ProgressState s);

  Index match_ = 0;
  Index next_;
  ProgressState state_ = ProgressState::kProbe;
  Index pending_snapshot_ = 0;  // kSnapshot: the index of the snapshot sent
  bool probe_sent_ = false;     // kProbe: a MsgApp is out, wait for its answer
  bool recent_active_ = false;  // heard from since the last check-quorum round
  bool send_pending_ = false;   // leader: flush appends to this follower at the next Ready
  Index sent_commit_ = 0;
  uint64_t lease_ack_tick_ = 0;
  uint64_t snapshot_sent_tick_ = 0;  // leader tick at which the latest acked heartbeat was sent
  Inflights inflights_;
  bool is_learner_;
};

}  // namespace cmq::raft
