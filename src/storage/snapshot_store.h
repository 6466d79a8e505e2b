#pragma once
// Snapshots of a group's state machine on disk (docs/storage-format.md "Snapshot files").
// Each snapshot is one file, written atomically (temp file, fsync, rename, fsync dir), named
// by the index of the last entry it covers, and checksummed. The store keeps the newest
// `keep` snapshots so that a damaged newest one can fall back to the one before (the node
// keeps the log from the oldest kept snapshot on, so either can be replayed from).
//
// Threads: not thread-safe; one caller at a time.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage/file_system.h"

namespace cmq::storage {

struct SnapshotMeta {
  uint64_t index = 0;  // last log entry the snapshot covers
  uint64_t term = 0;   // that entry's term
};

struct Snapshot {
  SnapshotMeta meta;
  std::string data;
};

class SnapshotStore {
 public:
  SnapshotStore(FileSystem* fs, std::string dir, size_t keep = 2);

  // Creates the directory if needed.
  Status Open();
  // Writes a snapshot durably, then removes all but the newest `keep`.
  Status Save(const SnapshotMeta& meta, std::string_view data);
  // The newest snapshot that reads back intact; nullopt if there is none. A damaged file
  // is skipped (and reported in *skipped, if given) in favour of an older one.
  Result<std::optional<Snapshot>> LoadNewest(std::vector<std::string>* skipped = nullptr);
  // Indexes of the snapshots on disk, oldest first.
  Result<std::vector<uint64_t>> List();

 private:
  std::string PathFor(uint64_t index) const;
  Result<Snapshot> Load(uint64_t index);

  FileSystem* fs_;
  std::string dir_;
  size_t keep_;
};

}  // namespace cmq::storage
