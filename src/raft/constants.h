#pragma once
// Every limit of the Raft core, with why it is what it is. Per-group values that an
// operator may tune live in Config (config.h); their defaults and hard ceilings are here.

#include <cstddef>
#include <cstdint>

namespace cmq::raft {

// Default ticks without hearing from a leader before a follower campaigns. The randomized
// timeout is drawn from [election_tick, 2 * election_tick). At a 100 ms tick this is 1-2 s.
inline constexpr int kDefaultElectionTick = 10;
// Default ticks between leader heartbeats; must be well below election_tick so that one or
// two lost heartbeats do not start an election.
inline constexpr int kDefaultHeartbeatTick = 1;
// Default bytes of entry data in one MsgApp. Bounds the memory of one message on both ends
// and the latency a single large append adds in front of heartbeats on the same link.
inline constexpr uint64_t kDefaultMaxMsgBytes = 1ULL << 20;
// Default MsgApp messages in flight (unacknowledged) to one follower in replicate state.
// window * max_msg_bytes is the per-follower memory a leader may have outstanding.
inline constexpr size_t kDefaultMaxInflightMsgs = 256;
// Default bytes of proposed-but-uncommitted entry data a leader accepts before refusing
// proposals. Bounds leader memory when followers are slow or a quorum is lost.
inline constexpr uint64_t kDefaultMaxUncommittedBytes = 64ULL << 20;
// Default bytes of committed entries handed out in one Ready for applying.
inline constexpr uint64_t kDefaultMaxCommittedBytesPerReady = 16ULL << 20;

// Hard ceilings that a Config may not exceed (checked by Config::Validate).
inline constexpr int kMaxElectionTick = 1 << 20;  // keeps 2 * election_tick far from overflow
inline constexpr size_t kMaxInflightMsgsCeiling = 1 << 16;  // the inflight ring is a deque

// Members (voters + learners) of one group. Groups are of 3-7 voters in practice; the bound
// keeps quorum arithmetic trivially cheap and bounds a decoded ConfState.
inline constexpr size_t kMaxGroupMembers = 64;

// Codec bounds: the transport hands us untrusted bytes; these stop a hostile or corrupt
// frame from making us allocate gigabytes before the length checks fail. A snapshot message
// carries the state machine (tens of bytes per retained message) and at most 64 MiB of
// log entries by default (cluster/retained_stream.h streams more), so 1 GiB, the
// transport's largest frame, leaves room for tens of millions of messages per group.
inline constexpr uint64_t kMaxEncodedMessageBytes = 1ULL << 30;
inline constexpr uint64_t kMaxEntriesPerMessage = 1 << 20;

// Lease reads: the leader trusts its lease for election_tick - kLeaseSafetyTicks ticks after
// the heartbeat a quorum acknowledged was sent, because ticks on two machines are not in
// phase (each side may be up to one tick ahead of the other).
inline constexpr int kLeaseSafetyTicks = 1;

// A follower in snapshot state that is alive (answers heartbeats) but has not reported the
// snapshot after this many election timeouts gets it again: the MsgSnap was probably lost
// and the transport did not call ReportSnapshot. Long enough for a big snapshot in transit.
inline constexpr int kSnapshotRetryElectionTimeouts = 4;

static_assert(kDefaultHeartbeatTick < kDefaultElectionTick);
static_assert(kDefaultMaxMsgBytes <= kMaxEncodedMessageBytes / 2);
static_assert(kDefaultMaxInflightMsgs <= kMaxInflightMsgsCeiling);
static_assert(kLeaseSafetyTicks < kDefaultElectionTick);

}  // namespace cmq::raft
