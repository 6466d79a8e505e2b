#pragma once
// Storage: the stable (persisted) part of a node's log, as the core reads it. The driver
// writes to it (after handling a Ready); the core only reads. Implementations: the
// segmented log in storage/ (through an adapter in cluster/), MemoryStorage for tests.
//
// Indexes: the log holds entries [FirstIndex(), LastIndex()]. FirstIndex() - 1 is the
// index of the latest snapshot (or 0 for a new log); its term is still answered by Term().
// When the log is empty, LastIndex() == FirstIndex() - 1.
//
// Errors (the core relies on these exact codes):
//   kStorageCompacted   (ErrorCode::kNotFound): the index is below FirstIndex() - 1; the
//                       caller must fall back to the snapshot.
//   kStorageUnavailable (ErrorCode::kUnavailable): the index is above LastIndex(), or a
//                       snapshot is being built; the caller retries later.
// Any other error is fatal to the group (the core asserts).

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "raft/types.h"

namespace cmq::raft {

inline constexpr ErrorCode kStorageCompacted = ErrorCode::kNotFound;
inline constexpr ErrorCode kStorageUnavailable = ErrorCode::kUnavailable;

struct InitialState {
  HardState hard_state;
  ConfState conf_state;  // as of the latest snapshot; later conf-change entries are replayed
};

class Storage {
 public:
  virtual ~Storage() = default;

  virtual Result<InitialState> GetInitialState() const = 0;
  // Entries [lo, hi), at most max_bytes of data in total but always at least one entry if
  // any is in range. REQUIRES: lo <= hi. Errors: compacted when lo < FirstIndex();
  // unavailable when hi > LastIndex() + 1. The returned entries are copies (their data
  // buffers are shared and immutable).
  virtual Result<std::vector<Entry>> Entries(Index lo, Index hi, uint64_t max_bytes) const = 0;
  // Term of entry i, for i in [FirstIndex() - 1, LastIndex()].
  virtual Result<Term> TermAt(Index i) const = 0;
  virtual Index FirstIndex() const = 0;
  virtual Index LastIndex() const = 0;
  // The latest snapshot. May fail with kStorageUnavailable while one is being produced.
  virtual Result<Snapshot> GetSnapshot() const = 0;
};

}  // namespace cmq::raft
