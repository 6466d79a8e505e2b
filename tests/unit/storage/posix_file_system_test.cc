// The POSIX file system and the log on a real directory.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "log_test_util.h"
#include "storage/file_system.h"
#include "storage/log.h"
#include "storage/record.h"
#include "storage/segment_file.h"

namespace cmq::storage {
namespace {

class PosixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/cmq_storage_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
  std::string dir_;
};

TEST_F(PosixTest, AppendReadTruncateRemoveRoundTrip) {
  std::string path = dir_ + "/f";
  auto file = fs_->OpenAppendable(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("hello ").ok());
  ASSERT_TRUE((*file)->Append("world").ok());
  EXPECT_EQ((*file)->Size(), 11u);
  ASSERT_TRUE((*file)->Sync().ok());
  auto reader = fs_->OpenReadable(path);
  ASSERT_TRUE(reader.ok());
  std::string out;
  ASSERT_TRUE((*reader)->Read(6, 100, &out).ok());
  EXPECT_EQ(out, "world") << "a read past the end returns what there is";
  EXPECT_EQ(*(*reader)->Size(), 11u);
  ASSERT_TRUE((*file)->Close().ok());
  ASSERT_TRUE(fs_->Truncate(path, 5).ok());
  EXPECT_EQ(fs_->ReadFile(path).value(), "hello");
  auto again = fs_->OpenAppendable(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->Size(), 5u) << "existing content is kept";
  ASSERT_TRUE(fs_->Remove(path).ok());
  EXPECT_FALSE(fs_->Exists(path));
}

TEST_F(PosixTest, WriteFileAtomicReplacesAndLeavesNoTemp) {
  std::string path = dir_ + "/state";
  ASSERT_TRUE(fs_->WriteFileAtomic(path, "one").ok());
  ASSERT_TRUE(fs_->WriteFileAtomic(path, "two").ok());
  EXPECT_EQ(fs_->ReadFile(path).value(), "two");
  auto names = fs_->ListDir(dir_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"state"});
}

TEST_F(PosixTest, CreateDirMakesParentsAndToleratesExisting) {
  std::string deep = dir_ + "/a/b/c";
  ASSERT_TRUE(fs_->CreateDir(deep).ok());
  ASSERT_TRUE(fs_->CreateDir(deep).ok());
  EXPECT_TRUE(fs_->Exists(deep));
  ASSERT_TRUE(fs_->SyncDir(deep).ok());
}

TEST_F(PosixTest, ErrorsNameThePathAndTheCause) {
  std::string missing = dir_ + "/missing";
  auto reader = fs_->OpenReadable(missing);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), ErrorCode::kIoError);
  EXPECT_NE(reader.status().message().find(missing), std::string::npos);
  EXPECT_NE(reader.status().message().find("No such file"), std::string::npos)
      << reader.status().message();
  EXPECT_EQ(fs_->Remove(missing).code(), ErrorCode::kIoError);
  EXPECT_FALSE(fs_->ListDir(missing).ok());
}

TEST_F(PosixTest, LogSurvivesReopenAcrossSegments) {
  LogOptions options;
  options.dir = dir_ + "/log";
  options.segment_bytes = 4096;
  {
    auto log = Log::Open(fs_.get(), options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (uint64_t i = 1; i <= 200; ++i)
      ASSERT_TRUE((*log)->Append(1 + i / 50, i, TestPayload(i, 300)).ok());
    ASSERT_TRUE((*log)->Sync().ok());
    ASSERT_TRUE((*log)->SaveHardState({4, 2, 150}).ok());
  }
  auto log = Log::Open(fs_.get(), options);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->LastIndex(), 200u);
  EXPECT_EQ((*log)->LoadHardState(), (HardState{4, 2, 150}));
  for (uint64_t i = 1; i <= 200; ++i) {
    auto entry = (*log)->Read(i);
    ASSERT_TRUE(entry.ok());
    EXPECT_EQ(entry->payload, TestPayload(i, 300));
    EXPECT_EQ(entry->term, 1 + i / 50);
  }
  EXPECT_EQ(*(*log)->ReadPayloadRange(77, 13, 5), TestPayload(77, 300).substr(13, 5));
}

TEST_F(PosixTest, LogCutsAGarbageTailOnARealFile) {
  LogOptions options;
  options.dir = dir_ + "/log";
  {
    auto log = Log::Open(fs_.get(), options);
    ASSERT_TRUE(log.ok());
    for (uint64_t i = 1; i <= 3; ++i) ASSERT_TRUE((*log)->Append(1, i, "entry").ok());
    ASSERT_TRUE((*log)->Sync().ok());
  }
  std::string segment = options.dir + "/" + SegmentFileName(1);
  // Reserved 4 MiB past the first record (not the whole 64 MiB segment).
  constexpr uint64_t kAhead = 4 << 20;
  EXPECT_EQ(std::filesystem::file_size(segment), kRecordHeaderBytes + 5 + kAhead) << "reserved";
  // A torn record right after the good ones, then the reserved zeros.
  const uint64_t good_size = 3 * (kRecordHeaderBytes + 5);
  std::string torn;
  EncodeRecord(1, 4, "entry", &torn);
  torn.resize(kRecordHeaderBytes + 2);
  ASSERT_TRUE(fs_->Truncate(segment, good_size).ok());
  ASSERT_TRUE(fs_->OpenAppendable(segment).value()->Append(torn).ok());
  ASSERT_TRUE(fs_->OpenAppendable(segment).value()->Preallocate(options.segment_bytes).ok());
  {
    auto log = Log::Open(fs_.get(), options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_EQ((*log)->LastIndex(), 3u);
    EXPECT_EQ(std::filesystem::file_size(segment), good_size) << "the torn record is cut";
    ASSERT_TRUE((*log)->Append(1, 4, "later").ok());
    ASSERT_TRUE((*log)->Sync().ok());
    EXPECT_EQ(std::filesystem::file_size(segment), good_size + kRecordHeaderBytes + 5 + kAhead)
        << "reserved again";
  }
  auto log = Log::Open(fs_.get(), options);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->LastIndex(), 4u);
  EXPECT_EQ((*log)->Read(4).value().payload, "later");
}

// Appends go after the last one, not at the file's end: Preallocate makes the file longer
// than what was written, and the writer keeps its place.
TEST_F(PosixTest, PreallocatedFileReadsAsZerosPastWhatWasAppended) {
  std::string path = dir_ + "/f";
  auto file = fs_->OpenAppendable(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("abc").ok());
  ASSERT_TRUE((*file)->Preallocate(4096).ok());
  ASSERT_TRUE((*file)->Append("def").ok());
  EXPECT_EQ((*file)->Size(), 6u) << "the append position, not the file's size";
  ASSERT_TRUE((*file)->Sync().ok());
  auto reader = fs_->OpenReadable(path);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Size().value(), 4096u);
  std::string out;
  ASSERT_TRUE((*reader)->Read(0, 8, &out).ok());
  EXPECT_EQ(out, std::string("abcdef\0\0", 8));
  ASSERT_TRUE((*file)->Preallocate(100).ok()) << "smaller than the file: nothing changes";
  EXPECT_EQ((*reader)->Size().value(), 4096u);
}

// One writer appends and truncates while readers read: a reader sees either NotFound or
// an entry whose checksum, index and payload are right, never torn or stale bytes.
TEST_F(PosixTest, ReadersRunBesideOneWriter) {
  LogOptions options;
  options.dir = dir_ + "/log";
  options.segment_bytes = 8192;
  auto opened = Log::Open(fs_.get(), options);
  ASSERT_TRUE(opened.ok());
  Log& log = **opened;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> bad{0};
  auto reader = [&](uint64_t seed) {
    uint64_t x = seed;
    while (!done.load()) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      uint64_t last = log.LastIndex();
      if (last == 0) continue;
      uint64_t index = 1 + (x >> 33) % last;
      auto entry = log.Read(index);
      if (entry.ok()) {
        // The payload records (index, term) as the salt was the term.
        if (entry->payload != TestPayload(index, 200, entry->term)) ++bad;
      } else if (entry.status().code() != ErrorCode::kNotFound) {
        ++bad;
      }
    }
  };
  std::thread r1(reader, 1), r2(reader, 2);
  uint64_t term = 1;
  for (int round = 0; round < 40; ++round) {
    uint64_t next = log.LastIndex() + 1;
    for (uint64_t i = next; i < next + 50; ++i) {
      ASSERT_TRUE(log.Append(term, i, TestPayload(i, 200, term)).ok());
    }
    ++term;
    ASSERT_TRUE(log.TruncateSuffix(log.LastIndex() - 20).ok());
  }
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(bad.load(), 0u);
}

}  // namespace
}  // namespace cmq::storage
