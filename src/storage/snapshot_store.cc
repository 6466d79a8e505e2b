#include "storage/snapshot_store.h"

#include <algorithm>
#include <cstdio>

#include "common/checksum.h"
#include "common/encoding.h"

namespace cmq::storage {
namespace {

// File layout: [magic u32][version u32][index u64][term u64][data length u64]
//              [checksum u32 of everything before it and the data][data]
constexpr uint32_t kMagic = 0x50534d43;  // "CMSP"
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 4 + 4 + 8 + 8 + 8 + 4;
constexpr std::string_view kPrefix = "snapshot-";
constexpr std::string_view kSuffix = ".snap";

std::optional<uint64_t> ParseName(const std::string& name) {
  if (name.size() != kPrefix.size() + 20 + kSuffix.size()) return std::nullopt;
  if (name.compare(0, kPrefix.size(), kPrefix) != 0) return std::nullopt;
  if (name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (size_t i = kPrefix.size(); i < kPrefix.size() + 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return v;
}

}  // namespace

SnapshotStore::SnapshotStore(FileSystem* fs, std::string dir, size_t keep)
    : fs_(fs), dir_(std::move(dir)), keep_(std::max<size_t>(1, keep)) {}

Status SnapshotStore::Open() {
  return fs_->CreateDir(dir_);
}

std::string SnapshotStore::PathFor(uint64_t index) const {
  char name[64];
  std::snprintf(name, sizeof(name), "snapshot-%020llu.snap",
                static_cast<unsigned long long>(index));
  return dir_ + "/" + name;
}

Status SnapshotStore::Save(const SnapshotMeta& meta, std::string_view data) {
  std::string file;
  file.reserve(kHeaderBytes + data.size());
  PutFixed32(file, kMagic);
  PutFixed32(file, kVersion);
  PutFixed64(file, meta.index);
  PutFixed64(file, meta.term);
  PutFixed64(file, data.size());
  PutFixed32(file, Checksum32(file, data));
  file.append(data);
  CMQ_RETURN_IF_ERROR(fs_->WriteFileAtomic(PathFor(meta.index), file));
  auto indexes = List();
  if (!indexes.ok()) return indexes.status();
  const auto& all = indexes.value();
  for (size_t i = 0; i + keep_ < all.size(); ++i) {
    CMQ_RETURN_IF_ERROR(fs_->Remove(PathFor(all[i])));
  }
  return fs_->SyncDir(dir_);
}

Result<std::vector<uint64_t>> SnapshotStore::List() {
  auto names = fs_->ListDir(dir_);
  if (!names.ok()) return names.status();
  std::vector<uint64_t> out;
  for (const std::string& name : names.value()) {
    if (auto index = ParseName(name)) out.push_back(*index);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<Snapshot> SnapshotStore::Load(uint64_t index) {
  std::string path = PathFor(index);
  auto bytes = fs_->ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  const std::string& file = bytes.value();
  Reader r(file);
  uint32_t magic = 0, version = 0, checksum = 0;
  uint64_t meta_index = 0, term = 0, length = 0;
  if (!r.Fixed32(magic) || !r.Fixed32(version) || !r.Fixed64(meta_index) || !r.Fixed64(term) ||
      !r.Fixed64(length) || !r.Fixed32(checksum)) {
    return Status(ErrorCode::kCorruption, path + ": truncated header");
  }
  if (magic != kMagic) return Status(ErrorCode::kCorruption, path + ": bad magic");
  if (version != kVersion) {
    return Status(ErrorCode::kCorruption, path + ": unknown version " + std::to_string(version));
  }
  if (length != r.remaining()) return Status(ErrorCode::kCorruption, path + ": bad length");
  std::string_view head(file.data(), kHeaderBytes - 4);
  std::string_view data = r.rest();
  if (Checksum32(head, data) != checksum) {
    return Status(ErrorCode::kCorruption, path + ": checksum mismatch");
  }
  if (meta_index != index) return Status(ErrorCode::kCorruption, path + ": index mismatch");
  return Snapshot{SnapshotMeta{meta_index, term}, std::string(data)};
}

Result<std::optional<Snapshot>> SnapshotStore::LoadNewest(std::vector<std::string>* skipped) {
  auto indexes = List();
  if (!indexes.ok()) return indexes.status();
  const auto& all = indexes.value();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    auto snap = Load(*it);
    if (snap.ok()) return std::optional<Snapshot>(std::move(snap).value());
    if (skipped != nullptr) skipped->push_back(snap.status().ToString());
  }
  return std::optional<Snapshot>();
}

}  // namespace cmq::storage
