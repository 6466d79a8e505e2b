#include "raft/progress.h"

#include <algorithm>

#include "common/assert.h"

namespace cmq::raft {

std::string_view ProgressStateName(ProgressState s) {
  switch (s) {
    case ProgressState::kProbe:
      return "StateProbe";
    case ProgressState::kReplicate:
      return "StateReplicate";
    case ProgressState::kSnapshot:
      return "StateSnapshot";
  }
  return "?";
}

void Progress::ResetState(ProgressState s) {
  probe_sent_ = false;
  pending_snapshot_ = 0;
  state_ = s;
  inflights_.Reset();
}

void Progress::BecomeProbe() {
  // After a snapshot the follower has at least the snapshot's entries.
  if (state_ == ProgressState::kSnapshot) {
    Index pending = pending_snapshot_;
    ResetState(ProgressState::kProbe);
    next_ = std::max(match_ + 1, pending + 1);
  } else {
    ResetState(ProgressState::kProbe);
    next_ = match_ + 1;
  }
}

void Progress::BecomeReplicate() {
  ResetState(ProgressState::kReplicate);
  next_ = match_ + 1;
}

void Progress::BecomeSnapshot(Index snapshot_index) {
  ResetState(ProgressState::kSnapshot);
  pending_snapshot_ = snapshot_index;
}

bool Progress::MaybeUpdate(Index n) {
  bool updated = false;
  if (match_ < n) {
    match_ = n;
    updated = true;
    probe_sent_ = false;
  }
  next_ = std::max(next_, n + 1);
  return updated;
}

bool Progress::MaybeDecrTo(Index rejected, Index match_hint) {
  if (state_ == ProgressState::kReplicate) {
    if (rejected <= match_) return false;  // stale: we already know a later match
    next_ = match_ + 1;                    // go back to the last known match and probe from there
    return true;
  }
  if (next_ == 0 || next_ - 1 != rejected) return false;  // not the probe we sent last
  next_ = std::max(std::min(rejected, match_hint + 1), match_ + 1);
  probe_sent_ = false;
  return true;
}

void Progress::SentEntries(size_t count, uint64_t bytes, Index last_index) {
  switch (state_) {
    case ProgressState::kReplicate:
      if (count > 0) {
        next_ = last_index + 1;
        inflights_.Add(last_index, bytes);
      }
      break;
    case ProgressState::kProbe:
      probe_sent_ = true;  // one probe at a time, empty or not
      break;
    case ProgressState::kSnapshot:
      CMQ_ASSERT(false, "sending entries to a follower in snapshot state");
  }
}

bool Progress::IsPaused() const {
  switch (state_) {
    case ProgressState::kProbe:
      return probe_sent_;
    case ProgressState::kReplicate:
      return inflights_.Full();
    case ProgressState::kSnapshot:
      return true;
  }
  return true;
}

std::string Progress::Describe() const {
  std::string s = std::string(ProgressStateName(state_)) + " match=" + std::to_string(match_) +
                  " next=" + std::to_string(next_);
  if (is_learner_) s += " learner";
  if (state_ == ProgressState::kSnapshot) s += " pending_snap=" + std::to_string(pending_snapshot_);
  if (probe_sent_) s += " paused";
  if (inflights_.Count() > 0) s += " inflight=" + std::to_string(inflights_.Count());
  return s;
}

}  // namespace cmq::raft
