#pragma once
// What cluster/ puts into raft::Snapshot::data (RaftStorage adds the ConfState around it).
//
// Message bodies live in the log, not in the mq snapshot (which keeps only their
// locations), so a snapshot alone does not make a replica whole: it also needs the log
// entries at or below the snapshot that still hold a retained message's body. Hence two
// forms (docs/cluster.md "Snapshots"):
//
//   local (a snapshot file):   [tag u8 = 0xC3][oldest referenced index varint][addresses]
//                              [mq state]
//   wire  (kSnap to a peer):   [tag u8 = 0xC4][oldest referenced index varint][addresses]
//                              [mq state: length-prefixed]
//                              [retained entries: an entry run]
//   staged (kSnap to a peer):  [tag u8 = 0xC5][oldest referenced index varint][addresses]
//                              [mq state: length-prefixed][first staged index varint]
//   addresses = [count varint][(node id varint, "host:port" length-prefixed) per node]
//   entry run = [entry count varint][first index varint]
//               [(term varint, type u8, data length-prefixed) per entry]
//
// The addresses are those of the nodes added to the group at run time (the context of
// their conf change): a replica that catches up by snapshot must learn them too. Tags 0xC1
// and 0xC2 are the same forms without addresses (written before membership changes).
//
// The retained entries are the contiguous run [oldest referenced, snapshot index] of the
// leader's log; the receiver writes them into its own log below the snapshot, where reads
// of bodies find them and the Raft core does not look. A local form written before this
// envelope existed is a bare mq state (its first byte is the mq snapshot magic); it decodes
// with oldest_referenced = 0 (unknown).
//
// The staged form carries no entries: a leader sends it when the retained run is too large
// for one message, after streaming the run [first staged index, snapshot index] into the
// follower's staging log (cluster/retained_stream.h); the follower installs the snapshot
// with the entries it staged. A snapshot file keeps the form it was installed in, so that
// a crash before the retained entries are durable in the log can write them again.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/encoding.h"
#include "common/result.h"
#include "raft/types.h"

namespace cmq::cluster {

inline constexpr uint8_t kLocalSnapshotTagV1 = 0xC1;
inline constexpr uint8_t kWireSnapshotTagV1 = 0xC2;
inline constexpr uint8_t kLocalSnapshotTag = 0xC3;
inline constexpr uint8_t kWireSnapshotTag = 0xC4;
inline constexpr uint8_t kStagedSnapshotTag = 0xC5;

struct GroupSnapshot {
  uint64_t oldest_referenced = 0;             // lowest log index a retained body is in; 0 = unknown
  std::map<uint64_t, std::string> addresses;  // node id -> "host:port" (nodes added at run time)
  std::string mq_state;                       // mq::StateMachine::Snapshot()
  std::vector<raft::Entry> retained;          // wire form only: contiguous, ending at the snapshot
  uint64_t staged_first = 0;  // staged form only: the retained run starts here (0: not staged)
};

std::string EncodeLocalSnapshot(uint64_t oldest_referenced,
                                const std::map<uint64_t, std::string>& addresses,
                                std::string_view mq_state);
std::string EncodeWireSnapshot(uint64_t oldest_referenced,
                               const std::map<uint64_t, std::string>& addresses,
                               std::string_view mq_state, const std::vector<raft::Entry>& retained);
std::string EncodeStagedSnapshot(uint64_t oldest_referenced,
                                 const std::map<uint64_t, std::string>& addresses,
                                 std::string_view mq_state, uint64_t staged_first);
// Any form (or the bare legacy one). kCorruption if it does not decode.
Result<GroupSnapshot> DecodeGroupSnapshot(std::string_view data);
// Only the oldest referenced index (0 if unknown), without copying the state.
Result<uint64_t> PeekOldestReferenced(std::string_view data);

// An entry run (above): consecutive entries with non-decreasing terms. ReadEntryRun
// appends to `out`; kCorruption if it does not decode.
void PutEntryRun(std::string& out, const std::vector<raft::Entry>& entries);
Status ReadEntryRun(Reader& r, std::vector<raft::Entry>& out);

}  // namespace cmq::cluster
