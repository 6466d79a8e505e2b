#pragma once
// FaultInjectionFileSystem: an in-memory FileSystem that knows what a real disk would have
// kept after a power cut, for unit tests and the deterministic simulator (after leveldb's
// db/fault_injection_test.cc and TigerBeetle's simulated storage).
//
// Fault model
// -----------
// * Files are inodes; a directory maps names to inodes. Each inode remembers how many of its
//   bytes are synced. Files here are only appended to and truncated, so the durable content
//   of an inode is always a prefix of its current content: bytes [0, synced_size).
// * Preallocate reserves a size: the file reads as its written bytes, then zeros up to it,
//   and keeps that size through a crash (unsynced bytes inside it read as zeros again, as
//   blocks reserved by fallocate do). Reserved bytes count toward the space limit.
// * WritableFile::Sync (fdatasync) makes every byte appended so far durable.
// * Names are durable only once their directory is synced: a file created (or removed)
//   since the last SyncDir of its parent disappears (or reappears, with its synced bytes)
//   on a crash. WriteFileAtomic and Truncate are durable on return, as their contracts say.
//   Directories themselves are always durable (CreateDir never loses one).
// * SimulateCrash() is a power cut: the namespace reverts to the durable one and every
//   unsynced byte is dropped. Variants keep part of the unsynced tail instead, always a
//   prefix of it (a disk that writes back in order), so a crash can tear the last write:
//   SimulateCrashTearingLastWrite keeps every unsynced write but the last and a prefix of
//   the last; SimulateCrashKeepingRandomPrefix keeps a seeded random prefix per file.
//   Handles opened before a crash belong to the dead process: every later call on them
//   fails with kIoError.
// * Injected errors: the Nth write from now fails with EIO (nothing written); the next
//   sync (fdatasync, SyncDir, or the sync inside WriteFileAtomic/Truncate) fails with EIO
//   and leaves the data unsynced; once the total size of all files would pass a limit,
//   Append writes what fits and fails with ENOSPC (kNoSpace).
// * Corruption: CorruptByte flips the bits of one byte of a file, synced or not, as if
//   the medium had rotted.
// Not modelled: reordered write-back within a file (a hole followed by later data), lost
// or misdirected writes of synced data, read errors.
//
// Thread-safe: one mutex guards everything, so readers may run beside a writer.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "storage/file_system.h"

namespace cmq::storage {

class FaultInjectionFileSystem final : public FileSystem {
 public:
  FaultInjectionFileSystem();
  ~FaultInjectionFileSystem() override;

  // FileSystem.
  Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> OpenReadable(const std::string& path) override;
  Status WriteFileAtomic(const std::string& path, std::string_view data) override;
  Result<std::string> ReadFile(const std::string& path) override;
  Status CreateDir(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  bool Exists(const std::string& path) override;
  Status Remove(const std::string& path) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& path) override;

  // Crashes. After each, open handles are dead and the durable state is the only state.
  void SimulateCrash();  // drops every unsynced byte and every unsynced name change
  // Keeps all unsynced bytes of each file except the last write into it, of which only
  // the first keep_bytes survive (clamped below that write's size, so it is always torn
  // when it is unsynced and not empty).
  void SimulateCrashTearingLastWrite(uint64_t keep_bytes);
  // Keeps, per file, a prefix of its unsynced bytes of a length drawn from a PRNG seeded
  // with seed (uniform over 0..unsynced bytes). Deterministic for a given seed and state.
  void SimulateCrashKeepingRandomPrefix(uint64_t seed);

  // Faults. Each is consumed by the call that triggers it.
  void FailWriteAfter(uint64_t successful_writes);  // the write after that many fails (EIO)
  void FailNextSync();                              // the next sync of any kind fails (EIO)
  // Appends fail with ENOSPC once the total bytes of all files would pass limit_bytes.
  void SetSpaceLimit(uint64_t limit_bytes);
  void ClearFaults();
  // Flips every bit of the byte at offset of path. REQUIRES: the file has that byte.
  void CorruptByte(const std::string& path, uint64_t offset);

  // Introspection for tests.
  uint64_t SyncCount() const;                            // successful WritableFile::Sync calls
  uint64_t WriteCount() const;                           // successful WritableFile::Append calls
  uint64_t FileSize(const std::string& path) const;      // bytes written; 0 if missing
  uint64_t ReservedSize(const std::string& path) const;  // from Preallocate; 0 if missing
  uint64_t SyncedSize(const std::string& path) const;    // 0 if missing

  struct Inode;
  struct State;

 private:
  // The crash itself; keep(inode) says how many unsynced bytes of inode survive.
  void Crash(const std::function<uint64_t(const Inode&)>& keep);

  std::shared_ptr<State> state_;
};

}  // namespace cmq::storage
