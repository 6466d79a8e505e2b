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
//                              [retained entry count varint][first retained index varint]
//                              [(term varint, type u8, data length-prefixed) per entry]
//   addresses = [count varint][(node id varint, "host:port" length-prefixed) per node]
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

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "raft/types.h"

namespace cmq::cluster {

inline constexpr uint8_t kLocalSnapshotTagV1 = 0xC1;
inline constexpr uint8_t kWireSnapshotTagV1 = 0xC2;
inline constexpr uint8_t kLocalSnapshotTag = 0xC3;
inline constexpr uint8_t kWireSnapshotTag = 0xC4;

struct GroupSnapshot {
  uint64_t oldest_referenced = 0;             // lowest log index a retained body is in; 0 = unknown
  std::map<uint64_t, std::string> addresses;  // node id -> "host:port" (nodes added at run time)
  std::string mq_state;                       // mq::StateMachine::Snapshot()
  std::vector<raft::Entry> retained;          // wire form only: contiguous, ending at the snapshot
};

std::string EncodeLocalSnapshot(uint64_t oldest_referenced,
                                const std::map<uint64_t, std::string>& addresses,
                                std::string_view mq_state);
std::string EncodeWireSnapshot(uint64_t oldest_referenced,
                               const std::map<uint64_t, std::string>& addresses,
                               std::string_view mq_state, const std::vector<raft::Entry>& retained);
// Either form (or the bare legacy one). kCorruption if it does not decode.
Result<GroupSnapshot> DecodeGroupSnapshot(std::string_view data);

}  // namespace cmq::cluster
