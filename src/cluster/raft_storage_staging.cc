// The staging log of RaftStorage (raft_storage.h "Staging"): where a follower collects the
// retained entries of a snapshot streamed to it in chunks (cluster/retained_stream.h), so
// that neither side ever holds the whole run in memory.

#include <algorithm>

#include "cluster/raft_storage.h"
#include "common/assert.h"

namespace cmq::cluster {

Status RaftStorage::OpenStagingLocked() {
  staging_.reset();
  storage::LogOptions options;
  options.dir = options_.dir + "/staging";
  options.segment_bytes = options_.segment_bytes;
  auto log = storage::Log::Open(fs_, options);
  if (!log.ok()) return log.status();
  staging_ = std::move(log).value();
  return Status::Ok();
}

RaftStorage::StagedRange RaftStorage::Staged() const {
  std::lock_guard lock(staging_mu_);
  if (!staging_) return {};
  return {staging_->FirstIndex(), staging_->LastIndex() + 1};
}

bool RaftStorage::StagedCovers(raft::Index first, raft::Index index, raft::Term term) const {
  std::lock_guard lock(staging_mu_);
  return StagedCoversLocked(first, index, term);
}

bool RaftStorage::StagedCoversLocked(raft::Index first, raft::Index index, raft::Term term) const {
  return staging_ && first <= index && staging_->FirstIndex() <= first &&
         staging_->LastIndex() >= index && staging_->TermAt(index) == term;
}

Result<RaftStorage::StagedRange> RaftStorage::Stage(raft::Index run_first,
                                                    const std::vector<raft::Entry>& entries) {
  std::lock_guard lock(staging_mu_);
  // While chunks arrive nothing staged is relied on yet, so a failed staging log (a full
  // disk, EIO) is simply opened again: its recovery keeps what is intact.
  if (!staging_ || staging_->failed()) CMQ_RETURN_IF_ERROR(OpenStagingLocked());
  auto range = [this] { return StagedRange{staging_->FirstIndex(), staging_->LastIndex() + 1}; };
  if (entries.empty()) return range();
  const raft::Index chunk_first = entries.front().index;
  const raft::Index first = staging_->FirstIndex();
  const raft::Index next = staging_->LastIndex() + 1;
  const bool continues =
      next > first && first <= run_first && chunk_first >= first && chunk_first <= next;
  if (!continues) {
    if (chunk_first != run_first) return range();  // the leader starts over at run_first
    CMQ_RETURN_IF_ERROR(ClearStagingLocked());     // an empty log takes any first index
  }
  for (const raft::Entry& e : entries) {
    if (e.index < staging_->LastIndex() + 1 && staging_->LastIndex() >= staging_->FirstIndex()) {
      continue;  // staged already (committed entries are the same from every leader)
    }
    CMQ_RETURN_IF_ERROR(staging_->Append(e.term, e.index, EncodeEntryPayload(e)));
  }
  return range();
}

Status RaftStorage::ClearStaging() {
  std::lock_guard lock(staging_mu_);
  if (!staging_ || staging_->failed()) CMQ_RETURN_IF_ERROR(OpenStagingLocked());
  return ClearStagingLocked();
}

Status RaftStorage::ClearStagingLocked() {
  if (staging_->LastIndex() < staging_->FirstIndex()) return Status::Ok();
  // Past the last entry: every segment goes, and the emptied log takes any next index.
  return staging_->TruncatePrefix(staging_->LastIndex() + 1);
}

Status RaftStorage::CopyStagedLocked(raft::Index first, raft::Index last) {
  for (raft::Index i = first; i <= last; ++i) {
    auto e = staging_->Read(i);
    if (!e.ok()) return e.status();
    CMQ_RETURN_IF_ERROR(log_->Append(e->term, e->index, e->payload));
  }
  return log_->Sync();
}

Status RaftStorage::ApplyStagedSnapshot(const raft::Snapshot& snapshot, raft::Index first) {
  const raft::Index s = snapshot.meta.index;
  std::lock_guard lock(staging_mu_);
  if (!StagedCoversLocked(first, s, snapshot.meta.term)) {
    return Status(ErrorCode::kInvalidArgument, "raft storage: the staged entries do not hold [" +
                                                   std::to_string(first) + ", " +
                                                   std::to_string(s) + "]");
  }
  // Durable in staging before the snapshot names them: a crash from here on finds them.
  CMQ_RETURN_IF_ERROR(staging_->Sync());
  CMQ_RETURN_IF_ERROR(ApplySnapshot(snapshot));
  // The log is empty now, so it takes the first retained index wherever it stood.
  CMQ_RETURN_IF_ERROR(CopyStagedLocked(first, s));
  return ClearStagingLocked();
}

Status RaftStorage::RestoreRetainedFromStaging(raft::Index first) {
  const raft::SnapshotMeta meta = SnapshotMetaNow();
  std::lock_guard lock(staging_mu_);
  if (!StagedCoversLocked(first, meta.index, meta.term)) {
    return Status(ErrorCode::kCorruption,
                  "raft storage: the snapshot at " + std::to_string(meta.index) +
                      " needs staged log entries from " + std::to_string(first) +
                      " that neither the log nor the staging log holds");
  }
  // As RestoreRetained: entries after the snapshot follow only durable retained ones.
  if (log_->LastIndex() >= log_->FirstIndex() && log_->LastIndex() > meta.index) {
    return Status(ErrorCode::kInvalidArgument,
                  "raft storage: log holds entries past a snapshot whose retained entries "
                  "are missing");
  }
  CMQ_RETURN_IF_ERROR(ResetLogTo(first));
  CMQ_RETURN_IF_ERROR(CopyStagedLocked(first, meta.index));
  return ClearStagingLocked();
}

}  // namespace cmq::cluster
