#pragma once
// One simulated node of the group: raft::RawNode over cluster::RaftStorage on its own
// simulated disk, and an mq::StateMachine that applies the committed entries. The driver
// loop (Process) follows raft/ready.h: persist (snapshot, entries, fsync, hard state) ->
// send -> apply -> Advance, then maybe a local snapshot and log compaction.
//
// A crash destroys everything but the disk; Start rebuilds the node from it (the newest
// snapshot, then the log replayed by the core as committed entries).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/raft_storage.h"
#include "mq/state_machine.h"
#include "raft/raw_node.h"
#include "sim/checker.h"
#include "sim/disk.h"
#include "sim/network.h"

namespace cmq::sim {

struct NodeParams {
  int election_tick = 10;
  int heartbeat_tick = 1;
  bool announce_commit_at_once = false;
  uint64_t max_msg_bytes = 4096;
  size_t max_inflight_msgs = 16;
  uint64_t segment_bytes = 4096;
  uint64_t snapshot_interval_entries = 50;  // applied entries between local snapshots
};

// Who asked for a command, so that its result can go back.
struct ClientCall {
  int client = 0;
  uint64_t request = 0;
};

// The outcome of a proposed command, known once the proposer applied its entry.
struct Reply {
  ClientCall call;
  bool committed = false;  // false: the entry was lost (other term, snapshot); retry
  raft::Index index = 0;
  mq::ApplyResult result;
  std::vector<std::string> bodies;  // for receives: read from this node's log
};

class SimNode {
 public:
  SimNode(raft::NodeId id, const NodeParams& params, SimRandom* random, Trace* trace,
          Checker* checker);
  ~SimNode();

  // Writes the initial configuration to a fresh disk (a snapshot at index 1, term 1).
  Status Bootstrap(const raft::ConfState& conf_state);
  // Opens storage and builds the core and the state machine from it.
  Status Start(uint64_t raft_seed);
  // The process dies: everything in memory goes. The caller then crashes the disk.
  void Stop();

  bool up() const { return raw_ != nullptr; }
  raft::NodeId id() const { return id_; }
  raft::RawNode& raw() { return *raw_; }
  SimDisk& disk() { return disk_; }
  bool is_leader() const;
  raft::Index applied_index() const { return applied_index_; }
  // As cluster::Node: a leader chooses receives from its applied state once it applied an
  // entry of its term, and while its lease holds or right after the receive's advance.
  bool ChoosesReceives(bool after_advance = false) const;
  uint64_t applied_hash() const { return applied_hash_; }
  const cluster::RaftStorage& storage() const { return *storage_; }
  uint64_t snapshots_taken() const { return snapshots_taken_; }
  uint64_t snapshots_installed() const { return snapshots_installed_; }

  // Queues a command for the next entry. kUnavailable unless up and leader.
  Status Submit(const ClientCall& call, std::string encoded_command);
  // Proposes the queued commands as one entry stamped with now_ms.
  void Flush(int64_t now_ms);
  // Handles every Ready. A non-ok status is a storage failure: the node must crash.
  Status Process(Network* network, uint64_t now);
  std::vector<Reply> TakeReplies() { return std::move(replies_); }

 private:
  struct Pending {
    raft::Term term = 0;
    std::vector<ClientCall> calls;
    // Per call: the receive answered when proposed (cluster::Node::AnswerAtProposal), to
    // check against what the apply makes of it; nullopt for the others.
    std::vector<std::optional<mq::ApplyResult>> answered;
    // Per call: a receive proposed as an advance (no messages chosen), to choose again
    // once it is applied; nullopt for the others.
    std::vector<std::optional<mq::Command>> advanced;
  };
  // A command queued for the next entry. A client's receive has its messages chosen when
  // the entry is formed (Flush), as cluster::Node does.
  struct Queued {
    ClientCall call;
    std::string encoded;
    std::optional<mq::Command> receive;  // a client's kReceiveMessages
    bool after_advance = false;          // its advance was just applied: choose or answer
  };
  // Leader: what becomes of a client's receive at now_ms: a kReceiveChosen with messages
  // (answered once proposed), one without (brings the queue up to time; answered at its
  // apply), or an answer at once (nothing visible, or an error).
  void ChooseReceive(Queued& q, int64_t now_ms, std::optional<mq::ApplyResult>& answer,
                     bool& answered_now);

  Status Persist(const raft::Ready& rd);
  void OnSoftState(const raft::SoftState& ss);
  Status RestoreSnapshot(const raft::Snapshot& snapshot);
  void Apply(const raft::Entry& e);
  void ApplyCommands(const raft::Entry& e, std::vector<mq::ApplyResult>* results);
  void CheckChosenAnswer(raft::Index index, const mq::ApplyResult& answered,
                         const mq::ApplyResult& applied);
  Status MaybeSnapshot();
  // Leader: queues a kMoveBodies for each small queue whose bodies hold the log below
  // `below` (as cluster::Node does after a snapshot).
  void ProposeBodyMoves(uint64_t below);
  Result<std::string> ReadEntryData(raft::Index index) const;
  std::vector<std::string> ReadBodies(const mq::ApplyResult& result, raft::Index index);
  void FailPending(raft::Index up_to);

  const raft::NodeId id_;
  const NodeParams params_;
  SimRandom* random_;
  Trace* trace_;
  Checker* checker_;
  SimDisk disk_;

  std::unique_ptr<cluster::RaftStorage> storage_;
  std::unique_ptr<raft::RawNode> raw_;
  std::unique_ptr<mq::StateMachine> state_;
  raft::Index applied_index_ = 0;
  uint64_t applied_hash_ = 0;
  std::map<raft::Index, std::string> snapshot_bodies_;  // from the newest snapshot
  raft::Index snapshot_index_ = 0;
  raft::Index previous_snapshot_index_ = 0;

  std::vector<Queued> batch_;
  raft::Term applied_term_ = 0;      // of the entry at applied_index_
  raft::Term reservation_term_ = 0;  // the term whose reservations the state holds
  std::map<raft::Index, Pending> pending_;
  std::vector<Reply> replies_;
  uint64_t snapshots_taken_ = 0;
  uint64_t snapshots_installed_ = 0;
};

}  // namespace cmq::sim
