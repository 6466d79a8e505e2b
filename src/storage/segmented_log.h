#pragma once
// SegmentedLog: the Log implementation (internal; others use log.h). Layout and recovery
// rules: docs/storage-format.md.
//
// Concurrency: one writer thread calls the mutating methods; readers on other threads call
// FirstIndex/LastIndex/TermAt/Read*/LoadHardState. mu_ guards the segment list, the offset
// vectors, the term runs and the truncation generation; the writer takes it exclusively
// only to publish changes (after the bytes are written), and reads its own state without
// it. A reader copies a record's location under the shared lock and preads without it;
// TruncateSuffix bumps the generation before it touches the files, and a reader that sees
// the generation change across its pread looks again (a seqlock), so it never returns
// bytes of a truncated record.

#include <atomic>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "storage/log.h"
#include "storage/term_runs.h"

namespace cmq::storage {

class SegmentedLog final : public Log {
 public:
  SegmentedLog(FileSystem* fs, LogOptions options);
  ~SegmentedLog() override;

  // Scans options.dir and repairs a torn tail. Called once, by Log::Open.
  Status Recover();

  Status Append(uint64_t term, uint64_t index, std::string_view payload) override;
  Status Sync() override;
  uint64_t FirstIndex() const override;
  uint64_t LastIndex() const override;
  uint64_t TermAt(uint64_t index) const override;
  Result<LogEntry> Read(uint64_t index) const override;
  Result<std::string> ReadPayloadRange(uint64_t index, uint32_t offset,
                                       uint32_t length) const override;
  Status TruncateSuffix(uint64_t from) override;
  Status TruncatePrefix(uint64_t before) override;
  Result<std::vector<std::string>> DetachPrefix(uint64_t before) override;
  Status RemoveDetachedFiles(const std::vector<std::string>& paths) override;
  uint64_t FirstSegmentEnd() const override;
  Status SaveHardState(const HardState& hs) override;
  HardState LoadHardState() const override;
  bool failed() const override { return failed_.load(std::memory_order_acquire); }

 private:
  struct Segment {
    uint64_t base_index = 0;
    std::string path;
    std::vector<uint32_t> offsets;  // record i (entry base_index + i) starts at offsets[i]
    uint64_t end_offset = 0;        // end of the last record
    std::shared_ptr<const RandomAccessFile> file;
    uint64_t next_index() const { return base_index + offsets.size(); }
  };
  // Where one record lies, copied under mu_.
  struct Location {
    std::shared_ptr<const RandomAccessFile> file;
    uint64_t offset = 0;
    uint64_t size = 0;  // of the whole record
    uint64_t generation = 0;
  };

  // Unlocked views: REQUIRES mu_ held, or the caller is the writer.
  uint64_t FirstIndexUnlocked() const;
  uint64_t LastIndexUnlocked() const;
  size_t SegmentOf(uint64_t index) const;  // REQUIRES: index in [first, last]

  Result<Location> Locate(uint64_t index) const;
  bool GenerationIs(uint64_t generation) const;

  // Writer side.
  Status CheckNotFailed() const;
  Status Fail(Status cause);  // makes the failure sticky; returns cause
  Status PrepareSegmentFor(uint64_t index, size_t record_bytes);
  Status RollSegment(uint64_t base_index);
  Status StartSegment(uint64_t base_index);
  Status OpenWriter();  // at the last segment's end, cutting a preallocated tail first
  Status CloseWriter();
  // Before an append of record_bytes: reserves the writer's file up to kReserveAheadBytes
  // past it (at most segment_bytes, docs/storage-format.md "Preallocation").
  void ReserveFor(size_t record_bytes);
  // Shrinks the segment's file to its records (durably) if it is longer: the zeros of a
  // reservation. Fails the log on error.
  Status CutReservedTail(const Segment& segment);

  Status RemoveSegmentFiles(const std::vector<std::string>& paths);
  std::string PathOf(const std::string& name) const;

  FileSystem* const fs_;
  const LogOptions options_;

  mutable std::shared_mutex mu_;
  std::vector<Segment> segments_;       // GUARDED_BY(mu_); contiguous, only the last may be empty
  TermRuns terms_;                      // GUARDED_BY(mu_)
  uint64_t truncation_generation_ = 0;  // GUARDED_BY(mu_)
  HardState hard_state_;                // GUARDED_BY(mu_)

  // Writer-only state.
  std::unique_ptr<WritableFile> writer_;  // appends to segments_.back(); opened lazily
  uint64_t reserved_to_ = 0;              // the writer's file is reserved up to here
  static constexpr uint64_t kReserveAheadBytes = 4ull << 20;
  bool unsynced_ = false;      // bytes appended since the last successful Sync
  std::string record_buffer_;  // reused by Append: no allocation per entry
  Status failure_;             // the first failure
  std::atomic<bool> failed_{false};
};

}  // namespace cmq::storage
