#include "cluster/raft_storage.h"

#include <algorithm>

#include "common/assert.h"
#include "common/encoding.h"
#include "raft/codec.h"

namespace cmq::cluster {
namespace {

Status Compacted() {
  return Status(raft::kStorageCompacted, "raft storage: compacted");
}
Status Unavailable() {
  return Status(raft::kStorageUnavailable, "raft storage: unavailable");
}

storage::HardState ToStorage(const raft::HardState& hs) {
  return storage::HardState{hs.term, hs.vote, hs.commit};
}
raft::HardState FromStorage(const storage::HardState& hs) {
  return raft::HardState{hs.term, hs.vote, hs.commit};
}

}  // namespace

std::string RaftStorage::EncodeEntryPayload(const raft::Entry& e) {
  std::string out;
  out.reserve(1 + e.data_size());
  out.push_back(static_cast<char>(e.type));
  out.append(e.data_view());
  return out;
}

Result<raft::Entry> RaftStorage::DecodeEntryPayload(uint64_t term, uint64_t index,
                                                    std::string_view payload) {
  if (payload.empty()) {
    return Status(ErrorCode::kCorruption, "raft entry " + std::to_string(index) + ": no type");
  }
  auto type = static_cast<uint8_t>(payload[0]);
  if (type > static_cast<uint8_t>(raft::EntryType::kConfChange)) {
    return Status(ErrorCode::kCorruption,
                  "raft entry " + std::to_string(index) + ": unknown type " + std::to_string(type));
  }
  raft::Entry e;
  e.term = term;
  e.index = index;
  e.type = static_cast<raft::EntryType>(type);
  if (payload.size() > 1) e.data = raft::MakePayload(payload.substr(1));
  return e;
}

std::string RaftStorage::EncodeSnapshotEnvelope(const raft::ConfState& cs, std::string_view data) {
  std::string out;
  out.push_back(static_cast<char>(kRaftSnapshotEnvelopeVersion));
  raft::EncodeConfState(cs, out);
  out.append(data);
  return out;
}

Status RaftStorage::DecodeSnapshotEnvelope(std::string_view in, raft::ConfState* cs,
                                           std::string* data) {
  if (in.empty() || static_cast<uint8_t>(in[0]) != kRaftSnapshotEnvelopeVersion) {
    return Status(ErrorCode::kCorruption, "raft snapshot: unknown envelope version");
  }
  Reader r(in.substr(1));
  if (!raft::DecodeConfState(r, *cs)) {
    return Status(ErrorCode::kCorruption, "raft snapshot: bad conf state");
  }
  data->assign(r.rest());
  return Status::Ok();
}

RaftStorage::RaftStorage(storage::FileSystem* fs, RaftStorageOptions options,
                         std::unique_ptr<storage::Log> log)
    : fs_(fs),
      options_(std::move(options)),
      log_(std::move(log)),
      snapshots_(fs, options_.dir + "/snapshots", options_.snapshots_kept) {}

Result<std::unique_ptr<RaftStorage>> RaftStorage::Open(storage::FileSystem* fs,
                                                       RaftStorageOptions options) {
  CMQ_RETURN_IF_ERROR(fs->CreateDir(options.dir));
  storage::LogOptions log_options;
  log_options.dir = options.dir + "/log";
  log_options.segment_bytes = options.segment_bytes;
  auto log = storage::Log::Open(fs, log_options);
  if (!log.ok()) return log.status();
  std::unique_ptr<RaftStorage> rs(new RaftStorage(fs, std::move(options), std::move(*log)));
  CMQ_RETURN_IF_ERROR(rs->Recover());
  {
    std::lock_guard lock(rs->staging_mu_);
    CMQ_RETURN_IF_ERROR(rs->OpenStagingLocked());
  }
  return rs;
}

Status RaftStorage::Recover() {
  CMQ_RETURN_IF_ERROR(snapshots_.Open());
  auto newest = snapshots_.LoadNewest();
  if (!newest.ok()) return newest.status();
  if (newest->has_value()) {
    const storage::Snapshot& stored = **newest;
    std::string data;
    CMQ_RETURN_IF_ERROR(DecodeSnapshotEnvelope(stored.data, &snapshot_.meta.conf_state, &data));
    snapshot_.meta.index = stored.meta.index;
    snapshot_.meta.term = stored.meta.term;
    snapshot_.data = raft::MakePayload(data);
  }
  hard_state_ = FromStorage(log_->LoadHardState());
  stored_hard_state_ = hard_state_;
  const raft::Index s = snapshot_.meta.index;
  const raft::Index first = log_->FirstIndex();
  const raft::Index last = log_->LastIndex();
  const bool empty = last < first;
  if (s == 0) {
    if (!empty && first != 1) {
      return Status(ErrorCode::kCorruption,
                    "raft log starts at " + std::to_string(first) + " without a snapshot");
    }
    return FindUnsavedConfChanges();
  }
  if (empty) {
    // Positioned anywhere (a crash in TruncatePrefix may leave it at 1): the next append
    // at s + 1 is accepted by an empty log wherever it stands.
    if (first <= s + 1) return FindUnsavedConfChanges();
    return Status(ErrorCode::kCorruption, "raft log is positioned past its snapshot");
  }
  if (first > s + 1) {
    return Status(ErrorCode::kCorruption, "raft log starts at " + std::to_string(first) +
                                              " after its snapshot at " + std::to_string(s));
  }
  const bool continues = last >= s && (first == s + 1 || log_->TermAt(s) == snapshot_.meta.term);
  if (!continues) return ResetLogTo(s + 1);
  return FindUnsavedConfChanges();
}

// The conf changes above the durable commit index: committing one must write the hard
// state at once (see SetHardState).
Status RaftStorage::FindUnsavedConfChanges() {
  conf_change_indexes_.clear();
  const raft::Index from = std::max(log_->FirstIndex(), stored_hard_state_.commit + 1);
  for (raft::Index i = from; i <= log_->LastIndex() && log_->LastIndex() >= log_->FirstIndex();
       ++i) {
    auto type = log_->ReadPayloadRange(i, 0, 1);
    if (!type.ok()) return type.status();
    if (static_cast<uint8_t>((*type)[0]) == static_cast<uint8_t>(raft::EntryType::kConfChange)) {
      conf_change_indexes_.insert(i);
    }
  }
  return Status::Ok();
}

Status RaftStorage::ResetLogTo(raft::Index next) {
  if (log_->LastIndex() >= log_->FirstIndex()) {
    CMQ_RETURN_IF_ERROR(log_->TruncateSuffix(log_->FirstIndex()));
    conf_change_indexes_.clear();
  }
  // Positions the now empty log at `next` (a no-op if it already stands there).
  CMQ_RETURN_IF_ERROR(log_->TruncatePrefix(next));
  CMQ_ASSERT(log_->LastIndex() < log_->FirstIndex(), "reset left entries in the log");
  return Status::Ok();
}

Result<raft::InitialState> RaftStorage::GetInitialState() const {
  std::lock_guard lock(snapshot_mu_);
  return raft::InitialState{hard_state_, snapshot_.meta.conf_state};
}

raft::SnapshotMeta RaftStorage::SnapshotMetaNow() const {
  std::lock_guard lock(snapshot_mu_);
  return snapshot_.meta;
}

raft::Index RaftStorage::FirstIndex() const {
  const raft::Index s = SnapshotMetaNow().index;
  if (s > 0) return s + 1;
  return 1;
}

raft::Index RaftStorage::LastIndex() const {
  const raft::Index s = SnapshotMetaNow().index;
  if (log_->LastIndex() < log_->FirstIndex()) return s;  // empty
  return std::max(s, log_->LastIndex());
}

Result<raft::Term> RaftStorage::TermAt(raft::Index i) const {
  const raft::SnapshotMeta meta = SnapshotMetaNow();
  const raft::Index s = meta.index;
  if (i < s) return Compacted();
  if (i == s) return meta.term;
  if (i > LastIndex()) return Unavailable();
  return log_->TermAt(i);
}

Result<std::vector<raft::Entry>> RaftStorage::Entries(raft::Index lo, raft::Index hi,
                                                      uint64_t max_bytes) const {
  CMQ_ASSERT(lo <= hi, "RaftStorage::Entries: lo > hi");
  if (lo < FirstIndex()) return Compacted();
  if (hi > LastIndex() + 1) return Unavailable();
  std::vector<raft::Entry> out;
  uint64_t bytes = 0;
  for (raft::Index i = lo; i < hi; ++i) {
    auto record = log_->Read(i);
    if (!record.ok()) return record.status();
    auto e = DecodeEntryPayload(record->term, record->index, record->payload);
    if (!e.ok()) return e.status();
    if (!out.empty() && bytes + e->data_size() > max_bytes) break;
    bytes += e->data_size();
    out.push_back(std::move(*e));
  }
  return out;
}

Result<raft::Snapshot> RaftStorage::GetSnapshot() const {
  std::lock_guard lock(snapshot_mu_);
  return snapshot_;
}

Status RaftStorage::Append(const std::vector<raft::Entry>& entries) {
  for (const raft::Entry& e : entries) {
    if (e.index <= SnapshotMetaNow().index) continue;  // covered by the snapshot
    const raft::Index last = LastIndex();
    if (e.index > last + 1) {
      return Status(ErrorCode::kInvalidArgument, "raft append of " + std::to_string(e.index) +
                                                     " leaves a gap after " + std::to_string(last));
    }
    if (e.index <= last) {
      if (log_->TermAt(e.index) == e.term) continue;  // already there (same term: same entry)
      CMQ_RETURN_IF_ERROR(log_->TruncateSuffix(e.index));
      conf_change_indexes_.erase(conf_change_indexes_.lower_bound(e.index),
                                 conf_change_indexes_.end());
    }
    if (e.type == raft::EntryType::kConfChange) conf_change_indexes_.insert(e.index);
    CMQ_RETURN_IF_ERROR(log_->Append(e.term, e.index, EncodeEntryPayload(e)));
  }
  return Status::Ok();
}

Status RaftStorage::Sync() {
  return log_->Sync();
}

Status RaftStorage::SetHardState(const raft::HardState& hs) {
  CMQ_ASSERT(hs.commit <= LastIndex(), "hard state commits past the last entry");
  if (hs.term != stored_hard_state_.term || hs.vote != stored_hard_state_.vote ||
      (!conf_change_indexes_.empty() && *conf_change_indexes_.begin() <= hs.commit)) {
    CMQ_RETURN_IF_ERROR(log_->SaveHardState(ToStorage(hs)));
    stored_hard_state_ = hs;
    conf_change_indexes_.erase(conf_change_indexes_.begin(),
                               conf_change_indexes_.upper_bound(hs.commit));
  }
  std::lock_guard lock(snapshot_mu_);
  hard_state_ = hs;
  return Status::Ok();
}

Status RaftStorage::SaveSnapshot(const raft::Snapshot& snapshot) {
  std::string_view data = snapshot.data ? std::string_view(*snapshot.data) : std::string_view();
  std::string file = EncodeSnapshotEnvelope(snapshot.meta.conf_state, data);
  CMQ_RETURN_IF_ERROR(snapshots_.Save({snapshot.meta.index, snapshot.meta.term}, file));
  std::lock_guard lock(snapshot_mu_);
  snapshot_ = snapshot;
  return Status::Ok();
}

Status RaftStorage::ApplySnapshot(const raft::Snapshot& snapshot) {
  if (snapshot.meta.index <= snapshot_.meta.index) {
    return Status(ErrorCode::kInvalidArgument, "raft storage: snapshot out of date");
  }
  // The snapshot first: a crash after it leaves a log that Recover discards (it does not
  // continue the snapshot), never a log without the snapshot that replaces it.
  CMQ_RETURN_IF_ERROR(SaveSnapshot(snapshot));
  return ResetLogTo(snapshot.meta.index + 1);
}

Status RaftStorage::ApplySnapshot(const raft::Snapshot& snapshot,
                                  const std::vector<raft::Entry>& retained) {
  if (!retained.empty()) {
    const raft::Entry& last = retained.back();
    if (last.index != snapshot.meta.index || last.term != snapshot.meta.term ||
        retained.front().index + retained.size() - 1 != last.index) {
      return Status(ErrorCode::kInvalidArgument,
                    "raft storage: retained entries do not end at the snapshot");
    }
  }
  CMQ_RETURN_IF_ERROR(ApplySnapshot(snapshot));
  if (retained.empty()) return Status::Ok();
  // The log is empty now, so it takes the first retained index wherever it stood; a crash
  // before the sync leaves a log that Recover keeps only if it reaches the snapshot.
  for (const raft::Entry& e : retained) {
    CMQ_RETURN_IF_ERROR(log_->Append(e.term, e.index, EncodeEntryPayload(e)));
  }
  return log_->Sync();
}

Status RaftStorage::RestoreRetained(const std::vector<raft::Entry>& retained) {
  if (retained.empty()) return Status::Ok();
  const raft::Index s = SnapshotMetaNow().index;
  if (retained.back().index != s) {
    return Status(ErrorCode::kInvalidArgument,
                  "raft storage: retained entries do not end at the snapshot");
  }
  // Entries after the snapshot are appended only once the retained ones were durable, so a
  // log that lacks them holds nothing above the snapshot either.
  if (log_->LastIndex() >= log_->FirstIndex() && log_->LastIndex() > s) {
    return Status(
        ErrorCode::kInvalidArgument,
        "raft storage: log holds entries past a snapshot whose retained entries are missing");
  }
  CMQ_RETURN_IF_ERROR(ResetLogTo(retained.front().index));
  for (const raft::Entry& e : retained) {
    CMQ_RETURN_IF_ERROR(log_->Append(e.term, e.index, EncodeEntryPayload(e)));
  }
  return log_->Sync();
}

Status RaftStorage::CreateSnapshot(raft::Index index, const raft::ConfState& conf_state,
                                   raft::Payload data) {
  if (index < FirstIndex() || index > LastIndex()) {
    return Status(ErrorCode::kInvalidArgument,
                  "raft storage: snapshot at " + std::to_string(index) + " outside the log");
  }
  raft::Snapshot snapshot;
  snapshot.meta.index = index;
  snapshot.meta.term = log_->TermAt(index);
  snapshot.meta.conf_state = conf_state;
  snapshot.data = std::move(data);
  CMQ_ASSERT(snapshot.meta.term != 0, "snapshot of an entry without a term");
  return SaveSnapshot(snapshot);
}

Status RaftStorage::Compact(raft::Index before) {
  auto detached = CompactDetached(before);
  if (!detached.ok()) return detached.status();
  return log_->RemoveDetachedFiles(*detached);
}

Result<std::vector<std::string>> RaftStorage::CompactDetached(raft::Index before) {
  if (before > FirstIndex()) {
    return Status(ErrorCode::kInvalidArgument, "raft storage: compacting past the snapshot at " +
                                                   std::to_string(SnapshotMetaNow().index));
  }
  return log_->DetachPrefix(before);
}

Status RaftStorage::RemoveDetached(const std::vector<std::string>& paths) {
  return log_->RemoveDetachedFiles(paths);
}

Result<raft::Entry> RaftStorage::ReadEntry(raft::Index i) const {
  if (i < log_->FirstIndex() || i > log_->LastIndex()) {
    return Status(ErrorCode::kNotFound, "raft storage: entry " + std::to_string(i) + " not held");
  }
  auto record = log_->Read(i);
  if (!record.ok()) return record.status();
  return DecodeEntryPayload(record->term, record->index, record->payload);
}

Result<std::string> RaftStorage::ReadData(raft::Index i) const {
  if (i < log_->FirstIndex() || i > log_->LastIndex()) {
    return Status(ErrorCode::kNotFound, "raft storage: entry " + std::to_string(i) + " not held");
  }
  auto record = log_->Read(i);
  if (!record.ok()) return record.status();
  if (record->payload.empty()) return Status(ErrorCode::kCorruption, "raft entry without type");
  return record->payload.substr(1);
}

Result<std::string> RaftStorage::ReadDataRange(raft::Index i, uint32_t offset,
                                               uint32_t length) const {
  if (i < log_->FirstIndex() || i > log_->LastIndex()) {
    return Status(ErrorCode::kNotFound, "raft storage: entry " + std::to_string(i) + " not held");
  }
  return log_->ReadPayloadRange(i, offset + 1, length);  // + 1: the entry type byte
}

}  // namespace cmq::cluster
