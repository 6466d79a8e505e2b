#pragma once
// The values the Raft core deals in: log entries, persistent and volatile node state,
// group membership and snapshot metadata.

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace cmq::raft {

using Term = uint64_t;
using Index = uint64_t;
using NodeId = uint64_t;  // 0 is never a node: it means "none"

inline constexpr NodeId kNoNode = 0;

// Entry data is shared, immutable bytes: the same buffer travels from the proposer to the
// log writer, the transport and the state machine without copies.
using Payload = std::shared_ptr<const std::string>;

enum class EntryType : uint8_t {
  kNormal = 0,      // opaque application data (or empty: the leader's no-op on election)
  kConfChange = 1,  // an encoded ConfChange (conf_change.h); applied by the core itself
};

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryType type = EntryType::kNormal;
  Payload data;  // null means empty

  std::string_view data_view() const { return data ? std::string_view(*data) : std::string_view(); }
  uint64_t data_size() const { return data ? data->size() : 0; }
};

Payload MakePayload(std::string_view bytes);

// What must be on stable storage before any message that depends on it is sent.
struct HardState {
  Term term = 0;
  NodeId vote = kNoNode;
  Index commit = 0;

  bool empty() const { return term == 0 && vote == kNoNode && commit == 0; }
  friend bool operator==(const HardState&, const HardState&) = default;
};

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
std::string_view RoleName(Role role);

// Volatile state, useful to the driver (who leads?) but never persisted.
struct SoftState {
  NodeId lead = kNoNode;
  Role role = Role::kFollower;
  friend bool operator==(const SoftState&, const SoftState&) = default;
};

// Group membership. A node is in at most one of the two sets.
struct ConfState {
  std::set<NodeId> voters;
  std::set<NodeId> learners;
  friend bool operator==(const ConfState&, const ConfState&) = default;
};

struct SnapshotMeta {
  Index index = 0;  // last entry the snapshot covers
  Term term = 0;    // its term
  ConfState conf_state;
  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

struct Snapshot {
  SnapshotMeta meta;
  Payload data;  // the state machine's image; opaque to the core

  bool empty() const { return meta.index == 0; }
};

}  // namespace cmq::raft
