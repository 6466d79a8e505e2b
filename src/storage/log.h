#pragma once
// The append-only segmented log of one Raft group (DESIGN.md "Storage";
// docs/storage-format.md). Entries are numbered by consecutive indexes; each is stored as a
// checksummed record in a segment file named by the index of its first entry. The log is
// the data: message bodies live inside entry payloads and are read back by range.
//
// Threads: one writer (Append, Sync, Truncate*, SaveHardState) at a time; Read*,
// FirstIndex, LastIndex, TermAt, LoadHardState and failed may run on any thread
// concurrently with the writer (and see each change once the writer's call returned).
//
// Failure: once a Sync (or a write) fails, the log is failed for good: every later write
// returns kLogFailed, because the disk's state is unknown (never retry an fsync and go on).
// Precisely: the call that meets the I/O error returns it (kIoError, kNoSpace, ...); from
// then on failed() is true and Append, Sync, TruncateSuffix, TruncatePrefix and
// SaveHardState return kLogFailed without touching the disk. Reads keep working. The only
// way back is to destroy the Log and Open it again (recovery then decides what survived).
// Caller errors (kInvalidArgument: a wrong index, an oversized payload) are not failures.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/file_system.h"

namespace cmq::storage {

// Largest payload of one entry. Why: Read holds a whole record in memory, and recovery
// treats a longer length field as damage. Far above mq's 1 MiB batch limit.
inline constexpr uint32_t kMaxLogPayloadBytes = 256u << 20;
// Largest LogOptions::segment_bytes. Why: record offsets are kept in RAM as 32-bit numbers
// (4 bytes per entry), so every record must start below 4 GiB.
inline constexpr uint64_t kMaxLogSegmentBytes = 1ull << 30;

struct LogOptions {
  std::string dir;  // created if missing; holds nothing but this log
  // A new segment is started before an append that would take the active one past this
  // size (a single larger record gets a segment of its own). 1..kMaxLogSegmentBytes.
  uint64_t segment_bytes = 64ull << 20;
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
  // Opens (or creates) the log in options.dir. Recovery verifies every record of every
  // segment. A torn or corrupt record at the tail of the last segment, and every byte
  // after it, is cut off (truncated on disk); a corrupt record followed by a valid one,
  // damage in an earlier segment, a gap between segments, or a corrupt hard state file
  // fails Open with kCorruption rather than silently dropping data. kInvalidArgument for
  // bad options. fs must outlive the Log. The destructor closes files without syncing.
  static Result<std::unique_ptr<Log>> Open(FileSystem* fs, LogOptions options);
  virtual ~Log() = default;

  // Appends one entry. REQUIRES (else kInvalidArgument, and the log is unchanged):
  // index == LastIndex() + 1, or the log holds no entry and index >= 1 (any index: the
  // log then starts there); term >= the term of the last entry; payload.size() <=
  // kMaxLogPayloadBytes. On return the entry is readable but not durable until Sync().
  // Costs one write syscall (and a copy of the payload into a reused buffer); starting a
  // new segment also costs an fdatasync of the sealed one and a directory sync.
  virtual Status Append(uint64_t term, uint64_t index, std::string_view payload) = 0;
  // Makes every appended entry durable: one fdatasync of the active segment, none if
  // nothing was appended since the last Sync (sealed segments were synced when sealed).
  virtual Status Sync() = 0;

  // The log holds entries [FirstIndex(), LastIndex()]; it is empty iff FirstIndex() ==
  // LastIndex() + 1. A log that never held an entry has FirstIndex() 1, LastIndex() 0.
  // A log emptied by TruncateSuffix or TruncatePrefix keeps its position (FirstIndex() is
  // where the next entry would go), across restarts too, except after a crash in the
  // middle of a TruncatePrefix that empties it: then it may come back as never used
  // (1, 0). So the caller (Raft) must take its last index as max(snapshot, LastIndex()).
  virtual uint64_t FirstIndex() const = 0;
  virtual uint64_t LastIndex() const = 0;
  virtual uint64_t TermAt(uint64_t index) const = 0;  // from memory; 0 when out of range

  // Reads an entry (one pread) and verifies its checksum and index: kCorruption on
  // mismatch, kNotFound if out of range (also when a concurrent TruncateSuffix removed it).
  virtual Result<LogEntry> Read(uint64_t index) const = 0;
  // Reads bytes [offset, offset+length) of an entry's payload with one pread, without
  // reading the rest; so the checksum is NOT verified (it covers the whole record; use
  // Read for verified bytes). kNotFound if index is out of range, kInvalidArgument if the
  // range does not lie within the payload (offset == payload size with length 0 is fine).
  virtual Result<std::string> ReadPayloadRange(uint64_t index, uint32_t offset,
                                               uint32_t length) const = 0;

  // Removes entries with index >= from (a Raft log conflict). Durable on return: the
  // removed entries never come back after a crash (entries < from that were not synced
  // stay not durable until Sync). No-op if from > LastIndex(); kInvalidArgument if
  // from == 0 or from < FirstIndex() (compacted entries cannot conflict).
  virtual Status TruncateSuffix(uint64_t from) = 0;
  // Drops whole segments all of whose entries are < before (after a snapshot covers them),
  // durably. Entries >= before are kept, and so may be some < before: afterwards
  // FirstIndex() <= before unless every entry was < before; then the log is emptied and
  // positioned at before (FirstIndex() == before, LastIndex() == before - 1).
  virtual Status TruncatePrefix(uint64_t before) = 0;
  // TruncatePrefix, except that the dropped segments' files are left for the caller to
  // remove (RemoveDetachedFiles), on a thread where it holds up no writer: freeing a
  // 64 MiB segment's blocks took 22 ms on the reference machine's disk, during which a
  // log write waited. Until they are removed, a crash brings the dropped entries back (as
  // if no TruncatePrefix had run). When every entry goes, it is TruncatePrefix and
  // returns no files.
  virtual Result<std::vector<std::string>> DetachPrefix(uint64_t before) = 0;
  // Removes files DetachPrefix returned, in order (oldest first: a crash midway leaves the
  // log contiguous), then syncs the directory. May run beside the log's writer; a failure
  // is returned, not made sticky (the files only take space).
  virtual Status RemoveDetachedFiles(const std::vector<std::string>& paths) = 0;
  // The index after the oldest segment's last entry: TruncatePrefix of it drops exactly
  // that one segment. A caller that must not hold up other writers for long (removing a
  // gigabyte of segments takes a good part of a second) truncates a segment at a time.
  virtual uint64_t FirstSegmentEnd() const = 0;

  // Durable on return (an atomic file replace); on failure the old state stays on disk.
  virtual Status SaveHardState(const HardState& hs) = 0;
  // The last saved state (read at Open; all zero if never saved).
  virtual HardState LoadHardState() const = 0;

  virtual bool failed() const = 0;
};

}  // namespace cmq::storage
