#pragma once
// The term of every entry of a log, kept as runs: (first index of the run, term). Raft terms
// never decrease along a log and change rarely, so this costs a few bytes per term change,
// not per entry, and TermAt needs no disk read. Not thread-safe (the log guards it).

#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/assert.h"

namespace cmq::storage {

class TermRuns {
 public:
  // Records that entry index has term. REQUIRES: index follows the last recorded entry (or
  // nothing is recorded) and term >= last_term().
  void Append(uint64_t index, uint64_t term) {
    CMQ_ASSERT(term >= last_term(), "log terms must not decrease");
    if (runs_.empty() || runs_.back().term != term) runs_.push_back(Run{index, term});
  }
  // REQUIRES: index is at or after the first recorded entry and at most the last one.
  uint64_t TermAt(uint64_t index) const {
    auto it = std::upper_bound(runs_.begin(), runs_.end(), index,
                               [](uint64_t i, const Run& r) { return i < r.first_index; });
    CMQ_ASSERT(it != runs_.begin(), "TermAt before the first recorded entry");
    return std::prev(it)->term;
  }
  uint64_t last_term() const { return runs_.empty() ? 0 : runs_.back().term; }
  // Forgets entries >= from.
  void TruncateSuffix(uint64_t from) {
    while (!runs_.empty() && runs_.back().first_index >= from) runs_.pop_back();
  }
  // Forgets runs that end before first (the new first entry).
  void TruncatePrefix(uint64_t first) {
    size_t drop = 0;
    while (drop + 1 < runs_.size() && runs_[drop + 1].first_index <= first) ++drop;
    runs_.erase(runs_.begin(), runs_.begin() + static_cast<std::ptrdiff_t>(drop));
  }
  void Clear() { runs_.clear(); }

 private:
  struct Run {
    uint64_t first_index;
    uint64_t term;
  };
  std::vector<Run> runs_;
};

}  // namespace cmq::storage
