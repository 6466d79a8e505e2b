// The fault model of FaultInjectionFileSystem (see the top of its header).

#include "storage/fault_injection_file_system.h"

#include <gtest/gtest.h>

namespace cmq::storage {
namespace {

class FaultInjectionFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fs_.CreateDir("/d").ok()); }
  std::unique_ptr<WritableFile> Create(const std::string& path) {
    auto file = fs_.OpenAppendable(path);
    EXPECT_TRUE(file.ok());
    EXPECT_TRUE(fs_.SyncDir("/d").ok());
    return std::move(*file);
  }
  std::string Contents(const std::string& path) { return fs_.ReadFile(path).value(); }

  FaultInjectionFileSystem fs_;
};

TEST_F(FaultInjectionFileSystemTest, CrashDropsUnsyncedBytes) {
  auto file = Create("/d/f");
  ASSERT_TRUE(file->Append("synced").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Append("-unsynced").ok());
  EXPECT_EQ(Contents("/d/f"), "synced-unsynced");
  fs_.SimulateCrash();
  EXPECT_EQ(Contents("/d/f"), "synced");
}

TEST_F(FaultInjectionFileSystemTest, PreallocatedTailReadsAsZerosAndKeepsItsSizeThroughACrash) {
  auto file = Create("/d/f");
  ASSERT_TRUE(file->Append("ab").ok());
  ASSERT_TRUE(file->Preallocate(8).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Append("cd").ok());  // inside the reservation: no size change
  EXPECT_EQ(file->Size(), 4u);
  EXPECT_EQ(Contents("/d/f"), std::string("abcd\0\0\0\0", 8));
  EXPECT_EQ(fs_.OpenReadable("/d/f").value()->Size().value(), 8u);
  fs_.SimulateCrash();  // the unsynced "cd" reads as reserved zeros again
  EXPECT_EQ(Contents("/d/f"), std::string("ab\0\0\0\0\0\0", 8));
  ASSERT_TRUE(fs_.Truncate("/d/f", 6).ok());  // a cut inside the zeros
  EXPECT_EQ(Contents("/d/f"), std::string("ab\0\0\0\0", 6));
  ASSERT_TRUE(fs_.Truncate("/d/f", 1).ok());  // a cut inside the data drops the rest
  EXPECT_EQ(Contents("/d/f"), "a");
  EXPECT_EQ(fs_.ReservedSize("/d/f"), 1u);
}

TEST_F(FaultInjectionFileSystemTest, ReservedBytesCountTowardTheSpaceLimit) {
  auto file = Create("/d/f");
  fs_.SetSpaceLimit(10);
  EXPECT_EQ(file->Preallocate(11).code(), ErrorCode::kNoSpace);
  EXPECT_EQ(fs_.ReservedSize("/d/f"), 0u) << "a failed reservation reserves nothing";
  ASSERT_TRUE(file->Preallocate(10).ok());
  ASSERT_TRUE(file->Append("0123456789").ok()) << "written into reserved blocks";
  EXPECT_EQ(file->Append("x").code(), ErrorCode::kNoSpace);
  auto other = Create("/d/g");
  EXPECT_EQ(other->Append("y").code(), ErrorCode::kNoSpace);
}

TEST_F(FaultInjectionFileSystemTest, NewFileWithoutDirSyncVanishesOnCrash) {
  auto file = fs_.OpenAppendable("/d/new");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("data").ok());
  ASSERT_TRUE((*file)->Sync().ok());  // fdatasync does not make the name durable
  fs_.SimulateCrash();
  EXPECT_FALSE(fs_.Exists("/d/new"));
}

TEST_F(FaultInjectionFileSystemTest, RemoveWithoutDirSyncIsUndoneByCrash) {
  auto file = Create("/d/f");
  ASSERT_TRUE(file->Append("kept").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(fs_.Remove("/d/f").ok());
  EXPECT_FALSE(fs_.Exists("/d/f"));
  fs_.SimulateCrash();
  EXPECT_EQ(Contents("/d/f"), "kept");
  ASSERT_TRUE(fs_.Remove("/d/f").ok());
  ASSERT_TRUE(fs_.SyncDir("/d").ok());
  fs_.SimulateCrash();
  EXPECT_FALSE(fs_.Exists("/d/f"));
}

TEST_F(FaultInjectionFileSystemTest, TearingKeepsEarlierWritesAndAPrefixOfTheLast) {
  auto file = Create("/d/f");
  ASSERT_TRUE(file->Append("aaaa").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Append("bbbb").ok());
  ASSERT_TRUE(file->Append("cccc").ok());
  fs_.SimulateCrashTearingLastWrite(2);
  EXPECT_EQ(Contents("/d/f"), "aaaabbbbcc");
}

TEST_F(FaultInjectionFileSystemTest, TearingNeverKeepsTheWholeLastWrite) {
  auto file = Create("/d/f");
  ASSERT_TRUE(file->Append("abcd").ok());
  fs_.SimulateCrashTearingLastWrite(100);
  EXPECT_EQ(Contents("/d/f"), "abc");
}

TEST_F(FaultInjectionFileSystemTest, RandomPrefixCrashIsDeterministicPerSeed) {
  std::string kept[2];
  for (int round = 0; round < 2; ++round) {
    FaultInjectionFileSystem fs;
    ASSERT_TRUE(fs.CreateDir("/d").ok());
    auto file = fs.OpenAppendable("/d/f");
    ASSERT_TRUE(fs.SyncDir("/d").ok());
    ASSERT_TRUE((*file)->Append(std::string(1000, 'x')).ok());
    fs.SimulateCrashKeepingRandomPrefix(42);
    kept[round] = fs.ReadFile("/d/f").value();
  }
  EXPECT_EQ(kept[0], kept[1]);
}

TEST_F(FaultInjectionFileSystemTest, HandlesFromBeforeACrashAreDead) {
  auto file = Create("/d/f");
  auto reader = fs_.OpenReadable("/d/f");
  ASSERT_TRUE(reader.ok());
  fs_.SimulateCrash();
  EXPECT_EQ(file->Append("x").code(), ErrorCode::kIoError);
  EXPECT_EQ(file->Sync().code(), ErrorCode::kIoError);
  std::string out;
  EXPECT_EQ((*reader)->Read(0, 1, &out).code(), ErrorCode::kIoError);
}

TEST_F(FaultInjectionFileSystemTest, FailWriteAfterFailsExactlyTheNthWrite) {
  auto file = Create("/d/f");
  fs_.FailWriteAfter(2);
  EXPECT_TRUE(file->Append("1").ok());
  EXPECT_TRUE(file->Append("2").ok());
  EXPECT_EQ(file->Append("3").code(), ErrorCode::kIoError);
  EXPECT_TRUE(file->Append("4").ok());
  EXPECT_EQ(Contents("/d/f"), "124");
}

TEST_F(FaultInjectionFileSystemTest, FailedSyncLeavesDataUnsynced) {
  auto file = Create("/d/f");
  ASSERT_TRUE(file->Append("data").ok());
  fs_.FailNextSync();
  EXPECT_EQ(file->Sync().code(), ErrorCode::kIoError);
  EXPECT_EQ(fs_.SyncedSize("/d/f"), 0u);
  fs_.SimulateCrash();
  EXPECT_EQ(Contents("/d/f"), "");
}

TEST_F(FaultInjectionFileSystemTest, SpaceLimitWritesWhatFitsThenFailsWithNoSpace) {
  auto file = Create("/d/f");
  fs_.SetSpaceLimit(6);
  EXPECT_TRUE(file->Append("abcd").ok());
  EXPECT_EQ(file->Append("efgh").code(), ErrorCode::kNoSpace);
  EXPECT_EQ(Contents("/d/f"), "abcdef");
  EXPECT_EQ(file->Append("x").code(), ErrorCode::kNoSpace);
}

TEST_F(FaultInjectionFileSystemTest, CorruptByteFlipsOneByteEvenIfSynced) {
  auto file = Create("/d/f");
  ASSERT_TRUE(file->Append("abc").ok());
  ASSERT_TRUE(file->Sync().ok());
  fs_.CorruptByte("/d/f", 1);
  EXPECT_EQ(Contents("/d/f"), std::string("a") + static_cast<char>(~'b') + "c");
  fs_.SimulateCrash();
  EXPECT_EQ(Contents("/d/f")[1], static_cast<char>(~'b'));
}

TEST_F(FaultInjectionFileSystemTest, WriteFileAtomicIsDurableAndReplacesWhole) {
  ASSERT_TRUE(fs_.WriteFileAtomic("/d/s", "one").ok());
  ASSERT_TRUE(fs_.WriteFileAtomic("/d/s", "second").ok());
  fs_.SimulateCrash();
  EXPECT_EQ(Contents("/d/s"), "second");
  fs_.FailNextSync();
  EXPECT_FALSE(fs_.WriteFileAtomic("/d/s", "third").ok());
  EXPECT_EQ(Contents("/d/s"), "second");
}

TEST_F(FaultInjectionFileSystemTest, TruncateIsDurable) {
  auto file = Create("/d/f");
  ASSERT_TRUE(file->Append("abcdef").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(fs_.Truncate("/d/f", 2).ok());
  fs_.SimulateCrash();
  EXPECT_EQ(Contents("/d/f"), "ab");
}

TEST_F(FaultInjectionFileSystemTest, ListDirShowsLiveNamesOnly) {
  Create("/d/a");
  Create("/d/b");
  ASSERT_TRUE(fs_.CreateDir("/d/sub/deeper").ok());
  ASSERT_TRUE(fs_.Remove("/d/a").ok());
  auto names = fs_.ListDir("/d");
  ASSERT_TRUE(names.ok());
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"b", "sub"}));
  EXPECT_FALSE(fs_.OpenAppendable("/nodir/f").ok());
}

}  // namespace
}  // namespace cmq::storage
