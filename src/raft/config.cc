#include "raft/config.h"

namespace cmq::raft {

Status Config::Validate() const {
  auto bad = [](const char* why) { return Status(ErrorCode::kInvalidArgument, why); };
  if (id == kNoNode) return bad("raft config: id must not be 0");
  if (heartbeat_tick <= 0) return bad("raft config: heartbeat_tick must be > 0");
  if (election_tick <= heartbeat_tick) return bad("raft config: election_tick <= heartbeat_tick");
  if (election_tick > kMaxElectionTick) return bad("raft config: election_tick too large");
  if (election_tick <= kLeaseSafetyTicks) return bad("raft config: election_tick too small");
  if (max_inflight_msgs == 0 || max_inflight_msgs > kMaxInflightMsgsCeiling) {
    return bad("raft config: max_inflight_msgs out of range");
  }
  if (max_msg_bytes == 0 || max_msg_bytes > kMaxEncodedMessageBytes / 2) {
    return bad("raft config: max_msg_bytes out of range");
  }
  if (max_uncommitted_bytes == 0) return bad("raft config: max_uncommitted_bytes must be > 0");
  if (max_committed_bytes_per_ready == 0) return bad("raft config: max_committed_bytes_per_ready");
  return Status::Ok();
}

}  // namespace cmq::raft
