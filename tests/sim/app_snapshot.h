#pragma once
// What the simulator puts into raft::Snapshot::data (the application part of a snapshot;
// RaftStorage wraps it with the ConfState):
//
//   [version u8 = 1][applied index varint][applied hash fixed64]
//   [mq snapshot: length-prefixed bytes (mq::StateMachine::Snapshot)]
//   [body entry count varint][(index varint, length-prefixed entry data)...]
//
// Message bodies live in the log, not in the mq snapshot (which keeps only their
// locations). A follower that installs a snapshot has none of those log entries, so the
// snapshot carries the entries at or below its index that may hold a retained message's
// body (every entry with a send, from mq's OldestReferencedLogIndex() on). The applied hash
// is the running hash of every entry applied up to the snapshot (checker.h), so the state
// machine safety check continues across snapshots.

#include <cstdint>
#include <map>
#include <string>

#include "common/result.h"

namespace cmq::sim {

struct AppSnapshot {
  uint64_t applied_index = 0;
  uint64_t applied_hash = 0;
  std::string mq_state;
  std::map<uint64_t, std::string> body_entries;  // log index -> entry data
};

std::string EncodeAppSnapshot(const AppSnapshot& s);
Result<AppSnapshot> DecodeAppSnapshot(std::string_view in);

}  // namespace cmq::sim
