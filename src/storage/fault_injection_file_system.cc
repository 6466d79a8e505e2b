#include "storage/fault_injection_file_system.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <random>
#include <set>

namespace cmq::storage {

struct FaultInjectionFileSystem::Inode {
  std::string data;       // what was written; the file reads as data, then zeros to `reserved`
  uint64_t reserved = 0;  // the size Preallocate gave the file (zeros past data)
  uint64_t synced_size = 0;
  uint64_t last_write_offset = 0;  // where the most recent Append began
  uint64_t unsynced() const { return data.size() - synced_size; }
  uint64_t file_size() const { return std::max<uint64_t>(data.size(), reserved); }
  // Bytes [offset, offset + n) of the file as a reader sees it.
  std::string Read(uint64_t offset, size_t n) const {
    uint64_t end = std::min<uint64_t>(file_size(), offset + n);
    if (offset >= end) return {};
    std::string out(static_cast<size_t>(end - offset), '\0');
    if (offset < data.size()) data.copy(out.data(), out.size(), static_cast<size_t>(offset));
    return out;
  }
};

struct FaultInjectionFileSystem::State {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Inode>> live;     // the namespace as seen now
  std::map<std::string, std::shared_ptr<Inode>> durable;  // what survives a crash
  std::set<std::string> dirs;
  uint64_t epoch = 0;  // bumped by each crash; handles of an older epoch are dead
  // Faults.
  uint64_t writes_until_failure = 0;  // 0: no injected write failure pending
  bool fail_next_sync = false;
  uint64_t space_limit = UINT64_MAX;
  // Counters.
  uint64_t syncs = 0;
  uint64_t writes = 0;

  uint64_t TotalBytes() const {
    uint64_t total = 0;
    for (const auto& [name, inode] : live) total += inode->file_size();
    return total;
  }
  // Consumes a pending sync failure.
  Status TakeSyncFault(const std::string& path) {
    if (!fail_next_sync) return Status::Ok();
    fail_next_sync = false;
    return Status(ErrorCode::kIoError, "injected EIO on sync of " + path);
  }
};

namespace {

using Inode = FaultInjectionFileSystem::Inode;
using State = FaultInjectionFileSystem::State;

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

Status DeadHandle(const std::string& path) {
  return Status(ErrorCode::kIoError, "handle from before a simulated crash: " + path);
}

Status Missing(const std::string& path) {
  return Status(ErrorCode::kIoError, "no such file: " + path);
}

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(std::shared_ptr<State> state, std::shared_ptr<Inode> inode, std::string path)
      : state_(std::move(state)),
        inode_(std::move(inode)),
        path_(std::move(path)),
        epoch_(state_->epoch) {}

  Status Append(std::string_view data) override {
    std::lock_guard lock(state_->mu);
    if (epoch_ != state_->epoch) return DeadHandle(path_);
    if (state_->writes_until_failure > 0 && --state_->writes_until_failure == 0) {
      return Status(ErrorCode::kIoError, "injected EIO on write to " + path_);
    }
    uint64_t total = state_->TotalBytes();
    // Reserved blocks are already counted: only growth past the file's size takes room.
    uint64_t room = (state_->space_limit > total ? state_->space_limit - total : 0) +
                    (inode_->file_size() - inode_->data.size());
    inode_->last_write_offset = inode_->data.size();
    if (data.size() > room) {
      inode_->data.append(data.substr(0, room));  // a real write may land partially
      return Status(ErrorCode::kNoSpace, "injected ENOSPC on write to " + path_);
    }
    inode_->data.append(data);
    ++state_->writes;
    return Status::Ok();
  }

  Status Sync() override {
    std::lock_guard lock(state_->mu);
    if (epoch_ != state_->epoch) return DeadHandle(path_);
    CMQ_RETURN_IF_ERROR(state_->TakeSyncFault(path_));
    inode_->synced_size = inode_->data.size();
    ++state_->syncs;
    return Status::Ok();
  }

  Status Preallocate(uint64_t bytes) override {
    std::lock_guard lock(state_->mu);
    if (epoch_ != state_->epoch) return DeadHandle(path_);
    if (bytes <= inode_->file_size()) return Status::Ok();
    uint64_t total = state_->TotalBytes();
    uint64_t room = state_->space_limit > total ? state_->space_limit - total : 0;
    if (bytes - inode_->file_size() > room) {
      return Status(ErrorCode::kNoSpace, "injected ENOSPC on fallocate of " + path_);
    }
    inode_->reserved = bytes;
    return Status::Ok();
  }

  uint64_t Size() const override {
    std::lock_guard lock(state_->mu);
    return inode_->data.size();
  }

  Status Close() override { return Status::Ok(); }

 private:
  std::shared_ptr<State> state_;
  std::shared_ptr<Inode> inode_;
  std::string path_;
  uint64_t epoch_;
};

class FaultRandomAccessFile final : public RandomAccessFile {
 public:
  FaultRandomAccessFile(std::shared_ptr<State> state, std::shared_ptr<Inode> inode,
                        std::string path)
      : state_(std::move(state)),
        inode_(std::move(inode)),
        path_(std::move(path)),
        epoch_(state_->epoch) {}

  Status Read(uint64_t offset, size_t n, std::string* out) const override {
    std::lock_guard lock(state_->mu);
    out->clear();
    if (epoch_ != state_->epoch) return DeadHandle(path_);
    *out = inode_->Read(offset, n);
    return Status::Ok();
  }

  Result<uint64_t> Size() const override {
    std::lock_guard lock(state_->mu);
    if (epoch_ != state_->epoch) return DeadHandle(path_);
    return inode_->file_size();
  }

 private:
  std::shared_ptr<State> state_;
  std::shared_ptr<Inode> inode_;
  std::string path_;
  uint64_t epoch_;
};

}  // namespace

FaultInjectionFileSystem::FaultInjectionFileSystem() : state_(std::make_shared<State>()) {}
FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::OpenAppendable(
    const std::string& path) {
  std::lock_guard lock(state_->mu);
  if (!state_->dirs.contains(ParentOf(path))) return Missing(ParentOf(path));
  auto& inode = state_->live[path];
  if (!inode) inode = std::make_shared<Inode>();
  // Appends go at the file's end, past a reserved tail as on a real file system: its
  // zeros become written (and unsynced) bytes.
  if (inode->reserved > inode->data.size()) inode->data.resize(inode->reserved, '\0');
  return std::unique_ptr<WritableFile>(new FaultWritableFile(state_, inode, path));
}

Result<std::unique_ptr<RandomAccessFile>> FaultInjectionFileSystem::OpenReadable(
    const std::string& path) {
  std::lock_guard lock(state_->mu);
  auto it = state_->live.find(path);
  if (it == state_->live.end()) return Missing(path);
  return std::unique_ptr<RandomAccessFile>(new FaultRandomAccessFile(state_, it->second, path));
}

Status FaultInjectionFileSystem::WriteFileAtomic(const std::string& path, std::string_view data) {
  std::lock_guard lock(state_->mu);
  if (!state_->dirs.contains(ParentOf(path))) return Missing(ParentOf(path));
  // One sync covers the temp file; the rename and the directory sync are not modelled
  // separately, so a failure leaves the old file in place.
  CMQ_RETURN_IF_ERROR(state_->TakeSyncFault(path));
  auto inode = std::make_shared<Inode>();
  inode->data.assign(data);
  inode->synced_size = inode->data.size();
  state_->live[path] = inode;
  state_->durable[path] = inode;
  return Status::Ok();
}

Result<std::string> FaultInjectionFileSystem::ReadFile(const std::string& path) {
  std::lock_guard lock(state_->mu);
  auto it = state_->live.find(path);
  if (it == state_->live.end()) return Missing(path);
  return it->second->Read(0, it->second->file_size());
}

Status FaultInjectionFileSystem::CreateDir(const std::string& path) {
  std::lock_guard lock(state_->mu);
  for (std::string dir = path; !dir.empty() && dir != "." && dir != "/"; dir = ParentOf(dir)) {
    state_->dirs.insert(dir);
  }
  return Status::Ok();
}

Result<std::vector<std::string>> FaultInjectionFileSystem::ListDir(const std::string& path) {
  std::lock_guard lock(state_->mu);
  if (!state_->dirs.contains(path)) return Missing(path);
  std::vector<std::string> names;
  for (const auto& [name, inode] : state_->live) {
    if (ParentOf(name) == path) names.push_back(name.substr(path.size() + 1));
  }
  for (const auto& dir : state_->dirs) {
    if (dir != path && ParentOf(dir) == path) names.push_back(dir.substr(path.size() + 1));
  }
  return names;
}

bool FaultInjectionFileSystem::Exists(const std::string& path) {
  std::lock_guard lock(state_->mu);
  return state_->live.contains(path) || state_->dirs.contains(path);
}

Status FaultInjectionFileSystem::Remove(const std::string& path) {
  std::lock_guard lock(state_->mu);
  if (state_->live.erase(path) == 0) return Missing(path);
  return Status::Ok();
}

Status FaultInjectionFileSystem::Truncate(const std::string& path, uint64_t size) {
  std::lock_guard lock(state_->mu);
  auto it = state_->live.find(path);
  if (it == state_->live.end()) return Missing(path);
  CMQ_RETURN_IF_ERROR(state_->TakeSyncFault(path));
  Inode& inode = *it->second;
  CMQ_ASSERT(size <= inode.file_size(), "Truncate may only shrink a file");
  if (size <= inode.data.size()) {
    inode.data.resize(size);
    inode.reserved = std::min(inode.reserved, size);
  } else {
    inode.reserved = size;  // a cut inside the reserved zeros
  }
  inode.synced_size = std::min(inode.synced_size, size);
  inode.last_write_offset = std::min(inode.last_write_offset, size);
  return Status::Ok();
}

Status FaultInjectionFileSystem::SyncDir(const std::string& path) {
  std::lock_guard lock(state_->mu);
  if (!state_->dirs.contains(path)) return Missing(path);
  CMQ_RETURN_IF_ERROR(state_->TakeSyncFault(path));
  // The durable entries of this directory become exactly the live ones.
  std::erase_if(state_->durable, [&](const auto& kv) { return ParentOf(kv.first) == path; });
  for (const auto& [name, inode] : state_->live) {
    if (ParentOf(name) == path) state_->durable[name] = inode;
  }
  return Status::Ok();
}

void FaultInjectionFileSystem::Crash(const std::function<uint64_t(const Inode&)>& keep) {
  std::lock_guard lock(state_->mu);
  ++state_->epoch;
  state_->live = state_->durable;
  for (auto& [name, inode] : state_->live) {
    uint64_t kept = std::min(keep(*inode), inode->unsynced());
    inode->data.resize(inode->synced_size + kept);
    inode->synced_size = inode->data.size();  // what survived a crash is on the medium
    inode->last_write_offset = inode->data.size();
  }
}

void FaultInjectionFileSystem::SimulateCrash() {
  Crash([](const Inode&) { return uint64_t{0}; });
}

void FaultInjectionFileSystem::SimulateCrashTearingLastWrite(uint64_t keep_bytes) {
  Crash([keep_bytes](const Inode& inode) -> uint64_t {
    if (inode.unsynced() == 0) return 0;
    uint64_t last_start = std::max(inode.last_write_offset, inode.synced_size);
    uint64_t last_size = inode.data.size() - last_start;
    uint64_t kept_of_last = last_size == 0 ? 0 : std::min(keep_bytes, last_size - 1);
    return (last_start - inode.synced_size) + kept_of_last;
  });
}

void FaultInjectionFileSystem::SimulateCrashKeepingRandomPrefix(uint64_t seed) {
  std::mt19937_64 rng(seed);
  Crash([&rng](const Inode& inode) -> uint64_t {
    return std::uniform_int_distribution<uint64_t>(0, inode.unsynced())(rng);
  });
}

void FaultInjectionFileSystem::FailWriteAfter(uint64_t successful_writes) {
  std::lock_guard lock(state_->mu);
  state_->writes_until_failure = successful_writes + 1;
}

void FaultInjectionFileSystem::FailNextSync() {
  std::lock_guard lock(state_->mu);
  state_->fail_next_sync = true;
}

void FaultInjectionFileSystem::SetSpaceLimit(uint64_t limit_bytes) {
  std::lock_guard lock(state_->mu);
  state_->space_limit = limit_bytes;
}

void FaultInjectionFileSystem::ClearFaults() {
  std::lock_guard lock(state_->mu);
  state_->writes_until_failure = 0;
  state_->fail_next_sync = false;
  state_->space_limit = UINT64_MAX;
}

void FaultInjectionFileSystem::CorruptByte(const std::string& path, uint64_t offset) {
  std::lock_guard lock(state_->mu);
  auto it = state_->live.find(path);
  CMQ_ASSERT(it != state_->live.end(), "CorruptByte of a missing file");
  CMQ_ASSERT(offset < it->second->data.size(), "CorruptByte past the end of the file");
  it->second->data[offset] = static_cast<char>(~it->second->data[offset]);
}

uint64_t FaultInjectionFileSystem::SyncCount() const {
  std::lock_guard lock(state_->mu);
  return state_->syncs;
}

uint64_t FaultInjectionFileSystem::WriteCount() const {
  std::lock_guard lock(state_->mu);
  return state_->writes;
}

uint64_t FaultInjectionFileSystem::FileSize(const std::string& path) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->live.find(path);
  return it == state_->live.end() ? 0 : it->second->data.size();
}

uint64_t FaultInjectionFileSystem::ReservedSize(const std::string& path) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->live.find(path);
  return it == state_->live.end() ? 0 : it->second->reserved;
}

uint64_t FaultInjectionFileSystem::SyncedSize(const std::string& path) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->live.find(path);
  return it == state_->live.end() ? 0 : it->second->synced_size;
}

}  // namespace cmq::storage
