#pragma once
// The part of the log not yet on stable storage: an optional incoming snapshot followed by
// entries [offset, offset + entries.size()). Entries are handed to the driver for
// persisting (AcceptInProgress) and dropped from here once the driver reports them stable
// (StableTo). A conflicting append may truncate entries that are in progress; they are
// then handed out again.

#include <optional>
#include <vector>

#include "raft/types.h"

namespace cmq::raft {

class Unstable {
 public:
  explicit Unstable(Index offset) : offset_(offset), in_progress_end_(offset) {}

  // Index of the first entry the snapshot implies, if there is a snapshot.
  std::optional<Index> MaybeFirstIndex() const {
    if (snapshot_) return snapshot_->meta.index + 1;
    return std::nullopt;
  }
  std::optional<Index> MaybeLastIndex() const {
    if (!entries_.empty()) return offset_ + entries_.size() - 1;
    if (snapshot_) return snapshot_->meta.index;
    return std::nullopt;
  }
  std::optional<Term> MaybeTerm(Index i) const {
    if (i >= offset_) {
      if (i - offset_ < entries_.size()) return entries_[i - offset_].term;
      return std::nullopt;
    }
    if (snapshot_ && snapshot_->meta.index == i) return snapshot_->meta.term;
    return std::nullopt;
  }
  // Fast path of MaybeTerm: the term of i when it is one of the entries held here.
  bool HasEntry(Index i) const { return i >= offset_ && i - offset_ < entries_.size(); }
  Term EntryTerm(Index i) const { return entries_[i - offset_].term; }

  // Entries (and snapshot) not yet handed out for persisting.
  std::vector<Entry> NextEntries() const;
  const Snapshot* NextSnapshot() const;
  bool HasNextEntries() const { return in_progress_end_ < offset_ + entries_.size(); }
  // Marks everything returned by NextEntries/NextSnapshot as in progress.
  void AcceptInProgress();

  // The driver persisted entries up to (i, t). Ignored if the entry was since replaced.
  void StableTo(Index i, Term t);
  void StableSnapTo(Index i);
  void Restore(const Snapshot& s);
  void TruncateAndAppend(const std::vector<Entry>& entries);
  // Entries [lo, hi). REQUIRES: offset() <= lo <= hi <= offset() + size.
  std::vector<Entry> Slice(Index lo, Index hi) const;

  Index offset() const { return offset_; }
  const std::vector<Entry>& entries() const { return entries_; }
  const std::optional<Snapshot>& snapshot() const { return snapshot_; }

 private:
  std::optional<Snapshot> snapshot_;
  bool snapshot_in_progress_ = false;
  std::vector<Entry> entries_;
  Index offset_;
  Index in_progress_end_;  // entries below this index were handed out for persisting
};

}  // namespace cmq::raft
