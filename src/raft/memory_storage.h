#pragma once
// MemoryStorage: Storage kept in memory, for tests and the simulator. Not thread-safe
// (neither is the core; one strand drives both).

#include <vector>

#include "raft/storage.h"

namespace cmq::raft {

class MemoryStorage final : public Storage {
 public:
  MemoryStorage();

  Result<InitialState> GetInitialState() const override;
  Result<std::vector<Entry>> Entries(Index lo, Index hi, uint64_t max_bytes) const override;
  Result<Term> TermAt(Index i) const override;
  Index FirstIndex() const override;
  Index LastIndex() const override;
  Result<Snapshot> GetSnapshot() const override;

  // Writers, called by the driver while handling a Ready.
  void SetHardState(const HardState& hs) { hard_state_ = hs; }
  // Appends entries, overwriting any suffix they conflict with. Entries below the first
  // index are ignored. REQUIRES: no gap after LastIndex().
  void Append(const std::vector<Entry>& entries);
  // Replaces everything with the snapshot. Fails when the snapshot is older than ours.
  Status ApplySnapshot(const Snapshot& snapshot);
  // Records a snapshot of the state machine at applied index i (<= LastIndex()).
  Result<Snapshot> CreateSnapshot(Index i, const ConfState& cs, Payload data);
  // Discards entries before `compact_index` (that index becomes the dummy). REQUIRES: a
  // snapshot covers it (the caller's duty). Fails if already compacted or out of range.
  Status Compact(Index compact_index);

 private:
  Index offset() const { return entries_.front().index; }

  HardState hard_state_;
  Snapshot snapshot_;
  // entries_[0] is a dummy holding the snapshot's (index, term); never empty.
  std::vector<Entry> entries_;
};

}  // namespace cmq::raft
