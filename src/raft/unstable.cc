#include "raft/unstable.h"

#include <algorithm>

#include "common/assert.h"

namespace cmq::raft {

std::vector<Entry> Unstable::NextEntries() const {
  Index start = std::max(in_progress_end_, offset_);
  return Slice(start, offset_ + entries_.size());
}

const Snapshot* Unstable::NextSnapshot() const {
  if (!snapshot_ || snapshot_in_progress_) return nullptr;
  return &*snapshot_;
}

void Unstable::AcceptInProgress() {
  in_progress_end_ = offset_ + entries_.size();
  if (snapshot_) snapshot_in_progress_ = true;
}

void Unstable::StableTo(Index i, Term t) {
  auto term = MaybeTerm(i);
  if (!term || *term != t || i < offset_) return;  // replaced, or covered by a snapshot
  size_t n = i + 1 - offset_;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(n));
  offset_ = i + 1;
  in_progress_end_ = std::max(in_progress_end_, offset_);
}

void Unstable::StableSnapTo(Index i) {
  if (snapshot_ && snapshot_->meta.index == i) {
    snapshot_.reset();
    snapshot_in_progress_ = false;
  }
}

void Unstable::Restore(const Snapshot& s) {
  offset_ = s.meta.index + 1;
  in_progress_end_ = offset_;
  entries_.clear();
  snapshot_ = s;
  snapshot_in_progress_ = false;
}

void Unstable::TruncateAndAppend(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  Index from = entries.front().index;
  Index end = offset_ + entries_.size();
  if (from == end) {
    // Plain append.
  } else if (from <= offset_) {
    // Replaces everything unstable; the stable log below `from` is the caller's concern.
    offset_ = from;
    entries_.clear();
  } else {
    CMQ_ASSERT(from < end, "unstable append leaves a gap");
    entries_.resize(from - offset_);
  }
  in_progress_end_ = std::min(in_progress_end_, from);
  entries_.insert(entries_.end(), entries.begin(), entries.end());
}

std::vector<Entry> Unstable::Slice(Index lo, Index hi) const {
  CMQ_ASSERT(offset_ <= lo && lo <= hi && hi <= offset_ + entries_.size(),
             "unstable slice out of bounds");
  return std::vector<Entry>(entries_.begin() + static_cast<std::ptrdiff_t>(lo - offset_),
                            entries_.begin() + static_cast<std::ptrdiff_t>(hi - offset_));
}

}  // namespace cmq::raft
