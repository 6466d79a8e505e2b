#pragma once
// What a node reports about its replica of a group (cmqctl cluster status, tests, benches).

#include <cstdint>
#include <string>
#include <vector>

namespace cmq::cluster {

struct NodeStats {
  uint64_t entries_written = 0;
  uint64_t commands_applied = 0;
  uint64_t syncs = 0;
  uint64_t snapshots = 0;
  uint64_t snapshot_index = 0;   // last entry covered by the newest snapshot
  uint64_t log_first_index = 0;  // first entry physically in the log
  uint64_t pushes_delivered = 0;
  uint64_t pushes_failed = 0;
  uint64_t term = 0;
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;
  uint64_t last_index = 0;
  uint64_t leader_id = 0;  // 0: none known
  uint64_t node_id = 0;
  uint32_t group_id = 0;
  std::string role;  // "leader", "follower", "candidate", "pre-candidate"
  struct Peer {
    uint64_t id = 0;
    uint64_t match = 0;  // leader only: highest index known replicated there
    uint64_t next = 0;
    std::string state;  // leader only: "probe", "replicate", "snapshot"
    bool learner = false;
    // Leader only, while it streams a snapshot's retained log entries to this replica
    // (cluster/retained_stream.h): the run [stream_first, stream_target] and how far the
    // replica has staged it (stream_staged_next - 1). All 0 when no stream runs.
    uint64_t stream_first = 0;
    uint64_t stream_target = 0;
    uint64_t stream_staged_next = 0;
  };
  std::vector<Peer> peers;  // every member of the group (progress filled on the leader)
  uint64_t snapshots_sent = 0;
  uint64_t snapshots_installed = 0;
  // Streams of retained log entries started by this node as leader (a snapshot whose run
  // was too large to carry, cluster/retained_stream.h).
  uint64_t retained_streams = 0;
  // Log entries in this replica's staging log (a stream to it under way, or left over).
  uint64_t staged_entries = 0;
  // Messages whose bodies the leader moved forward so the log below could go (kMoveBodies
  // applied here with an effect, on any replica).
  uint64_t bodies_moved = 0;
  // Receives this node answered as leader when their kReceiveChosen entered its log
  // (before the commit), and kReceiveChosen entries without messages it proposed to bring
  // a queue up to its time first.
  uint64_t receives_answered_at_proposal = 0;
  uint64_t receive_advances = 0;
  // Receives answered "no message" because their client was gone (AbandonFlag) before
  // messages were chosen for them.
  uint64_t receives_abandoned = 0;
  // Times a leader applied entries committed while its disk persisted later ones.
  uint64_t applied_while_persisting = 0;
};

}  // namespace cmq::cluster
