#pragma once
// The invariants, checked as the simulation runs (after every step, or at the moment the
// event they concern happens). The first violation is kept; the simulator then stops the
// seed and prints it with the seed and the step.
//
// Raft (Raft paper, figure 3):
// * Election safety: at most one leader per term.
// * Log matching: two entries with the same index and term hold the same data, and the
//   logs before them are the same (checked inductively: the entry before each persisted
//   entry has the term that every other copy of that entry saw before it).
// * Leader completeness: an entry known committed (applied anywhere) is in the log of
//   every leader of a later term.
// * State machine safety: every node applies the same entry at each index; a running hash
//   over (index, term, type, data) of all applied entries is equal across nodes at every
//   index (so the same prefix was applied, also across snapshot installs).
// Queues:
// * A message id names one body forever, on every node (send results agree).
// * A receive never returns a message after a delete of it succeeded at a lower index.
// * Every node's receive at one index and position gets the same messages, handles and
//   deadlines (the leader chooses them; the nodes apply its choice).
// * A receive the leader answered when it proposed it applies as answered, if it commits.
// * A received body equals the body that was sent.
// * At the end (everything healed, queues drained), every acknowledged send was received.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mq/state_machine.h"
#include "raft/types.h"

namespace cmq::sim {

class Checker {
 public:
  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  void Fail(std::string what);

  // Raft.
  void OnLeader(raft::NodeId node, raft::Term term);
  // A node persisted entry e; prev_term is the term of its entry at e.index - 1.
  void OnPersist(raft::NodeId node, const raft::Entry& e, raft::Term prev_term);
  // A node applied entry e; hash is its running hash after e.
  void OnApply(raft::NodeId node, const raft::Entry& e, uint64_t hash);
  // A node restored a snapshot at index with running hash.
  void OnRestore(raft::NodeId node, raft::Index index, uint64_t hash);
  // Committed entries with index > from, for the leader completeness check.
  const std::map<raft::Index, std::pair<raft::Term, uint64_t>>& committed() const {
    return committed_;
  }
  static uint64_t ChainHash(uint64_t previous, const raft::Entry& e);

  // Queues: results of applying one command at log index `index` on some node.
  void OnSendApplied(raft::Index index, const std::vector<std::string_view>& bodies,
                     const mq::ApplyResult& result);
  // The receive at `position` in the entry at `index` (every node must receive the same).
  void OnReceiveApplied(raft::NodeId node, raft::Index index, size_t position,
                        const mq::ApplyResult& result);
  void OnDeleteApplied(raft::Index index, const std::vector<uint64_t>& handles,
                       const mq::ApplyResult& result);
  // Acknowledged to a client.
  void OnSendAcked(const std::vector<uint64_t>& msg_ids, const std::vector<std::string>& bodies);
  void OnReceiveAcked(uint64_t msg_id, std::string_view body);
  // Acknowledged sends not yet received by any acknowledged receive.
  std::vector<uint64_t> Unreceived() const;
  size_t acked_sends() const { return acked_.size(); }
  size_t received() const { return received_.size(); }

 private:
  std::string failure_;
  std::map<raft::Term, raft::NodeId> leaders_;
  std::map<std::pair<raft::Index, raft::Term>, std::pair<uint64_t, raft::Term>> entries_;
  std::map<raft::Index, std::pair<raft::Term, uint64_t>> committed_;  // index -> term, data
  std::map<raft::Index, uint64_t> applied_hash_;
  std::map<uint64_t, std::string> bodies_;      // msg id -> body, from applies
  std::map<uint64_t, uint64_t> handle_msg_;     // receipt handle -> msg id
  std::map<uint64_t, raft::Index> deleted_at_;  // msg id -> index of its delete
  std::map<uint64_t, std::string> acked_;       // acknowledged sends
  // (index, position) -> the first applied receive's messages (id, handle, deadline); the
  // map is pruned to the last 4,096 indexes.
  std::map<std::pair<raft::Index, size_t>, std::vector<uint64_t>> receives_;
  std::set<uint64_t> received_;  // by acknowledged receives
};

}  // namespace cmq::sim
