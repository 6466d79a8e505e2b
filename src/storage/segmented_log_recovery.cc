// Log recovery on Open (docs/storage-format.md "Recovery").

#include <algorithm>
#include <mutex>

#include "storage/hard_state_file.h"
#include "storage/segment_file.h"
#include "storage/segmented_log.h"

namespace cmq::storage {

Status SegmentedLog::Recover() {
  CMQ_RETURN_IF_ERROR(fs_->CreateDir(options_.dir));
  std::string hard_state_path = PathOf(kHardStateFileName);
  if (fs_->Exists(hard_state_path)) {
    auto data = fs_->ReadFile(hard_state_path);
    if (!data.ok()) return data.status();
    auto hs = DecodeHardState(*data);
    if (!hs.ok())
      return Status(ErrorCode::kCorruption, hard_state_path + ": " + hs.status().message());
    hard_state_ = *hs;
  }

  auto names = fs_->ListDir(options_.dir);
  if (!names.ok()) return names.status();
  std::vector<uint64_t> bases;
  for (const std::string& name : *names) {
    if (auto base = ParseSegmentFileName(name)) bases.push_back(*base);
  }
  std::sort(bases.begin(), bases.end());

  std::unique_lock lock(mu_);  // nobody else can see the log yet; taken for the invariant
  for (size_t i = 0; i < bases.size(); ++i) {
    bool last = i + 1 == bases.size();
    Segment segment;
    segment.base_index = bases[i];
    segment.path = PathOf(SegmentFileName(bases[i]));
    if (!segments_.empty() && segments_.back().next_index() != segment.base_index) {
      return Status(ErrorCode::kCorruption,
                    segment.path + " does not follow " + segments_.back().path + " (" +
                        std::to_string(segments_.back().offsets.size()) + " entries)");
    }
    auto file = fs_->OpenReadable(segment.path);
    if (!file.ok()) return file.status();
    segment.file = std::shared_ptr<const RandomAccessFile>(std::move(*file));
    auto scan = ScanSegment(*segment.file, segment.base_index, &terms_);
    if (!scan.ok())
      return Status(scan.status().code(), segment.path + ": " + scan.status().message());
    if (scan->damaged) {
      // Only the tail of the last segment may be torn: earlier segments were synced before
      // their successor was created, and a valid record after the damage was written
      // after it, so the damaged record held data that may have been acknowledged.
      if (!last || scan->valid_record_after_damage) {
        return Status(ErrorCode::kCorruption,
                      segment.path + ": " + scan->damage +
                          (last ? ", followed by valid records" : " in a sealed segment"));
      }
      CMQ_RETURN_IF_ERROR(fs_->Truncate(segment.path, scan->valid_end));
    }
    segment.offsets = std::move(scan->offsets);
    segment.end_offset = scan->valid_end;
    segments_.push_back(std::move(segment));
  }
  return Status::Ok();
}

}  // namespace cmq::storage
