#pragma once
// RaftStorage: raft::Storage over our durable storage (storage/log.h for entries and the
// hard state, storage/snapshot_store.h for snapshots). The core reads through the
// raft::Storage interface; the driver writes through the methods below while handling a
// Ready (raft/ready.h), in this order: ApplySnapshot, Append, Sync, SetHardState. Saving
// the hard state after the sync keeps the persisted commit index at or below the durable
// last index, which the core asserts on restart.
//
// Encodings (docs/raft.md "Simulator" and docs/storage-format.md describe the files):
//   log entry payload  = [entry type u8 (raft::EntryType)][entry data]
//     Raft's term and index are the log record's term and index. Type 0 is a normal entry
//     (mq batch, or empty: the leader's no-op), type 1 a ConfChange (raft/conf_change.h).
//   snapshot file data = [envelope version u8 = 1][ConfState (raft/codec.h
//                         EncodeConfState)][application data: raft::Snapshot::data]
//     The snapshot store keeps the snapshot's index and term in its own header.
//
// Indexes. The raft-visible log is [FirstIndex(), LastIndex()] with FirstIndex() - 1 the
// index of the newest snapshot (0: none), as raft/storage.h requires. The segmented log may
// still hold entries at or below the snapshot (segments are dropped whole, and the driver
// keeps entries that a fallback snapshot or message bodies need); they are hidden from the
// core but readable with ReadData.
//
// Recovery (Open): the newest intact snapshot, then the log. A log that does not continue
// the snapshot (it ends before the snapshot, or holds a different term at the snapshot's
// index: a crash in the middle of ApplySnapshot) is emptied and repositioned right after
// the snapshot; everything in it was below the snapshot or on a discarded branch.
//
// Staging (raft_storage_staging.cc): a second log in "staging/" where a follower collects
// the retained entries a leader streams before a snapshot too large to carry them
// (cluster/retained_stream.h). ApplyStagedSnapshot then installs the snapshot with them.
// The staging log is disposable: it holds only committed entries, which every leader sends
// alike, and it is emptied once the log holds them durably.
//
// Failure: any write error is fatal to the writer (as storage::Log's failed()): the caller
// must stop using this object for writes and reopen it from the file system.
//
// Threads: one writer thread (the methods under "Writers", plus CreateSnapshot, which may
// run on another thread than Append but not at the same time as ApplySnapshot) and
// readers on other threads (the raft::Storage methods, ReadData, ReadDataRange): the log
// is safe for that, and snapshot_mu_ guards the snapshot and hard state.

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "raft/storage.h"
#include "raft/types.h"
#include "storage/file_system.h"
#include "storage/log.h"
#include "storage/snapshot_store.h"

namespace cmq::cluster {

inline constexpr uint8_t kRaftSnapshotEnvelopeVersion = 1;

struct RaftStorageOptions {
  std::string dir;                       // holds "log/" and "snapshots/"
  uint64_t segment_bytes = 64ull << 20;  // storage::LogOptions::segment_bytes
  size_t snapshots_kept = 2;
};

class RaftStorage final : public raft::Storage {
 public:
  // Opens (or creates) the storage in options.dir; fs must outlive the object. Errors: the
  // log's or the snapshot store's (kCorruption for damage recovery may not repair, e.g. a
  // log that starts after the newest snapshot).
  static Result<std::unique_ptr<RaftStorage>> Open(storage::FileSystem* fs,
                                                   RaftStorageOptions options);

  // raft::Storage.
  Result<raft::InitialState> GetInitialState() const override;
  Result<std::vector<raft::Entry>> Entries(raft::Index lo, raft::Index hi,
                                           uint64_t max_bytes) const override;
  Result<raft::Term> TermAt(raft::Index i) const override;
  raft::Index FirstIndex() const override;
  raft::Index LastIndex() const override;
  Result<raft::Snapshot> GetSnapshot() const override;

  // Writers (the Ready contract, step 1).
  // Appends entries, first removing any suffix of ours that they replace (an entry at an
  // index we hold with a different term, and everything after it). Entries at or below the
  // snapshot are skipped. REQUIRES: entries are consecutive and leave no gap after
  // LastIndex(). Not durable until Sync().
  Status Append(const std::vector<raft::Entry>& entries);
  Status Sync();
  // Durable on return as far as Raft needs: a changed term or vote, or a commit index that
  // passes a conf-change entry, is written (atomically, with an fsync) before this returns.
  // Any other commit advance is only kept in memory and written with the next such write:
  // a restarted node relearns the commit index from the leader, and re-applies from its
  // snapshot anyway. But the core restores its configuration by replaying conf changes up
  // to the durable commit index, so a committed conf change must be durably committed, or
  // a restarted node would vote and count quorums with a stale configuration (the
  // simulator found exactly that: seeds 400415 and 401710 with 5 nodes, 501263 with 3).
  // This keeps the commit path to one fsync per batch.
  Status SetHardState(const raft::HardState& hs);
  // Installs a snapshot received from the leader: saves it durably, then empties the log
  // and positions it right after the snapshot. kInvalidArgument if it is not newer than
  // ours.
  Status ApplySnapshot(const raft::Snapshot& snapshot);
  // The same, and then writes `retained` into the log below the snapshot (hidden from the
  // core, readable with ReadData/ReadDataRange): the entries that hold message bodies the
  // snapshot's state still refers to (cluster/group_snapshot.h). REQUIRES: retained is
  // empty or consecutive and ends at snapshot.meta.index with its term. Durable on return.
  Status ApplySnapshot(const raft::Snapshot& snapshot, const std::vector<raft::Entry>& retained);
  // Records a snapshot of the local state machine at applied index `index`, durably.
  // REQUIRES: FirstIndex() <= index <= LastIndex() (else kInvalidArgument). The log is left
  // as it is: compacting it is Compact's job.
  Status CreateSnapshot(raft::Index index, const raft::ConfState& conf_state, raft::Payload data);
  // Drops log segments all of whose entries are below `before`, durably. REQUIRES:
  // before <= FirstIndex() (only what the snapshot covers can go; else kInvalidArgument).
  Status Compact(raft::Index before);
  // Compact, leaving the dropped segments' files to RemoveDetached, which may run on
  // another thread without the write lock (storage::Log::DetachPrefix).
  Result<std::vector<std::string>> CompactDetached(raft::Index before);
  Status RemoveDetached(const std::vector<std::string>& paths);

  // The data of entry i if the log still holds it physically (also at or below the
  // snapshot, where the core no longer looks). kNotFound otherwise.
  Result<std::string> ReadData(raft::Index i) const;
  // Bytes [offset, offset + length) of entry i's data (message bodies), without reading or
  // verifying the rest of the record. kNotFound if the log no longer holds entry i.
  Result<std::string> ReadDataRange(raft::Index i, uint32_t offset, uint32_t length) const;
  // Writes `retained` (as for ApplySnapshot) into the log again after a crash lost them:
  // the log must be empty or start above them (else kInvalidArgument). Durable on return.
  Status RestoreRetained(const std::vector<raft::Entry>& retained);
  // Entry i, with its term and type, if the log still holds it physically (also at or
  // below the snapshot). kNotFound otherwise.
  Result<raft::Entry> ReadEntry(raft::Index i) const;
  // First index physically in the log (may be below FirstIndex()).
  raft::Index LogFirstIndex() const { return log_->FirstIndex(); }
  // Where Compact stops to drop only the oldest segment (storage::Log::FirstSegmentEnd).
  raft::Index FirstSegmentEnd() const { return log_->FirstSegmentEnd(); }
  bool failed() const { return log_->failed(); }

  // Staging (see the top). The staged run is [first, next); empty when first == next.
  struct StagedRange {
    raft::Index first = 0;
    raft::Index next = 0;
  };
  // Writes a streamed chunk whose run must start at run_first: appended if the staged run
  // starts at or below run_first and the chunk continues it (entries it already holds are
  // skipped); written into an emptied staging log if the chunk starts at run_first;
  // otherwise ignored. Returns the staged run either way (not durable: see
  // ApplyStagedSnapshot). Thread-safe (staging_mu_); not the writer's methods.
  Result<StagedRange> Stage(raft::Index run_first, const std::vector<raft::Entry>& entries);
  StagedRange Staged() const;
  // Whether the staged run holds [first, index] and its entry at index has `term`.
  bool StagedCovers(raft::Index first, raft::Index index, raft::Term term) const;
  // ApplySnapshot with the staged entries [first, snapshot index] as the retained ones,
  // copied one at a time; then the staging log is emptied. kInvalidArgument (and nothing
  // changed) unless StagedCovers. Writer thread.
  Status ApplyStagedSnapshot(const raft::Snapshot& snapshot, raft::Index first);
  // RestoreRetained from the staging log (a crash in ApplyStagedSnapshot); kCorruption if
  // it no longer holds them. Writer thread.
  Status RestoreRetainedFromStaging(raft::Index first);
  // Empties the staging log (durably). Thread-safe (staging_mu_).
  Status ClearStaging();

  static std::string EncodeEntryPayload(const raft::Entry& e);
  static Result<raft::Entry> DecodeEntryPayload(uint64_t term, uint64_t index,
                                                std::string_view payload);
  static std::string EncodeSnapshotEnvelope(const raft::ConfState& cs, std::string_view data);
  static Status DecodeSnapshotEnvelope(std::string_view in, raft::ConfState* cs, std::string* data);

 private:
  RaftStorage(storage::FileSystem* fs, RaftStorageOptions options,
              std::unique_ptr<storage::Log> log);
  Status Recover();
  // Empties the log and positions it at `next` (durably).
  Status ResetLogTo(raft::Index next);
  Status SaveSnapshot(const raft::Snapshot& snapshot);
  Status FindUnsavedConfChanges();
  // Staging: REQUIRES staging_mu_ held.
  Status OpenStagingLocked();
  bool StagedCoversLocked(raft::Index first, raft::Index index, raft::Term term) const;
  Status CopyStagedLocked(raft::Index first, raft::Index last);
  Status ClearStagingLocked();
  raft::SnapshotMeta SnapshotMetaNow() const;

  storage::FileSystem* fs_;
  RaftStorageOptions options_;
  std::unique_ptr<storage::Log> log_;
  storage::SnapshotStore snapshots_;
  mutable std::mutex snapshot_mu_;     // guards snapshot_ and hard_state_ for readers
  raft::Snapshot snapshot_;            // newest; meta.index 0 when none
  raft::HardState hard_state_;         // as last given to SetHardState
  raft::HardState stored_hard_state_;  // as last written to disk
  // Conf-change entries in the log above stored_hard_state_.commit (writer only).
  std::set<raft::Index> conf_change_indexes_;
  mutable std::mutex staging_mu_;
  std::unique_ptr<storage::Log> staging_;  // guarded by staging_mu_
};

}  // namespace cmq::cluster
