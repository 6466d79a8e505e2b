#pragma once
// The append-only segmented log of one Raft group (DESIGN.md "Storage";
// docs/storage-format.md). Entries are numbered by consecutive indexes; each is stored as a
// checksummed record in a segment file named by the index of its first entry. The log is
// the data: message bodies live inside entry payloads and are read back by range.
//
// Threads: one writer (Append, Sync, Truncate*, SaveHardState) at a time; Read* may run on
// any thread concurrently with the writer.
//
// Failure: once a Sync (or a write) fails, the log is failed for good: every later write
// returns kLogFailed, because the disk's state is unknown (never retry an fsync and go on).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/file_system.h"

namespace cmq::storage {

struct LogOptions {
  std::string dir;                            // created if missing
  uint64_t segment_bytes = 64ull << 20;       // roll to a new segment past this size
};

struct LogEntry {
  uint64_t term = 0;
  uint64_t index = 0;
  std::string payload;
};

// Raft's durable vote and term (and the last known commit index, as a hint).
struct HardState {
  uint64_t term = 0;
  uint64_t vote = 0;
  uint64_t commit = 0;
  bool operator==(const HardState&) const = default;
};

class Log {
 public:
  // Opens (or creates) the log in options.dir. Recovery scans the last segment: a torn or
  // corrupt record at the tail, and anything after it, is cut off (truncated on disk);
  // a corrupt record followed by valid ones, or damage in an earlier segment, is reported
  // as kCorruption rather than silently dropped.
  static Result<std::unique_ptr<Log>> Open(FileSystem* fs, LogOptions options);
  virtual ~Log() = default;

  // Appends one entry. REQUIRES: index == LastIndex() + 1 (or the log is empty and index is
  // the first index wanted). Written but not durable until Sync().
  virtual Status Append(uint64_t term, uint64_t index, std::string_view payload) = 0;
  // Makes every appended entry durable (one fdatasync per touched segment file).
  virtual Status Sync() = 0;

  // 0 when the log is empty. FirstIndex() > LastIndex() when empty.
  virtual uint64_t FirstIndex() const = 0;
  virtual uint64_t LastIndex() const = 0;
  virtual uint64_t TermAt(uint64_t index) const = 0;  // 0 when out of range

  // Reads an entry and verifies its checksum (kCorruption on mismatch, kNotFound if out of range).
  virtual Result<LogEntry> Read(uint64_t index) const = 0;
  // Reads bytes [offset, offset+length) of an entry's payload, without reading the rest.
  virtual Result<std::string> ReadPayloadRange(uint64_t index, uint32_t offset,
                                               uint32_t length) const = 0;

  // Removes entries with index >= from (a Raft log conflict). Durable on return.
  virtual Status TruncateSuffix(uint64_t from) = 0;
  // Drops whole segments all of whose entries are < before (after a snapshot covers them).
  virtual Status TruncatePrefix(uint64_t before) = 0;

  virtual Status SaveHardState(const HardState& hs) = 0;  // durable on return
  virtual HardState LoadHardState() const = 0;

  virtual bool failed() const = 0;
};

}  // namespace cmq::storage
