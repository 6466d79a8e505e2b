#pragma once
// Config: everything a RawNode needs besides its Storage. No defaults are hidden
// elsewhere; see constants.h for why each default is what it is.

#include <cstdint>

#include "common/status.h"
#include "raft/constants.h"
#include "raft/types.h"

namespace cmq::raft {

struct Config {
  NodeId id = kNoNode;
  // Ticks; the randomized election timeout is in [election_tick, 2 * election_tick).
  int election_tick = kDefaultElectionTick;
  int heartbeat_tick = kDefaultHeartbeatTick;
  // Seeds the node's PRNG (election jitter). Give every node of a group a different seed.
  uint64_t seed = 1;
  // The last index the state machine applied before a restart (0: from the snapshot).
  Index applied = 0;
  uint64_t max_msg_bytes = kDefaultMaxMsgBytes;
  size_t max_inflight_msgs = kDefaultMaxInflightMsgs;
  uint64_t max_uncommitted_bytes = kDefaultMaxUncommittedBytes;
  uint64_t max_committed_bytes_per_ready = kDefaultMaxCommittedBytesPerReady;
  // Leader steps down when it has not heard from a quorum for election_tick ticks; and
  // followers that heard from a leader within election_tick ignore vote requests (needed for
  // lease reads).
  bool check_quorum = true;
  // Campaign first with a pre-vote that does not bump terms, so a rejoining node with a
  // stale log or a partitioned one does not disrupt a healthy leader.
  bool pre_vote = true;
  // When a commit moves and no entry is left to send, an empty append tells the followers
  // at once (true), or the next append or heartbeat (at most heartbeat_tick later) carries
  // the new commit index (false). Nothing a follower serves waits for its commit index
  // (requests go to the leader; a new leader commits an entry of its own term before it
  // serves), so at one request in flight the empty appends and their answers only cost:
  // two messages and four thread wake-ups per follower per request (docs/raft.md).
  bool announce_commit_at_once = false;

  Status Validate() const;
};

}  // namespace cmq::raft
