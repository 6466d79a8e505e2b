#pragma once
// The file layer under the log. Every byte the storage module reads or writes goes through
// this interface, so tests and the simulator can swap in FaultInjectionFileSystem (memory
// backed; loses unsynced data on a simulated crash, tears the last write, fails with ENOSPC
// or EIO on demand). Paths are plain strings; directories are created by CreateDir.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace cmq::storage {

// An open file that is appended to. Not thread-safe: one writer.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes data at Size(), the end of what was appended (not past a preallocated tail).
  // After success the bytes are readable through a RandomAccessFile of the same path,
  // but are durable only after Sync(). On error a prefix of data may have reached the file
  // (a short write before ENOSPC) and Size() is unspecified; the caller must treat the
  // file's tail as unknown.
  virtual Status Append(std::string_view data) = 0;
  // Reserves the file's blocks up to `bytes` (fallocate): readers then see a file of at
  // least `bytes` whose tail past Size() reads as zeros, and Size() does not move. Why:
  // an append inside reserved blocks does not change the file's size, so the Sync after
  // it writes the data and not the inode's new size as well (a journal commit on ext4
  // with a journal, an inode write without one); that makes a small fdatasync about a
  // quarter faster here (docs/storage-format.md "Preallocation").
  // A file system that cannot reserve blocks returns ok and nothing changes.
  virtual Status Preallocate(uint64_t bytes) = 0;
  // fdatasync: every byte appended so far survives a crash once this returns ok. It does
  // not make a new file's name durable: that takes SyncDir of its directory.
  virtual Status Sync() = 0;
  virtual uint64_t Size() const = 0;  // the size at open plus every appended byte
  virtual Status Close() = 0;         // without syncing; the destructor closes too
};

// Positional reads. Thread-safe: many readers at once, concurrently with the writer.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset into *out (resized to what was read; fewer at EOF).
  // Sees every byte appended through a WritableFile of the same file so far.
  virtual Status Read(uint64_t offset, size_t n, std::string* out) const = 0;
  virtual Result<uint64_t> Size() const = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Opens for appending, creating the file if missing; existing content is kept and
  // Size() starts at the file's size (a preallocated tail included: cut it first).
  virtual Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> OpenReadable(const std::string& path) = 0;
  // Writes a whole small file atomically (write temp, fsync, rename, fsync dir).
  virtual Status WriteFileAtomic(const std::string& path, std::string_view data) = 0;
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  virtual Status CreateDir(const std::string& path) = 0;  // with parents; ok if it exists
  // Names (not paths) of the entries of a directory.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  virtual bool Exists(const std::string& path) = 0;
  virtual Status Remove(const std::string& path) = 0;
  // Shrinks a file to size bytes, durably (the caller then syncs the directory if needed).
  // REQUIRES: size <= the file's size. An open WritableFile of it must be reopened after.
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  // Makes the names in directory path durable: creations and removals since the last
  // SyncDir survive a crash only after it.
  virtual Status SyncDir(const std::string& path) = 0;
};

// The real thing: POSIX calls (pread, pwrite, fallocate, fdatasync, ftruncate, rename). Errors
// carry the call, the path and strerror; ENOSPC is kNoSpace, any other errno kIoError. See also
// storage/fault_injection_file_system.h for the in-memory one used in tests.
std::unique_ptr<FileSystem> NewPosixFileSystem();

}  // namespace cmq::storage
