#pragma once
// Streaming a snapshot's retained log entries to a follower (docs/cluster.md "Snapshots").
//
// A snapshot's state refers to message bodies in log entries at or below it (the retained
// run, cluster/group_snapshot.h). When the run is small the leader sends it inside the
// snapshot message. When it is large (a backlog of gigabytes), the leader first streams it
// in chunks of about 1 MiB into the follower's staging log (cluster/raft_storage.h
// "Staging"), a few chunks in flight, each answered with the staged run; then it sends the
// snapshot in its staged form, which names the run instead of carrying it. Neither side
// holds more than a window of chunks in memory, and a stream that breaks resumes where the
// follower's staging log ends (a new leader's too: committed entries are the same from
// every leader).
//
// Frames (transport kinds kRetainedChunk and kRetainedAck, for the group):
//   chunk = [version u8 = 1][leader term u64][stream epoch u64][run first index u64]
//           [entries: an entry run (group_snapshot.h)]
//   ack   = [version u8 = 1][stream epoch u64][staged first u64][staged next u64]
// A chunk without entries asks only for the staged run. The epoch numbers the leader's
// streams: an ack of an older one is ignored. A follower takes chunks only from the leader
// of its current term.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "raft/types.h"

namespace cmq::cluster {

inline constexpr uint8_t kRetainedStreamVersion = 1;

struct RetainedChunk {
  uint64_t term = 0;                 // the sending leader's term
  uint64_t epoch = 0;                // which of its streams
  uint64_t run_first = 0;            // the retained run starts here
  std::vector<raft::Entry> entries;  // consecutive; empty: a question for the staged run
};

struct RetainedAck {
  uint64_t epoch = 0;
  uint64_t staged_first = 0;  // the follower's staging log holds [staged_first, staged_next)
  uint64_t staged_next = 0;
};

std::string EncodeRetainedChunk(const RetainedChunk& chunk);
Result<RetainedChunk> DecodeRetainedChunk(std::string_view in);  // kCorruption
std::string EncodeRetainedAck(const RetainedAck& ack);
Result<RetainedAck> DecodeRetainedAck(std::string_view in);  // kCorruption

}  // namespace cmq::cluster
