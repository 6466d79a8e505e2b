#include "raft/memory_storage.h"

#include <algorithm>

namespace cmq::raft {
namespace {
Status Compacted() {
  return Status(kStorageCompacted, "raft storage: compacted");
}
Status Unavailable() {
  return Status(kStorageUnavailable, "raft storage: unavailable");
}
}  // namespace

MemoryStorage::MemoryStorage() : entries_(1) {}

Result<InitialState> MemoryStorage::GetInitialState() const {
  return InitialState{hard_state_, snapshot_.meta.conf_state};
}

Index MemoryStorage::FirstIndex() const {
  return offset() + 1;
}
Index MemoryStorage::LastIndex() const {
  return offset() + entries_.size() - 1;
}

Result<std::vector<Entry>> MemoryStorage::Entries(Index lo, Index hi, uint64_t max_bytes) const {
  CMQ_ASSERT(lo <= hi, "Entries: lo > hi");
  if (lo <= offset()) return Compacted();
  if (hi > LastIndex() + 1) return Unavailable();
  std::vector<Entry> out;
  uint64_t bytes = 0;
  for (Index i = lo; i < hi; ++i) {
    const Entry& e = entries_[i - offset()];
    if (!out.empty() && bytes + e.data_size() > max_bytes) break;
    bytes += e.data_size();
    out.push_back(e);
  }
  return out;
}

Result<Term> MemoryStorage::TermAt(Index i) const {
  if (i < offset()) return Compacted();
  if (i > LastIndex()) return Unavailable();
  return entries_[i - offset()].term;
}

Result<Snapshot> MemoryStorage::GetSnapshot() const {
  return snapshot_;
}

void MemoryStorage::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  CMQ_ASSERT(entries.front().index <= LastIndex() + 1, "MemoryStorage::Append leaves a gap");
  for (const Entry& e : entries) {
    if (e.index <= offset()) continue;    // already covered by the snapshot
    entries_.resize(e.index - offset());  // drops the conflicting suffix, if any
    entries_.push_back(e);
  }
}

Status MemoryStorage::ApplySnapshot(const Snapshot& snapshot) {
  if (snapshot.meta.index < snapshot_.meta.index) {
    return Status(ErrorCode::kInvalidArgument, "raft storage: snapshot out of date");
  }
  snapshot_ = snapshot;
  entries_.assign(1, Entry{snapshot.meta.term, snapshot.meta.index, EntryType::kNormal, nullptr});
  return Status::Ok();
}

Result<Snapshot> MemoryStorage::CreateSnapshot(Index i, const ConfState& cs, Payload data) {
  if (i <= snapshot_.meta.index) {
    return Status(ErrorCode::kInvalidArgument, "raft storage: snapshot out of date");
  }
  CMQ_ASSERT(i <= LastIndex(), "CreateSnapshot beyond the last index");
  snapshot_.meta = SnapshotMeta{i, entries_[i - offset()].term, cs};
  snapshot_.data = std::move(data);
  return snapshot_;
}

Status MemoryStorage::Compact(Index compact_index) {
  if (compact_index <= offset()) return Compacted();
  CMQ_ASSERT(compact_index <= LastIndex(), "Compact beyond the last index");
  auto first = entries_.begin() + static_cast<std::ptrdiff_t>(compact_index - offset());
  entries_.erase(entries_.begin(), first);
  entries_.front().data = nullptr;  // the dummy keeps only (index, term)
  return Status::Ok();
}

}  // namespace cmq::raft
