// TruncateSuffix and TruncatePrefix.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "log_test_util.h"

namespace cmq::storage {
namespace {

class LogTruncateTest : public LogTestBase {
 protected:
  void SetUp() override { Open(); }
};

TEST_F(LogTruncateTest, TruncateSuffixWithinASegmentThenAppend) {
  AppendRange(1, 5, 1);
  ASSERT_TRUE(log_->TruncateSuffix(4).ok());
  EXPECT_EQ(log_->LastIndex(), 3u);
  EXPECT_EQ(log_->Read(4).status().code(), ErrorCode::kNotFound);
  AppendRange(4, 6, 2);
  ExpectEntry(3, 1);
  ExpectEntry(4, 2);
  EXPECT_EQ(log_->TermAt(3), 1u);
  EXPECT_EQ(log_->TermAt(4), 2u);
}

TEST_F(LogTruncateTest, TruncateSuffixAcrossSegmentsDeletesLaterFiles) {
  AppendRange(1, 30);  // segments 1, 9, 17, 25
  ASSERT_TRUE(log_->TruncateSuffix(12).ok());
  EXPECT_EQ(log_->LastIndex(), 11u);
  EXPECT_TRUE(fs_.Exists(SegmentPath(9)));
  EXPECT_FALSE(fs_.Exists(SegmentPath(17)));
  EXPECT_FALSE(fs_.Exists(SegmentPath(25)));
  EXPECT_EQ(fs_.FileSize(SegmentPath(9)), 3 * 124u);
  AppendRange(12, 40, 2);
  for (uint64_t i = 1; i <= 11; ++i) ExpectEntry(i, 1);
  for (uint64_t i = 12; i <= 40; ++i) ExpectEntry(i, 2);
  ASSERT_TRUE(log_->Sync().ok());
  Open();
  EXPECT_EQ(log_->LastIndex(), 40u);
  ExpectEntry(12, 2);
}

TEST_F(LogTruncateTest, TruncateSuffixAtASegmentStartDropsThatSegment) {
  AppendRange(1, 20);
  ASSERT_TRUE(log_->TruncateSuffix(9).ok());
  EXPECT_FALSE(fs_.Exists(SegmentPath(9)));
  EXPECT_EQ(log_->LastIndex(), 8u);
  AppendRange(9, 9, 3);  // lands in a new segment named 9 (segment 1 is full)
  ExpectEntry(9, 3);
  EXPECT_TRUE(fs_.Exists(SegmentPath(9)));
}

TEST_F(LogTruncateTest, TruncateSuffixIsDurableWithoutSync) {
  AppendRange(1, 20);
  ASSERT_TRUE(log_->Sync().ok());
  ASSERT_TRUE(log_->TruncateSuffix(5).ok());
  CrashAndReopen();
  EXPECT_EQ(log_->LastIndex(), 4u);
  EXPECT_FALSE(fs_.Exists(SegmentPath(9)));
}

TEST_F(LogTruncateTest, UnsyncedEntriesBeforeTheCutStayUnsynced) {
  AppendRange(1, 2);
  ASSERT_TRUE(log_->Sync().ok());
  AppendRange(3, 6);
  ASSERT_TRUE(log_->TruncateSuffix(5).ok());
  ASSERT_TRUE(log_->Sync().ok());  // must sync 3 and 4, though the writer was reopened
  CrashAndReopen();
  EXPECT_EQ(log_->LastIndex(), 4u);
}

TEST_F(LogTruncateTest, TruncateSuffixOfEverythingKeepsThePosition) {
  AppendRange(5, 20);
  ASSERT_TRUE(log_->TruncateSuffix(5).ok());
  EXPECT_EQ(log_->FirstIndex(), 5u);
  EXPECT_EQ(log_->LastIndex(), 4u);
  Open();
  EXPECT_EQ(log_->FirstIndex(), 5u);
  EXPECT_EQ(log_->LastIndex(), 4u);
  AppendRange(5, 6, 2);
  ExpectEntry(5, 2);
}

TEST_F(LogTruncateTest, TruncateSuffixPastTheEndIsANoOp) {
  AppendRange(1, 3);
  EXPECT_TRUE(log_->TruncateSuffix(4).ok());
  EXPECT_TRUE(log_->TruncateSuffix(100).ok());
  EXPECT_EQ(log_->LastIndex(), 3u);
}

TEST_F(LogTruncateTest, TruncateSuffixBeforeTheFirstIndexIsRejected) {
  AppendRange(10, 12);
  EXPECT_EQ(log_->TruncateSuffix(9).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(log_->TruncateSuffix(0).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(log_->LastIndex(), 12u);
  EXPECT_FALSE(log_->failed());
}

TEST_F(LogTruncateTest, TruncatePrefixDropsOnlyWholeSegments) {
  AppendRange(1, 30);  // segments 1, 9, 17, 25
  ASSERT_TRUE(log_->TruncatePrefix(20).ok());
  EXPECT_FALSE(fs_.Exists(SegmentPath(1)));
  EXPECT_FALSE(fs_.Exists(SegmentPath(9)));
  EXPECT_TRUE(fs_.Exists(SegmentPath(17)));
  EXPECT_EQ(log_->FirstIndex(), 17u);
  EXPECT_EQ(log_->LastIndex(), 30u);
  EXPECT_EQ(log_->Read(16).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(log_->TermAt(16), 0u);
  ExpectEntry(17, 1);
  AppendRange(31, 31);
  ASSERT_TRUE(log_->Sync().ok());
  Open();
  EXPECT_EQ(log_->FirstIndex(), 17u);
  EXPECT_EQ(log_->LastIndex(), 31u);
}

TEST_F(LogTruncateTest, FirstSegmentEndStepsThroughTheSegmentsOneAtATime) {
  // What cluster/ does to compact a large prefix without holding the writer for long.
  AppendRange(1, 30);  // segments 1, 9, 17, 25
  EXPECT_EQ(log_->FirstSegmentEnd(), 9u);
  ASSERT_TRUE(log_->TruncatePrefix(log_->FirstSegmentEnd()).ok());
  EXPECT_FALSE(fs_.Exists(SegmentPath(1)));
  EXPECT_TRUE(fs_.Exists(SegmentPath(9)));
  EXPECT_EQ(log_->FirstIndex(), 9u);
  EXPECT_EQ(log_->FirstSegmentEnd(), 17u);
  ASSERT_TRUE(log_->TruncatePrefix(log_->FirstSegmentEnd()).ok());
  EXPECT_EQ(log_->FirstIndex(), 17u);
  EXPECT_EQ(log_->FirstSegmentEnd(), 25u);
  ASSERT_TRUE(log_->TruncatePrefix(25).ok());
  // The newest segment ends past the last entry: stepping to it would empty the log.
  EXPECT_EQ(log_->FirstSegmentEnd(), 31u);
  for (uint64_t i = 25; i <= 30; ++i) ExpectEntry(i, 1);
  ASSERT_TRUE(log_->Sync().ok());
  CrashAndReopen();
  EXPECT_EQ(log_->FirstIndex(), 25u);
  EXPECT_EQ(log_->LastIndex(), 30u);
}

TEST_F(LogTruncateTest, DetachPrefixLeavesTheFilesToTheCaller) {
  // What cluster/ does so that freeing old segments' blocks holds up no log write.
  AppendRange(1, 30);  // segments 1, 9, 17, 25
  ASSERT_TRUE(log_->Sync().ok());
  auto detached = log_->DetachPrefix(20);
  ASSERT_TRUE(detached.ok()) << detached.status().ToString();
  EXPECT_EQ(*detached, (std::vector<std::string>{SegmentPath(1), SegmentPath(9)}));
  EXPECT_EQ(log_->FirstIndex(), 17u);
  EXPECT_EQ(log_->Read(16).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(fs_.Exists(SegmentPath(1))) << "removed by the caller, not here";
  AppendRange(31, 40);  // the writer goes on meanwhile
  ASSERT_TRUE(log_->RemoveDetachedFiles(*detached).ok());
  EXPECT_FALSE(fs_.Exists(SegmentPath(1)));
  EXPECT_FALSE(fs_.Exists(SegmentPath(9)));
  ASSERT_TRUE(log_->Sync().ok());
  CrashAndReopen();
  EXPECT_EQ(log_->FirstIndex(), 17u);
  EXPECT_EQ(log_->LastIndex(), 40u);
  ExpectEntry(40, 1);
}

TEST_F(LogTruncateTest, ACrashBeforeDetachedFilesAreRemovedBringsTheirEntriesBack) {
  AppendRange(1, 30);
  ASSERT_TRUE(log_->Sync().ok());
  auto detached = log_->DetachPrefix(20);
  ASSERT_TRUE(detached.ok());
  ASSERT_EQ(detached->size(), 2u);
  CrashAndReopen();  // as if no truncation had run: a contiguous log from 1
  EXPECT_EQ(log_->FirstIndex(), 1u);
  EXPECT_EQ(log_->LastIndex(), 30u);
  for (uint64_t i = 1; i <= 30; ++i) ExpectEntry(i, 1);
  // A crash after the oldest file went leaves a suffix, still contiguous.
  detached = log_->DetachPrefix(20);
  ASSERT_TRUE(detached.ok());
  ASSERT_TRUE(log_->RemoveDetachedFiles({detached->front()}).ok());
  CrashAndReopen();
  EXPECT_EQ(log_->FirstIndex(), 9u);
  EXPECT_EQ(log_->LastIndex(), 30u);
  ExpectEntry(9, 1);
}

TEST_F(LogTruncateTest, DetachingEverythingRemovesTheFilesAtOnce) {
  // The emptied log starts a segment named `before`, which may be a dropped file's name.
  AppendRange(1, 10, 3);
  auto detached = log_->DetachPrefix(101);
  ASSERT_TRUE(detached.ok());
  EXPECT_TRUE(detached->empty());
  EXPECT_FALSE(fs_.Exists(SegmentPath(1)));
  EXPECT_EQ(log_->FirstIndex(), 101u);
  EXPECT_EQ(log_->LastIndex(), 100u);
}

TEST_F(LogTruncateTest, TruncatePrefixAtOrBeforeTheFirstIndexIsANoOp) {
  AppendRange(1, 10);
  EXPECT_TRUE(log_->TruncatePrefix(1).ok());
  EXPECT_TRUE(log_->TruncatePrefix(8).ok());  // segment 1 still holds entry 8
  EXPECT_EQ(log_->FirstIndex(), 1u);
}

TEST_F(LogTruncateTest, TruncatePrefixPastTheEndRepositionsTheLog) {
  AppendRange(1, 10, 3);
  ASSERT_TRUE(log_->TruncatePrefix(101).ok());
  EXPECT_EQ(log_->FirstIndex(), 101u);
  EXPECT_EQ(log_->LastIndex(), 100u);
  EXPECT_EQ(log_->TermAt(10), 0u);
  CrashAndReopen();
  EXPECT_EQ(log_->FirstIndex(), 101u);
  EXPECT_EQ(log_->LastIndex(), 100u);
  AppendRange(101, 102, 4);
  ExpectEntry(101, 4);
  EXPECT_EQ(log_->TermAt(102), 4u);
}

TEST_F(LogTruncateTest, AppendToAnEmptyLogMovesItsPosition) {
  AppendRange(5, 6);
  ASSERT_TRUE(log_->TruncateSuffix(5).ok());
  AppendRange(50, 51);
  EXPECT_FALSE(fs_.Exists(SegmentPath(5)));
  ASSERT_TRUE(log_->Sync().ok());
  CrashAndReopen();
  EXPECT_EQ(log_->FirstIndex(), 50u);
  EXPECT_EQ(log_->LastIndex(), 51u);
}

TEST_F(LogTruncateTest, ReadersOfTruncatedEntriesSeeNotFoundNotOldBytes) {
  AppendRange(1, 3, 1);
  ASSERT_TRUE(log_->TruncateSuffix(2).ok());
  AppendRange(2, 2, 2, 50);
  auto entry = log_->Read(2);
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->term, 2u);
  EXPECT_EQ(entry->payload, TestPayload(2, 50));
  EXPECT_EQ(log_->Read(3).status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace cmq::storage
