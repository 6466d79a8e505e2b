// Recovery on Open: what is cut from the tail, and what fails Open as corruption.

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "log_test_util.h"
#include "storage/record.h"

namespace cmq::storage {
namespace {

constexpr uint64_t kRecordBytes = kRecordHeaderBytes + 100;  // AppendRange's default

class LogRecoveryTest : public LogTestBase {
 protected:
  void SetUp() override { Open(); }
  // Entries [1, last] synced, then the log closed.
  void WriteSyncedAndClose(uint64_t last) {
    AppendRange(1, last);
    ASSERT_TRUE(log_->Sync().ok());
    log_.reset();
  }
};

TEST_F(LogRecoveryTest, TornLastRecordIsCutAndNothingElse) {
  AppendRange(1, 4);
  ASSERT_TRUE(log_->Sync().ok());
  AppendRange(5, 6);
  fs_.SimulateCrashTearingLastWrite(kRecordHeaderBytes + 30);  // 5 whole, 6 torn
  ASSERT_EQ(fs_.FileSize(SegmentPath(1)), 5 * kRecordBytes + kRecordHeaderBytes + 30);
  Open();
  EXPECT_EQ(log_->LastIndex(), 5u);
  for (uint64_t i = 1; i <= 5; ++i) ExpectEntry(i, 1);
  EXPECT_EQ(fs_.FileSize(SegmentPath(1)), 5 * kRecordBytes) << "the torn bytes are gone";
  AppendRange(6, 7);
  ASSERT_TRUE(log_->Sync().ok());
  Open();
  EXPECT_EQ(log_->LastIndex(), 7u);
}

TEST_F(LogRecoveryTest, TornHeaderIsCut) {
  AppendRange(1, 2);
  ASSERT_TRUE(log_->Sync().ok());
  AppendRange(3, 3);
  fs_.SimulateCrashTearingLastWrite(5);
  Open();
  EXPECT_EQ(log_->LastIndex(), 2u);
  EXPECT_EQ(fs_.FileSize(SegmentPath(1)), 2 * kRecordBytes);
}

TEST_F(LogRecoveryTest, TornOnlyRecordLeavesAnEmptyLogAtItsPosition) {
  AppendRange(10, 10);  // the segment's name is durable at once, the record is not
  fs_.SimulateCrashTearingLastWrite(30);
  Open();
  EXPECT_EQ(log_->FirstIndex(), 10u);
  EXPECT_EQ(log_->LastIndex(), 9u);
  EXPECT_EQ(fs_.FileSize(SegmentPath(10)), 0u);
  AppendRange(10, 10);
  ExpectEntry(10, 1);
}

TEST_F(LogRecoveryTest, CutTailStaysCutAfterAnotherCrash) {
  AppendRange(1, 2);
  ASSERT_TRUE(log_->Sync().ok());
  AppendRange(3, 3);
  fs_.SimulateCrashTearingLastWrite(40);
  Open();
  CrashAndReopen();
  EXPECT_EQ(log_->LastIndex(), 2u);
  EXPECT_EQ(fs_.FileSize(SegmentPath(1)), 2 * kRecordBytes);
}

TEST_F(LogRecoveryTest, CorruptChecksumInLastRecordIsCut) {
  WriteSyncedAndClose(4);
  fs_.CorruptByte(SegmentPath(1), 3 * kRecordBytes + kRecordHeaderBytes + 50);
  Open();
  EXPECT_EQ(log_->LastIndex(), 3u);
  for (uint64_t i = 1; i <= 3; ++i) ExpectEntry(i, 1);
}

TEST_F(LogRecoveryTest, CorruptTermInLastRecordIsCut) {
  WriteSyncedAndClose(4);
  fs_.CorruptByte(SegmentPath(1), 3 * kRecordBytes + 8);  // the term field
  Open();
  EXPECT_EQ(log_->LastIndex(), 3u);
}

TEST_F(LogRecoveryTest, CorruptRecordInTheMiddleFailsOpen) {
  WriteSyncedAndClose(4);
  fs_.CorruptByte(SegmentPath(1), 1 * kRecordBytes + kRecordHeaderBytes + 50);
  Status st = TryOpen();
  EXPECT_EQ(st.code(), ErrorCode::kCorruption) << st.ToString();
  EXPECT_EQ(fs_.FileSize(SegmentPath(1)), 4 * kRecordBytes) << "nothing was cut";
}

TEST_F(LogRecoveryTest, CorruptFirstRecordFollowedByValidOnesFailsOpen) {
  WriteSyncedAndClose(2);
  fs_.CorruptByte(SegmentPath(1), 4);  // the checksum field
  EXPECT_EQ(TryOpen().code(), ErrorCode::kCorruption);
}

TEST_F(LogRecoveryTest, BadLengthFieldInLastRecordIsCut) {
  WriteSyncedAndClose(3);
  fs_.CorruptByte(SegmentPath(1), 2 * kRecordBytes + 3);  // length becomes ~4 GiB
  Open();
  EXPECT_EQ(log_->LastIndex(), 2u);
}

TEST_F(LogRecoveryTest, SmallerBadLengthInLastRecordIsCut) {
  WriteSyncedAndClose(3);
  fs_.CorruptByte(SegmentPath(1), 2 * kRecordBytes);  // length 100 becomes 155
  Open();
  EXPECT_EQ(log_->LastIndex(), 2u);
}

TEST_F(LogRecoveryTest, BadLengthFieldInTheMiddleFailsOpen) {
  WriteSyncedAndClose(3);
  fs_.CorruptByte(SegmentPath(1), 1 * kRecordBytes);  // record 2's length
  EXPECT_EQ(TryOpen().code(), ErrorCode::kCorruption);
}

TEST_F(LogRecoveryTest, ZeroFilledTailIsCut) {
  WriteSyncedAndClose(3);
  AppendRaw(SegmentPath(1), std::string(4096, '\0'));  // written zeros, not reserved ones
  Open();
  EXPECT_EQ(log_->LastIndex(), 3u);
  AppendRange(4, 4);
  ExpectEntry(4, 1);
  EXPECT_EQ(fs_.FileSize(SegmentPath(1)), 4 * kRecordBytes) << "the zeros were cut";
}

TEST_F(LogRecoveryTest, SegmentsAreReservedAndTheirZerosAreNotDamage) {
  AppendRange(1, 12);  // 8 records fill the 1,024-byte segment, 4 go into the next
  ASSERT_TRUE(log_->Sync().ok());
  EXPECT_EQ(fs_.OpenReadable(SegmentPath(1)).value()->Size().value(), 8 * kRecordBytes)
      << "sealing cut the unused reservation";
  EXPECT_EQ(fs_.ReservedSize(SegmentPath(9)), options_.segment_bytes) << "4 MiB ahead, capped";
  EXPECT_EQ(fs_.FileSize(SegmentPath(9)), 4 * kRecordBytes);
  EXPECT_EQ(fs_.OpenReadable(SegmentPath(9)).value()->Size().value(), options_.segment_bytes);
  AppendRange(13, 14);  // unsynced: the crash turns them back into reserved zeros
  fs_.SimulateCrash();
  Open();
  EXPECT_EQ(log_->LastIndex(), 12u);
  for (uint64_t i = 1; i <= 12; ++i) ExpectEntry(i, 1);
  AppendRange(13, 13);
  ASSERT_TRUE(log_->Sync().ok());
  log_.reset();
  AppendRaw(SegmentPath(1), std::string(32, '\0'));  // zeros in a sealed segment: accepted
  Open();
  EXPECT_EQ(log_->LastIndex(), 13u);
  ExpectEntry(8, 1);
  ExpectEntry(13, 1);
}

TEST_F(LogRecoveryTest, TornRecordInAReservedSegmentIsCut) {
  AppendRange(1, 2);
  ASSERT_TRUE(log_->Sync().ok());
  AppendRange(3, 3);
  fs_.SimulateCrashTearingLastWrite(kRecordHeaderBytes + 10);  // then the reserved zeros
  EXPECT_EQ(fs_.ReservedSize(SegmentPath(1)), options_.segment_bytes);
  Open();
  EXPECT_EQ(log_->LastIndex(), 2u);
  EXPECT_EQ(fs_.FileSize(SegmentPath(1)), 2 * kRecordBytes);
  AppendRange(3, 3);
  ExpectEntry(3, 1);
}

TEST_F(LogRecoveryTest, ValidRecordAfterAHoleOfReservedZerosFailsOpen) {
  AppendRange(1, 2);
  ASSERT_TRUE(log_->Sync().ok());
  log_.reset();
  // Record 3 lost (its bytes read as the reserved zeros), record 4 valid after it.
  std::string record;
  EncodeRecord(1, 4, TestPayload(4, 100), &record);
  AppendRaw(SegmentPath(1), std::string(kRecordBytes, '\0') + record);
  EXPECT_EQ(TryOpen().code(), ErrorCode::kCorruption);
}

TEST_F(LogRecoveryTest, ShortGarbageTailIsCut) {
  WriteSyncedAndClose(3);
  AppendRaw(SegmentPath(1), "\x07\x00");
  Open();
  EXPECT_EQ(log_->LastIndex(), 3u);
}

TEST_F(LogRecoveryTest, ValidRecordAfterZeroedRecordFailsOpen) {
  WriteSyncedAndClose(2);
  std::string record;
  EncodeRecord(1, 3, TestPayload(3, 100), &record);
  AppendRaw(SegmentPath(1), std::string(kRecordBytes, '\0'));  // a lost record...
  AppendRaw(SegmentPath(1), record);                           // ...then a valid one
  EXPECT_EQ(TryOpen().code(), ErrorCode::kCorruption);
}

TEST_F(LogRecoveryTest, ValidRecordWithWrongIndexFailsOpen) {
  WriteSyncedAndClose(2);
  std::string record;
  EncodeRecord(1, 7, "misplaced", &record);
  AppendRaw(SegmentPath(1), record);
  EXPECT_EQ(TryOpen().code(), ErrorCode::kCorruption);
}

TEST_F(LogRecoveryTest, ValidRecordWithDecreasingTermFailsOpen) {
  AppendRange(1, 2, 5);
  ASSERT_TRUE(log_->Sync().ok());
  log_.reset();
  std::string record;
  EncodeRecord(4, 3, "older term", &record);
  AppendRaw(SegmentPath(1), record);
  EXPECT_EQ(TryOpen().code(), ErrorCode::kCorruption);
}

TEST_F(LogRecoveryTest, DamageInASealedSegmentFailsOpen) {
  WriteSyncedAndClose(20);                                                 // segments 1, 9, 17
  fs_.CorruptByte(SegmentPath(9), 7 * kRecordBytes + kRecordHeaderBytes);  // its last record
  Status st = TryOpen();
  EXPECT_EQ(st.code(), ErrorCode::kCorruption) << st.ToString();
}

TEST_F(LogRecoveryTest, TornTailOfASealedSegmentFailsOpen) {
  WriteSyncedAndClose(20);
  ASSERT_TRUE(fs_.Truncate(SegmentPath(9), 7 * kRecordBytes + 10).ok());
  EXPECT_EQ(TryOpen().code(), ErrorCode::kCorruption);
}

TEST_F(LogRecoveryTest, EmptyTrailingSegmentIsFine) {
  WriteSyncedAndClose(3);
  AppendRaw(SegmentPath(4), "");
  Open();
  EXPECT_EQ(log_->LastIndex(), 3u);
  AppendRange(4, 4);
  ExpectEntry(4, 1);
  ASSERT_TRUE(log_->Sync().ok());
  Open();
  EXPECT_EQ(log_->LastIndex(), 4u);
}

TEST_F(LogRecoveryTest, MissingMiddleSegmentFailsOpen) {
  WriteSyncedAndClose(20);
  ASSERT_TRUE(fs_.Remove(SegmentPath(9)).ok());
  EXPECT_EQ(TryOpen().code(), ErrorCode::kCorruption);
}

TEST_F(LogRecoveryTest, SegmentShorterThanItsSuccessorClaimsFailsOpen) {
  WriteSyncedAndClose(20);
  ASSERT_TRUE(fs_.Truncate(SegmentPath(9), 7 * kRecordBytes).ok());  // a whole record gone
  EXPECT_EQ(TryOpen().code(), ErrorCode::kCorruption);
}

TEST_F(LogRecoveryTest, UnrelatedFilesInTheDirectoryAreIgnored) {
  WriteSyncedAndClose(2);
  AppendRaw("/log/notes.txt", "hello");
  AppendRaw("/log/0001.log", "short name");
  AppendRaw("/log/00000000000000000000.log", "index zero");
  AppendRaw("/log/hardstate.tmp", "leftover");
  Open();
  EXPECT_EQ(log_->LastIndex(), 2u);
}

}  // namespace
}  // namespace cmq::storage
