#include "raft/raft_log.h"

#include <algorithm>
#include <limits>

namespace cmq::raft {
namespace {
constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

// Storage errors other than compacted/unavailable mean the disk layer is broken.
void AssertExpected(const Status& st) {
  CMQ_ASSERT(st.code() == kStorageCompacted || st.code() == kStorageUnavailable,
             "unexpected raft storage error");
}
}  // namespace

RaftLog::RaftLog(const Storage* storage, uint64_t max_applying_bytes)
    : storage_(storage),
      unstable_(storage->LastIndex() + 1),
      max_applying_bytes_(max_applying_bytes) {
  Index first = storage->FirstIndex();
  committed_ = first - 1;
  applying_ = first - 1;
  applied_ = first - 1;
}

void RaftLog::SetApplied(Index i) {
  CMQ_ASSERT(i <= committed_ && i + 1 >= storage_->FirstIndex(), "applied out of range");
  applied_ = applying_ = i;
}

Term RaftLog::LastTerm() const {
  auto t = TermAt(LastIndex());
  CMQ_ASSERT(t.ok(), "the last entry has no term");
  return *t;
}

Result<Term> RaftLog::SlowTermAt(Index i) const {
  if (auto t = unstable_.MaybeTerm(i)) return *t;
  if (i + 1 < FirstIndex()) return Status(kStorageCompacted, "raft log: compacted");
  if (i > LastIndex()) return Status(kStorageUnavailable, "raft log: past the end");
  auto t = storage_->TermAt(i);
  if (!t.ok()) AssertExpected(t.status());
  return t;
}

bool RaftLog::IsUpToDate(Index last_index, Term last_term) const {
  Term ours = LastTerm();
  return last_term > ours || (last_term == ours && last_index >= LastIndex());
}

std::optional<Index> RaftLog::MaybeAppend(Index index, Term log_term, Index commit,
                                          const std::vector<Entry>& entries) {
  if (!MatchTerm(index, log_term)) return std::nullopt;
  Index last_new = index + entries.size();
  Index conflict = FindConflict(entries);
  if (conflict != 0) {
    CMQ_ASSERT(conflict > committed_, "a leader tried to overwrite a committed entry");
    auto first = entries.begin() + static_cast<std::ptrdiff_t>(conflict - (index + 1));
    Append(std::vector<Entry>(first, entries.end()));
  }
  CommitTo(std::min(commit, last_new));
  return last_new;
}

Index RaftLog::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return LastIndex();
  CMQ_ASSERT(entries.front().index > committed_, "append below the commit index");
  unstable_.TruncateAndAppend(entries);
  return LastIndex();
}

Index RaftLog::FindConflict(const std::vector<Entry>& entries) const {
  const Index last = LastIndex();
  for (const Entry& e : entries) {
    // Past our last index the entry is missing: the usual case of a fresh append.
    if (e.index > last || !MatchTerm(e.index, e.term)) return e.index;
  }
  return 0;
}

std::pair<Index, Term> RaftLog::FindConflictByTerm(Index index, Term term) const {
  for (; index > 0; --index) {
    auto t = TermAt(index);
    if (!t.ok()) return {index, 0};  // compacted or unknown: stop here
    if (*t <= term) return {index, *t};
  }
  return {0, 0};
}

Result<std::vector<Entry>> RaftLog::Slice(Index lo, Index hi, uint64_t max_bytes) const {
  CMQ_ASSERT(lo <= hi, "slice lo > hi");
  if (lo < FirstIndex()) return Status(kStorageCompacted, "raft log: compacted");
  CMQ_ASSERT(hi <= LastIndex() + 1, "slice past the end of the log");
  std::vector<Entry> out;
  Index split = std::min(hi, std::max(lo, unstable_.offset()));
  if (lo < split) {
    auto stored = storage_->Entries(lo, split, max_bytes);
    if (!stored.ok()) {
      AssertExpected(stored.status());
      return stored.status();
    }
    out = std::move(*stored);
    if (out.size() < split - lo) return out;  // hit max_bytes inside storage
  }
  uint64_t bytes = 0;
  for (const Entry& e : out) bytes += e.data_size();
  if (split < hi) {
    for (Entry& e : unstable_.Slice(split, hi)) {
      if (!out.empty() && bytes + e.data_size() > max_bytes) break;
      bytes += e.data_size();
      out.push_back(std::move(e));
    }
  }
  return out;
}

Result<std::vector<Entry>> RaftLog::EntriesFrom(Index lo, uint64_t max_bytes) const {
  if (lo > LastIndex()) return std::vector<Entry>{};
  return Slice(lo, LastIndex() + 1, max_bytes);
}

void RaftLog::CommitTo(Index commit) {
  if (commit <= committed_) return;  // never decreases
  CMQ_ASSERT(commit <= LastIndex(), "commit index past the last index");
  committed_ = commit;
}

bool RaftLog::MaybeCommit(Index max_index, Term term) {
  if (max_index > committed_ && TermOrZero(max_index) == term) {
    CommitTo(max_index);
    return true;
  }
  return false;
}

Index RaftLog::StableLastIndex() const {
  // Storage entries at or above the unstable offset are stale (about to be overwritten).
  if (unstable_.snapshot() || !unstable_.entries().empty()) {
    return std::min(storage_->LastIndex(), unstable_.offset() - 1);
  }
  return storage_->LastIndex();
}

bool RaftLog::HasNextCommittedEntries() const {
  if (HasPendingSnapshot()) return false;
  return NextApplyIndex() <= std::min(committed_, StableLastIndex());
}

std::vector<Entry> RaftLog::NextCommittedEntries() const {
  return CommittedEntriesUpTo(std::min(committed_, StableLastIndex()));
}

std::vector<Entry> RaftLog::NextCommittedEntriesUnstableToo() const {
  return CommittedEntriesUpTo(committed_);
}

std::vector<Entry> RaftLog::CommittedEntriesUpTo(Index last) const {
  if (HasPendingSnapshot() || NextApplyIndex() > last) return {};
  auto entries = Slice(NextApplyIndex(), last + 1, max_applying_bytes_);
  CMQ_ASSERT(entries.ok(), "committed entries are not readable");
  return std::move(*entries);
}

void RaftLog::AcceptApplying(Index i) {
  CMQ_ASSERT(i >= applying_ && i <= committed_, "applying out of order");
  applying_ = i;
}

void RaftLog::AppliedTo(Index i) {
  CMQ_ASSERT(i >= applied_ && i <= applying_, "applied out of order");
  applied_ = i;
}

void RaftLog::AppliedSnapshot(Index i) {
  applied_ = std::max(applied_, i);
  applying_ = std::max(applying_, i);
}

void RaftLog::Restore(const Snapshot& s) {
  committed_ = s.meta.index;
  unstable_.Restore(s);
}

Result<Snapshot> RaftLog::GetSnapshot() const {
  if (unstable_.snapshot()) return *unstable_.snapshot();
  return storage_->GetSnapshot();
}

}  // namespace cmq::raft
