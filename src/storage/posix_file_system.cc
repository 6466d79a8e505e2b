// FileSystem over POSIX calls. Every error names the call, the path and strerror; ENOSPC
// becomes kNoSpace (the operator must free space), every other errno kIoError.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "storage/file_system.h"

namespace cmq::storage {
namespace {

Status ErrnoStatus(std::string_view call, const std::string& path, int err) {
  std::string message = std::string(call) + " " + path + ": " + std::system_category().message(err);
  return Status(err == ENOSPC ? ErrorCode::kNoSpace : ErrorCode::kIoError, std::move(message));
}

// Writes all of data at offset, retrying short writes and EINTR.
Status WriteAllAt(int fd, const std::string& path, std::string_view data, uint64_t offset) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("pwrite", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status CloseFd(int fd, const std::string& path) {
  if (::close(fd) != 0) return ErrnoStatus("close", path, errno);
  return Status::Ok();
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);  // no sync: unsynced bytes stay unsynced
  }

  Status Append(std::string_view data) override {
    CMQ_ASSERT(fd_ >= 0, "Append after Close");
    // At size_, not at the file's end: that may be a preallocated tail of zeros.
    Status st = WriteAllAt(fd_, path_, data, size_);
    // On error, a prefix may have reached the file; Size() stays at the last known good end.
    if (st.ok()) size_ += data.size();
    return st;
  }
  Status Sync() override {
    CMQ_ASSERT(fd_ >= 0, "Sync after Close");
    if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", path_, errno);
    return Status::Ok();
  }
  Status Preallocate(uint64_t bytes) override {
    CMQ_ASSERT(fd_ >= 0, "Preallocate after Close");
    int err = ::fallocate(fd_, 0, 0, static_cast<off_t>(bytes));
    if (err == 0 || errno == EOPNOTSUPP || errno == ENOSYS) return Status::Ok();
    return ErrnoStatus("fallocate", path_, errno);
  }
  uint64_t Size() const override { return size_; }
  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    int fd = fd_;
    fd_ = -1;
    return CloseFd(fd, path_);
  }

 private:
  int fd_;
  std::string path_;
  uint64_t size_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Status Read(uint64_t offset, size_t n, std::string* out) const override {
    out->resize(n);
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, out->data() + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        out->clear();
        return ErrnoStatus("pread", path_, errno);
      }
      if (r == 0) break;  // end of file
      done += static_cast<size_t>(r);
    }
    out->resize(done);
    return Status::Ok();
  }
  Result<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("fstat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  int fd_;
  std::string path_;
};

std::string ParentDir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      Status status = ErrnoStatus("fstat", path, errno);
      ::close(fd);
      return status;
    }
    return std::unique_ptr<WritableFile>(
        new PosixWritableFile(fd, path, static_cast<uint64_t>(st.st_size)));
  }

  Result<std::unique_ptr<RandomAccessFile>> OpenReadable(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    return std::unique_ptr<RandomAccessFile>(new PosixRandomAccessFile(fd, path));
  }

  Status WriteFileAtomic(const std::string& path, std::string_view data) override {
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("open", tmp, errno);
    Status st = WriteAllAt(fd, tmp, data, 0);
    if (st.ok() && ::fdatasync(fd) != 0) st = ErrnoStatus("fdatasync", tmp, errno);
    Status closed = CloseFd(fd, tmp);
    if (st.ok()) st = closed;
    if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = ErrnoStatus("rename", tmp, errno);
    if (!st.ok()) {
      ::unlink(tmp.c_str());
      return st;
    }
    return SyncDir(ParentDir(path));
  }

  Result<std::string> ReadFile(const std::string& path) override {
    auto file = OpenReadable(path);
    if (!file.ok()) return file.status();
    auto size = (*file)->Size();
    if (!size.ok()) return size.status();
    std::string out;
    CMQ_RETURN_IF_ERROR((*file)->Read(0, *size, &out));
    return out;
  }

  Status CreateDir(const std::string& path) override {
    // Create each missing component in turn ("a/b/c": "a", "a/b", "a/b/c").
    for (size_t pos = path.find('/', 1);; pos = path.find('/', pos + 1)) {
      std::string prefix = path.substr(0, pos);
      if (!prefix.empty() && ::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus("mkdir", prefix, errno);
      }
      if (pos == std::string::npos) break;
    }
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
    if (!S_ISDIR(st.st_mode)) return ErrnoStatus("mkdir", path, ENOTDIR);
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return ErrnoStatus("opendir", path, errno);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(dir)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    int err = errno;
    ::closedir(dir);
    if (err != 0) return ErrnoStatus("readdir", path, err);
    return names;
  }

  bool Exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
    return Status::Ok();
  }

  Status Truncate(const std::string& path, uint64_t size) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    Status st;
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      st = ErrnoStatus("ftruncate", path, errno);
    } else if (::fsync(fd) != 0) {
      st = ErrnoStatus("fsync", path, errno);
    }
    Status closed = CloseFd(fd, path);
    return st.ok() ? closed : st;
  }

  Status SyncDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    Status st;
    if (::fsync(fd) != 0) st = ErrnoStatus("fsync", path, errno);
    Status closed = CloseFd(fd, path);
    return st.ok() ? closed : st;
  }
};

}  // namespace

std::unique_ptr<FileSystem> NewPosixFileSystem() {
  return std::make_unique<PosixFileSystem>();
}

}  // namespace cmq::storage
