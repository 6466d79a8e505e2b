// TruncateSuffix and TruncatePrefix. Both publish the new in-memory state first (readers
// then stop finding the removed entries) and change the files after, in an order that
// leaves a contiguous log on disk if the process crashes at any point in between.

#include <mutex>

#include "storage/segment_file.h"
#include "storage/segmented_log.h"

namespace cmq::storage {

// Removes files in the given order, then syncs the directory so that they stay removed.
// A failure is sticky here (the log's own files), unlike RemoveDetachedFiles.
Status SegmentedLog::RemoveSegmentFiles(const std::vector<std::string>& paths) {
  Status st = RemoveDetachedFiles(paths);
  if (!st.ok()) return Fail(st);
  return Status::Ok();
}

Status SegmentedLog::TruncateSuffix(uint64_t from) {
  CMQ_RETURN_IF_ERROR(CheckNotFailed());
  if (from == 0) return Status(ErrorCode::kInvalidArgument, "TruncateSuffix(0)");
  if (from > LastIndexUnlocked()) return Status::Ok();
  if (from < FirstIndexUnlocked()) {
    return Status(ErrorCode::kInvalidArgument, "TruncateSuffix(" + std::to_string(from) +
                                                   ") before the first index " +
                                                   std::to_string(FirstIndexUnlocked()));
  }
  CMQ_RETURN_IF_ERROR(CloseWriter());
  // The segment holding `from` is cut at from's record, unless from is its first entry and
  // an earlier segment exists: then it goes whole. The first segment is kept (perhaps
  // empty), so its name keeps the log's position.
  size_t holder = SegmentOf(from);
  bool drop_holder = from == segments_[holder].base_index && holder > 0;
  size_t first_removed = drop_holder ? holder : holder + 1;
  std::vector<std::string> removed;  // newest first: a crash midway leaves a prefix
  std::string cut_path;
  uint64_t cut_offset = 0;
  {
    std::unique_lock lock(mu_);
    ++truncation_generation_;  // before any byte changes: see the seqlock in the header
    for (size_t i = segments_.size(); i-- > first_removed;) removed.push_back(segments_[i].path);
    segments_.resize(first_removed);
    if (!drop_holder) {
      Segment& segment = segments_[holder];
      size_t kept = from - segment.base_index;
      cut_offset = segment.offsets[kept];
      segment.offsets.resize(kept);
      segment.end_offset = cut_offset;
      cut_path = segment.path;
    }
    terms_.TruncateSuffix(from);
  }
  // Later segments go first, durably, so that a crash never leaves them behind a cut one.
  CMQ_RETURN_IF_ERROR(RemoveSegmentFiles(removed));
  if (!cut_path.empty()) {
    Status st = fs_->Truncate(cut_path, cut_offset);
    if (!st.ok()) return Fail(st);
  }
  return Status::Ok();
}

Status SegmentedLog::TruncatePrefix(uint64_t before) {
  auto detached = DetachPrefix(before);
  if (!detached.ok()) return detached.status();
  return RemoveSegmentFiles(*detached);
}

Result<std::vector<std::string>> SegmentedLog::DetachPrefix(uint64_t before) {
  CMQ_RETURN_IF_ERROR(CheckNotFailed());
  if (before <= FirstIndexUnlocked()) return std::vector<std::string>{};
  // Every entry goes (a snapshot covers the whole log): the log becomes one empty segment
  // named `before`, so that FirstIndex() == before and LastIndex() == before - 1. Its files
  // go at once: the new segment may take the name of one of them.
  bool drop_all = LastIndexUnlocked() < before;
  size_t dropped = 0;
  while (dropped < segments_.size() && segments_[dropped].next_index() <= before) ++dropped;
  CMQ_ASSERT(drop_all == (dropped == segments_.size()), "only the last segment holds LastIndex");
  std::vector<std::string> removed;  // oldest first: a crash midway leaves a suffix
  if (drop_all) {
    CMQ_RETURN_IF_ERROR(CloseWriter());
    unsynced_ = false;  // nothing left that could need a sync
  }
  {
    std::unique_lock lock(mu_);
    for (size_t i = 0; i < dropped; ++i) removed.push_back(segments_[i].path);
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(dropped));
    if (drop_all) {
      terms_.Clear();
    } else {
      terms_.TruncatePrefix(FirstIndexUnlocked());
    }
  }
  if (!drop_all) return removed;
  CMQ_RETURN_IF_ERROR(RemoveSegmentFiles(removed));
  CMQ_RETURN_IF_ERROR(StartSegment(before));
  return std::vector<std::string>{};
}

Status SegmentedLog::RemoveDetachedFiles(const std::vector<std::string>& paths) {
  if (paths.empty()) return Status::Ok();
  for (const std::string& path : paths) CMQ_RETURN_IF_ERROR(fs_->Remove(path));
  return fs_->SyncDir(options_.dir);
}

}  // namespace cmq::storage
