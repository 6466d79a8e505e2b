#include "storage/segmented_log.h"

#include <algorithm>
#include <mutex>

#include "storage/hard_state_file.h"
#include "storage/record.h"
#include "storage/segment_file.h"

namespace cmq::storage {
namespace {

// Append keeps its record buffer up to this capacity; a larger one (after a huge entry)
// is released so that one big entry does not pin its size in RAM per log.
constexpr size_t kKeptRecordBufferBytes = 4 << 20;

}  // namespace

Result<std::unique_ptr<Log>> Log::Open(FileSystem* fs, LogOptions options) {
  if (options.dir.empty()) return Status(ErrorCode::kInvalidArgument, "log dir is empty");
  if (options.segment_bytes == 0 || options.segment_bytes > kMaxSegmentBytes) {
    return Status(ErrorCode::kInvalidArgument,
                  "segment_bytes must be in 1.." + std::to_string(kMaxSegmentBytes));
  }
  auto log = std::make_unique<SegmentedLog>(fs, std::move(options));
  CMQ_RETURN_IF_ERROR(log->Recover());
  return std::unique_ptr<Log>(std::move(log));
}

SegmentedLog::SegmentedLog(FileSystem* fs, LogOptions options)
    : fs_(fs), options_(std::move(options)) {}

// Closing does not sync: what was not synced stays as durable as the disk makes it.
SegmentedLog::~SegmentedLog() {
  (void)CloseWriter();
}

std::string SegmentedLog::PathOf(const std::string& name) const {
  return options_.dir + "/" + name;
}

uint64_t SegmentedLog::FirstIndexUnlocked() const {
  return segments_.empty() ? 1 : segments_.front().base_index;
}

uint64_t SegmentedLog::LastIndexUnlocked() const {
  return segments_.empty() ? 0 : segments_.back().next_index() - 1;
}

uint64_t SegmentedLog::FirstIndex() const {
  std::shared_lock lock(mu_);
  return FirstIndexUnlocked();
}

uint64_t SegmentedLog::FirstSegmentEnd() const {
  std::shared_lock lock(mu_);
  return segments_.empty() ? 0 : segments_.front().next_index();
}

uint64_t SegmentedLog::LastIndex() const {
  std::shared_lock lock(mu_);
  return LastIndexUnlocked();
}

uint64_t SegmentedLog::TermAt(uint64_t index) const {
  std::shared_lock lock(mu_);
  if (index < FirstIndexUnlocked() || index > LastIndexUnlocked()) return 0;
  return terms_.TermAt(index);
}

size_t SegmentedLog::SegmentOf(uint64_t index) const {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), index,
                             [](uint64_t i, const Segment& s) { return i < s.base_index; });
  CMQ_ASSERT(it != segments_.begin(), "index before the first segment");
  size_t position = static_cast<size_t>(std::prev(it) - segments_.begin());
  CMQ_ASSERT(index < segments_[position].next_index(), "index past its segment");
  return position;
}

// ---- Reads ----

Result<SegmentedLog::Location> SegmentedLog::Locate(uint64_t index) const {
  std::shared_lock lock(mu_);
  if (index < FirstIndexUnlocked() || index > LastIndexUnlocked()) {
    return Status(ErrorCode::kNotFound, "log index " + std::to_string(index) + " not in [" +
                                            std::to_string(FirstIndexUnlocked()) + ", " +
                                            std::to_string(LastIndexUnlocked()) + "]");
  }
  const Segment& segment = segments_[SegmentOf(index)];
  size_t i = index - segment.base_index;
  uint64_t end = i + 1 < segment.offsets.size() ? segment.offsets[i + 1] : segment.end_offset;
  Location location{segment.file, segment.offsets[i], end - segment.offsets[i],
                    truncation_generation_};
  CMQ_ASSERT(location.size >= kRecordHeaderBytes, "record smaller than its header");
  return location;
}

bool SegmentedLog::GenerationIs(uint64_t generation) const {
  std::shared_lock lock(mu_);
  return truncation_generation_ == generation;
}

Result<LogEntry> SegmentedLog::Read(uint64_t index) const {
  for (;;) {
    auto location = Locate(index);
    if (!location.ok()) return location.status();
    std::string record;
    Status st = location->file->Read(location->offset, location->size, &record);
    if (!GenerationIs(location->generation)) continue;  // truncated meanwhile: look again
    if (!st.ok()) return st;
    std::string where = "log index " + std::to_string(index);
    if (record.size() != location->size) {
      return Status(ErrorCode::kCorruption, "short read of " + where);
    }
    RecordHeader h = DecodeRecordHeader(record.data());
    std::string_view payload = std::string_view(record).substr(kRecordHeaderBytes);
    if (h.index != index || !RecordChecksumMatches(h, payload)) {
      return Status(ErrorCode::kCorruption, "checksum or index mismatch in " + where);
    }
    record.erase(0, kRecordHeaderBytes);  // the payload, without a second allocation
    return LogEntry{h.term, h.index, std::move(record)};
  }
}

Result<std::string> SegmentedLog::ReadPayloadRange(uint64_t index, uint32_t offset,
                                                   uint32_t length) const {
  for (;;) {
    auto location = Locate(index);
    if (!location.ok()) return location.status();
    uint64_t payload_size = location->size - kRecordHeaderBytes;
    if (offset > payload_size || length > payload_size - offset) {
      return Status(ErrorCode::kInvalidArgument,
                    "range [" + std::to_string(offset) + ", +" + std::to_string(length) +
                        ") outside the payload of log index " + std::to_string(index) + " (" +
                        std::to_string(payload_size) + " bytes)");
    }
    std::string out;
    Status st = location->file->Read(location->offset + kRecordHeaderBytes + offset, length, &out);
    if (!GenerationIs(location->generation)) continue;
    if (!st.ok()) return st;
    if (out.size() != length) {
      return Status(ErrorCode::kCorruption, "short read of log index " + std::to_string(index));
    }
    return out;
  }
}

HardState SegmentedLog::LoadHardState() const {
  std::shared_lock lock(mu_);
  return hard_state_;
}

// ---- Writes ----

Status SegmentedLog::CheckNotFailed() const {
  if (!failed()) return Status::Ok();
  return Status(ErrorCode::kLogFailed, "log failed earlier: " + failure_.ToString());
}

Status SegmentedLog::Fail(Status cause) {
  CMQ_ASSERT(!cause.ok(), "Fail with an ok status");
  if (!failed()) {
    failure_ = cause;
    failed_.store(true, std::memory_order_release);
  }
  return cause;
}

Status SegmentedLog::Append(uint64_t term, uint64_t index, std::string_view payload) {
  CMQ_RETURN_IF_ERROR(CheckNotFailed());
  if (payload.size() > kMaxPayloadBytes) {
    return Status(ErrorCode::kInvalidArgument, "entry payload over kMaxPayloadBytes");
  }
  bool empty = LastIndexUnlocked() < FirstIndexUnlocked();
  if (index == 0 || (!empty && index != LastIndexUnlocked() + 1)) {
    return Status(ErrorCode::kInvalidArgument, "append of index " + std::to_string(index) +
                                                   " after last index " +
                                                   std::to_string(LastIndexUnlocked()));
  }
  if (!empty && term < terms_.last_term()) {
    return Status(ErrorCode::kInvalidArgument, "append of term " + std::to_string(term) +
                                                   " after term " +
                                                   std::to_string(terms_.last_term()));
  }
  size_t record_bytes = kRecordHeaderBytes + payload.size();
  CMQ_RETURN_IF_ERROR(PrepareSegmentFor(index, record_bytes));
  ReserveFor(record_bytes);
  EncodeRecord(term, index, payload, &record_buffer_);
  Status st = writer_->Append(record_buffer_);
  if (record_buffer_.capacity() > kKeptRecordBufferBytes) record_buffer_ = std::string();
  if (!st.ok()) return Fail(st);
  unsynced_ = true;
  {
    std::unique_lock lock(mu_);
    Segment& segment = segments_.back();
    CMQ_ASSERT(segment.next_index() == index, "append lands in the wrong segment");
    segment.offsets.push_back(static_cast<uint32_t>(segment.end_offset));
    segment.end_offset += record_bytes;
    terms_.Append(index, term);
  }
  return Status::Ok();
}

Status SegmentedLog::Sync() {
  CMQ_RETURN_IF_ERROR(CheckNotFailed());
  if (!unsynced_) return Status::Ok();
  if (!writer_) CMQ_RETURN_IF_ERROR(OpenWriter());
  Status st = writer_->Sync();
  if (!st.ok()) return Fail(st);
  unsynced_ = false;
  return Status::Ok();
}

Status SegmentedLog::SaveHardState(const HardState& hs) {
  CMQ_RETURN_IF_ERROR(CheckNotFailed());
  Status st = fs_->WriteFileAtomic(PathOf(kHardStateFileName), EncodeHardState(hs));
  if (!st.ok()) return Fail(st);
  std::unique_lock lock(mu_);
  hard_state_ = hs;
  return Status::Ok();
}

// ---- Segment management (writer side) ----

// Makes segments_.back() the segment where entry index (of record_bytes) goes, writer open.
Status SegmentedLog::PrepareSegmentFor(uint64_t index, size_t record_bytes) {
  if (segments_.empty()) return StartSegment(index);
  const Segment& last = segments_.back();
  if (last.offsets.empty() && last.base_index != index) {
    // An empty log positioned elsewhere: move its position to index. The old name is
    // gone durably before the new one appears, so a crash leaves at most one of them.
    CMQ_RETURN_IF_ERROR(CloseWriter());
    std::vector<std::string> paths{last.path};
    {
      std::unique_lock lock(mu_);
      segments_.pop_back();
    }
    CMQ_RETURN_IF_ERROR(RemoveSegmentFiles(paths));
    return StartSegment(index);
  }
  if (!last.offsets.empty() && last.end_offset + record_bytes > options_.segment_bytes) {
    return RollSegment(index);
  }
  if (!writer_) return OpenWriter();
  return Status::Ok();
}

// Seals the active segment and starts the next one. The sealed segment is synced before
// the new file exists, so a segment that is followed by another is always complete on disk:
// recovery may treat damage in any segment but the last as corruption. Its unused
// reservation is cut (durably) first: a sealed segment then holds its records and nothing
// else, as before preallocation, so an older cmqd can still read the log.
Status SegmentedLog::RollSegment(uint64_t base_index) {
  if (unsynced_) {
    if (!writer_) CMQ_RETURN_IF_ERROR(OpenWriter());
    Status st = writer_->Sync();
    if (!st.ok()) return Fail(st);
    unsynced_ = false;
  }
  CMQ_RETURN_IF_ERROR(CloseWriter());
  CMQ_RETURN_IF_ERROR(CutReservedTail(segments_.back()));
  return StartSegment(base_index);
}

Status SegmentedLog::CutReservedTail(const Segment& segment) {
  auto file_size = segment.file->Size();
  if (!file_size.ok()) return Fail(file_size.status());
  if (*file_size > segment.end_offset) {
    Status st = fs_->Truncate(segment.path, segment.end_offset);
    if (!st.ok()) return Fail(st);
  }
  return Status::Ok();
}

// Creates an empty segment file for base_index, makes its name durable and opens it.
Status SegmentedLog::StartSegment(uint64_t base_index) {
  std::string path = PathOf(SegmentFileName(base_index));
  auto writer = fs_->OpenAppendable(path);
  if (!writer.ok()) return Fail(writer.status());
  if ((*writer)->Size() != 0) {
    return Fail(Status(ErrorCode::kInternal, "new segment " + path + " is not empty"));
  }
  Status st = fs_->SyncDir(options_.dir);
  if (!st.ok()) return Fail(st);
  auto file = fs_->OpenReadable(path);
  if (!file.ok()) return Fail(file.status());
  writer_ = std::move(*writer);
  reserved_to_ = 0;
  Segment segment;
  segment.base_index = base_index;
  segment.path = std::move(path);
  segment.file = std::shared_ptr<const RandomAccessFile>(std::move(*file));
  std::unique_lock lock(mu_);
  segments_.push_back(std::move(segment));
  return Status::Ok();
}

Status SegmentedLog::OpenWriter() {
  CMQ_ASSERT(!writer_ && !segments_.empty(), "OpenWriter needs a segment and no writer");
  const Segment& last = segments_.back();
  // After a restart the file may be longer than its records (the zeros of its
  // reservation); appends go at the file's end, so the tail is cut first.
  CMQ_RETURN_IF_ERROR(CutReservedTail(last));
  auto writer = fs_->OpenAppendable(last.path);
  if (!writer.ok()) return Fail(writer.status());
  if ((*writer)->Size() != last.end_offset) {
    return Fail(Status(ErrorCode::kInternal,
                       "segment " + last.path + " has " + std::to_string((*writer)->Size()) +
                           " bytes, expected " + std::to_string(last.end_offset)));
  }
  writer_ = std::move(*writer);
  reserved_to_ = 0;
  return Status::Ok();
}

void SegmentedLog::ReserveFor(size_t record_bytes) {
  const uint64_t end = writer_->Size() + record_bytes;
  if (end <= reserved_to_) return;
  // Reserve a step ahead, not the whole segment: a node with many groups (or a test with
  // many nodes) would otherwise hold segment_bytes of disk per group from the start. Best
  // effort: without fallocate, or with too full a disk, only the faster fsync is lost; a
  // full disk shows at the append that needs room.
  const uint64_t target = std::max(end, std::min(end + kReserveAheadBytes, options_.segment_bytes));
  (void)writer_->Preallocate(target);
  reserved_to_ = target;  // also after a failure: tried again a step later, not per append
}

Status SegmentedLog::CloseWriter() {
  if (!writer_) return Status::Ok();
  Status st = writer_->Close();
  writer_.reset();
  if (!st.ok()) return Fail(st);
  return Status::Ok();
}

}  // namespace cmq::storage
