#pragma once
// RaftLog: the whole log as the core sees it — the stable part in Storage, the unstable
// tail (unstable.h) — plus the commit and apply cursors:
//
//   applied <= applying <= committed <= last_index()
//   committed entries are handed out for applying only once they are stable.

#include <optional>
#include <vector>

#include "common/result.h"
#include "raft/storage.h"
#include "raft/unstable.h"

namespace cmq::raft {

class RaftLog {
 public:
  // REQUIRES: storage outlives the log.
  RaftLog(const Storage* storage, uint64_t max_applying_bytes);

  // The index accessors are inline with a fast path over the unstable tail: they run
  // several times per message (and MatchTerm once per entry in FindConflict).
  Index FirstIndex() const {
    if (const auto& snap = unstable_.snapshot()) return snap->meta.index + 1;
    return storage_->FirstIndex();
  }
  Index LastIndex() const {
    const auto& ents = unstable_.entries();
    if (!ents.empty()) return unstable_.offset() + ents.size() - 1;
    if (const auto& snap = unstable_.snapshot()) return snap->meta.index;
    return storage_->LastIndex();
  }
  Term LastTerm() const;
  // Term of entry i; compacted/unavailable errors as in Storage.
  Result<Term> TermAt(Index i) const {
    if (unstable_.HasEntry(i)) return unstable_.EntryTerm(i);
    return SlowTermAt(i);
  }
  // Term of i, or 0 when it is outside the log (compacted or past the end).
  Term TermOrZero(Index i) const {
    Term t = 0;
    return KnownTerm(i, &t) ? t : 0;
  }
  bool MatchTerm(Index i, Term t) const {
    Term ours = 0;
    return KnownTerm(i, &ours) && ours == t;
  }
  // Is a log ending at (last_index, last_term) at least as up to date as ours? (§5.4.1)
  bool IsUpToDate(Index last_index, Term last_term) const;

  // Follower append: if our entry at `index` has `log_term`, append `entries` (dropping any
  // conflicting suffix), commit up to min(commit, last new index) and return that index.
  std::optional<Index> MaybeAppend(Index index, Term log_term, Index commit,
                                   const std::vector<Entry>& entries);
  // Leader append. Returns the new last index.
  Index Append(const std::vector<Entry>& entries);
  // Index of the first entry of `entries` that conflicts with (or is missing from) our log.
  Index FindConflict(const std::vector<Entry>& entries) const;
  // The largest index <= `index` whose term is <= `term` (for fast backtracking), with its
  // term (0 if not known).
  std::pair<Index, Term> FindConflictByTerm(Index index, Term term) const;

  // Entries [lo, hi) with at most max_bytes of data (at least one entry).
  Result<std::vector<Entry>> Slice(Index lo, Index hi, uint64_t max_bytes) const;
  Result<std::vector<Entry>> EntriesFrom(Index lo, uint64_t max_bytes) const;

  void CommitTo(Index commit);
  // Commits max_index if its entry is of `term` (only current-term entries are committed by
  // counting replicas, §5.4.2). Returns whether the commit index moved.
  bool MaybeCommit(Index max_index, Term term);

  // Last index known to be on stable storage.
  Index StableLastIndex() const;
  std::vector<Entry> NextUnstableEntries() const { return unstable_.NextEntries(); }
  bool HasNextUnstableEntries() const { return unstable_.HasNextEntries(); }
  const Snapshot* NextUnstableSnapshot() const { return unstable_.NextSnapshot(); }
  void AcceptUnstable() { unstable_.AcceptInProgress(); }
  void StableTo(Index i, Term t) { unstable_.StableTo(i, t); }
  void StableSnapTo(Index i) { unstable_.StableSnapTo(i); }

  // Committed, stable entries not yet handed out for applying.
  bool HasNextCommittedEntries() const;
  std::vector<Entry> NextCommittedEntries() const;
  // Also the committed entries not yet stable here (a quorum of other nodes holds them):
  // for a leader that applies while its own disk persists them (RawNode::TakeCommittedEntries).
  std::vector<Entry> NextCommittedEntriesUnstableToo() const;
  void AcceptApplying(Index i);
  void AppliedTo(Index i);
  // The driver applied a snapshot at i: everything up to i counts as applied.
  void AppliedSnapshot(Index i);

  void Restore(const Snapshot& s);
  // The snapshot to send to a follower that needs compacted entries.
  Result<Snapshot> GetSnapshot() const;
  bool HasPendingSnapshot() const { return unstable_.snapshot().has_value(); }

  Index committed() const { return committed_; }
  Index applied() const { return applied_; }
  Index applying() const { return applying_; }
  void SetApplied(Index i);  // at construction (restart with a known applied index)

 private:
  // The entries from the next to apply up to `last` (bounded by max_applying_bytes).
  std::vector<Entry> CommittedEntriesUpTo(Index last) const;
  Index NextApplyIndex() const { return applying_ + 1; }
  Result<Term> SlowTermAt(Index i) const;
  // TermAt without building a Status: false when i is compacted or past the end.
  bool KnownTerm(Index i, Term* t) const {
    if (unstable_.HasEntry(i)) {
      *t = unstable_.EntryTerm(i);
      return true;
    }
    if (i > LastIndex()) return false;
    auto r = SlowTermAt(i);
    if (!r.ok()) return false;
    *t = *r;
    return true;
  }

  const Storage* storage_;
  Unstable unstable_;
  Index committed_ = 0;
  Index applying_ = 0;
  Index applied_ = 0;
  uint64_t max_applying_bytes_;
};

}  // namespace cmq::raft
