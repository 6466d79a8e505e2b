// Behaviour of the segmented log on the fault-injection file system.

#include <gtest/gtest.h>

#include "log_test_util.h"
#include "storage/record.h"

namespace cmq::storage {
namespace {

constexpr uint64_t kRecordBytes = kRecordHeaderBytes + 100;  // AppendRange's default

class LogTest : public LogTestBase {
 protected:
  void SetUp() override { Open(); }
};

TEST_F(LogTest, FreshLogIsEmptyWithFirstIndexOne) {
  EXPECT_EQ(log_->FirstIndex(), 1u);
  EXPECT_EQ(log_->LastIndex(), 0u);
  EXPECT_EQ(log_->TermAt(0), 0u);
  EXPECT_EQ(log_->TermAt(1), 0u);
  EXPECT_FALSE(log_->failed());
}

TEST_F(LogTest, AppendThenReadRoundTrips) {
  AppendRange(1, 5, 3);
  EXPECT_EQ(log_->FirstIndex(), 1u);
  EXPECT_EQ(log_->LastIndex(), 5u);
  for (uint64_t i = 1; i <= 5; ++i) ExpectEntry(i, 3);
}

TEST_F(LogTest, EmptyPayloadRoundTrips) {
  ASSERT_TRUE(log_->Append(1, 1, "").ok());
  auto entry = log_->Read(1);
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->payload, "");
}

TEST_F(LogTest, BinaryPayloadRoundTrips) {
  std::string payload;
  for (int c = 0; c < 256; ++c) payload.push_back(static_cast<char>(c));
  ASSERT_TRUE(log_->Append(1, 1, payload).ok());
  EXPECT_EQ(log_->Read(1)->payload, payload);
}

TEST_F(LogTest, AppendWithWrongIndexIsRejected) {
  AppendRange(1, 3);
  EXPECT_EQ(log_->Append(1, 3, "dup").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(log_->Append(1, 5, "gap").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(log_->Append(1, 0, "zero").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(log_->LastIndex(), 3u);
  EXPECT_FALSE(log_->failed()) << "a caller error is not a disk failure";
  AppendRange(4, 4);
}

TEST_F(LogTest, AppendWithDecreasingTermIsRejected) {
  ASSERT_TRUE(log_->Append(5, 1, "a").ok());
  EXPECT_EQ(log_->Append(4, 2, "b").code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(log_->Append(5, 2, "b").ok());
  EXPECT_TRUE(log_->Append(7, 3, "c").ok());
}

TEST_F(LogTest, OversizedPayloadIsRejected) {
  std::string huge(kMaxPayloadBytes + 1, 'x');
  EXPECT_EQ(log_->Append(1, 1, huge).code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(log_->failed());
}

TEST_F(LogTest, FirstAppendToEmptyLogMayStartAtAnyIndex) {
  AppendRange(100, 102);
  EXPECT_EQ(log_->FirstIndex(), 100u);
  EXPECT_EQ(log_->LastIndex(), 102u);
  ExpectEntry(100, 1);
  EXPECT_TRUE(fs_.Exists(SegmentPath(100)));
}

TEST_F(LogTest, TermAtFollowsTermChangesAndIsZeroOutOfRange) {
  AppendRange(1, 3, 1);
  AppendRange(4, 4, 2);
  AppendRange(5, 7, 5);
  EXPECT_EQ(log_->TermAt(1), 1u);
  EXPECT_EQ(log_->TermAt(3), 1u);
  EXPECT_EQ(log_->TermAt(4), 2u);
  EXPECT_EQ(log_->TermAt(5), 5u);
  EXPECT_EQ(log_->TermAt(7), 5u);
  EXPECT_EQ(log_->TermAt(8), 0u);
  EXPECT_EQ(log_->TermAt(0), 0u);
}

TEST_F(LogTest, ReadOutOfRangeIsNotFound) {
  AppendRange(1, 2);
  EXPECT_EQ(log_->Read(0).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(log_->Read(3).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(log_->ReadPayloadRange(3, 0, 1).status().code(), ErrorCode::kNotFound);
}

TEST_F(LogTest, ReopenAfterSyncKeepsEverything) {
  AppendRange(1, 20, 2);
  ASSERT_TRUE(log_->Sync().ok());
  Open();
  EXPECT_EQ(log_->FirstIndex(), 1u);
  EXPECT_EQ(log_->LastIndex(), 20u);
  for (uint64_t i = 1; i <= 20; ++i) ExpectEntry(i, 2);
  EXPECT_EQ(log_->TermAt(20), 2u);
  AppendRange(21, 21, 2);
}

TEST_F(LogTest, CrashDropsUnsyncedEntriesButKeepsSynced) {
  AppendRange(1, 5);
  ASSERT_TRUE(log_->Sync().ok());
  AppendRange(6, 8);
  CrashAndReopen();
  EXPECT_EQ(log_->LastIndex(), 5u);
  for (uint64_t i = 1; i <= 5; ++i) ExpectEntry(i, 1);
  AppendRange(6, 6);
}

TEST_F(LogTest, CrashBeforeAnySyncLeavesAnEmptyLog) {
  AppendRange(1, 3);
  CrashAndReopen();
  EXPECT_EQ(log_->LastIndex(), 0u);
  AppendRange(1, 1);
}

TEST_F(LogTest, SegmentsRollAndReadsCrossThem) {
  // 124-byte records, 1024-byte segments: 8 records per segment.
  AppendRange(1, 30);
  EXPECT_TRUE(fs_.Exists(SegmentPath(1)));
  EXPECT_TRUE(fs_.Exists(SegmentPath(9)));
  EXPECT_TRUE(fs_.Exists(SegmentPath(17)));
  EXPECT_TRUE(fs_.Exists(SegmentPath(25)));
  EXPECT_LE(fs_.FileSize(SegmentPath(1)), options_.segment_bytes);
  for (uint64_t i = 1; i <= 30; ++i) ExpectEntry(i, 1);
  ASSERT_TRUE(log_->Sync().ok());
  Open();
  for (uint64_t i = 1; i <= 30; ++i) ExpectEntry(i, 1);
}

TEST_F(LogTest, RollingSyncsTheSealedSegment) {
  AppendRange(1, 9);  // entry 9 starts segment 9
  EXPECT_EQ(fs_.SyncedSize(SegmentPath(1)), fs_.FileSize(SegmentPath(1)));
  CrashAndReopen();  // the new segment's name is durable too: only entry 9 is lost
  EXPECT_EQ(log_->LastIndex(), 8u);
  EXPECT_TRUE(fs_.Exists(SegmentPath(9)));
  AppendRange(9, 9);
}

TEST_F(LogTest, EntryLargerThanASegmentGetsItsOwnSegment) {
  AppendRange(1, 1, 1, 100);
  AppendRange(2, 2, 1, 5000);
  AppendRange(3, 3, 1, 100);
  EXPECT_TRUE(fs_.Exists(SegmentPath(2)));
  EXPECT_TRUE(fs_.Exists(SegmentPath(3)));
  ExpectEntry(2, 1, 5000);
}

TEST_F(LogTest, ReadPayloadRangeAtOddOffsets) {
  std::string payload = TestPayload(1, 1000);
  ASSERT_TRUE(log_->Append(1, 1, payload).ok());
  for (uint32_t offset : {0u, 1u, 7u, 333u, 999u, 1000u}) {
    for (uint32_t length : {0u, 1u, 13u}) {
      if (offset + length > 1000) continue;
      auto range = log_->ReadPayloadRange(1, offset, length);
      ASSERT_TRUE(range.ok()) << offset << "+" << length;
      EXPECT_EQ(*range, payload.substr(offset, length));
    }
  }
  EXPECT_EQ(*log_->ReadPayloadRange(1, 0, 1000), payload);
}

TEST_F(LogTest, ReadPayloadRangePastThePayloadIsInvalidArgument) {
  AppendRange(1, 2);  // 100-byte payloads
  EXPECT_EQ(log_->ReadPayloadRange(1, 90, 11).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(log_->ReadPayloadRange(1, 101, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(log_->ReadPayloadRange(1, 0xffffffffu, 2).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(log_->ReadPayloadRange(1, 90, 10).ok());
}

TEST_F(LogTest, ReadDetectsABitFlipOnDisk) {
  AppendRange(1, 3);
  ASSERT_TRUE(log_->Sync().ok());
  fs_.CorruptByte(SegmentPath(1), kRecordHeaderBytes + 124 + 5);  // entry 2's payload
  EXPECT_EQ(log_->Read(2).status().code(), ErrorCode::kCorruption);
  ExpectEntry(1, 1);
  ExpectEntry(3, 1);
}

TEST_F(LogTest, EveryAppendIsOneWriteAndSyncIsOneFdatasync) {
  uint64_t writes = fs_.WriteCount();
  AppendRange(1, 5);
  EXPECT_EQ(fs_.WriteCount() - writes, 5u);
  uint64_t syncs = fs_.SyncCount();
  ASSERT_TRUE(log_->Sync().ok());
  EXPECT_EQ(fs_.SyncCount() - syncs, 1u);
  ASSERT_TRUE(log_->Sync().ok());
  EXPECT_EQ(fs_.SyncCount() - syncs, 1u) << "nothing new to sync";
}

TEST_F(LogTest, SyncFailureIsSticky) {
  AppendRange(1, 2);
  fs_.FailNextSync();
  EXPECT_EQ(log_->Sync().code(), ErrorCode::kIoError);
  EXPECT_TRUE(log_->failed());
  EXPECT_EQ(log_->Sync().code(), ErrorCode::kLogFailed) << "never retry an fsync";
  EXPECT_EQ(log_->Append(1, 3, "x").code(), ErrorCode::kLogFailed);
  EXPECT_EQ(log_->TruncateSuffix(1).code(), ErrorCode::kLogFailed);
  EXPECT_EQ(log_->TruncatePrefix(2).code(), ErrorCode::kLogFailed);
  EXPECT_EQ(log_->SaveHardState({1, 1, 1}).code(), ErrorCode::kLogFailed);
  ExpectEntry(1, 1);  // reads still work
}

TEST_F(LogTest, ASegmentIsReservedAStepAheadOfItsEnd) {
  options_.segment_bytes = 64 << 20;
  Open();
  constexpr uint64_t kAhead = 4 << 20;
  const std::string payload(64 << 10, 'r');  // 64 KiB records
  const uint64_t record = kRecordHeaderBytes + payload.size();
  ASSERT_TRUE(log_->Append(1, 1, payload).ok());
  EXPECT_EQ(fs_.ReservedSize(SegmentPath(1)), record + kAhead) << "not the whole segment";
  uint64_t index = 2;
  while (fs_.FileSize(SegmentPath(1)) + record <= record + kAhead) {
    ASSERT_TRUE(log_->Append(1, index++, payload).ok());
  }
  EXPECT_EQ(fs_.ReservedSize(SegmentPath(1)), record + kAhead) << "within the reservation";
  ASSERT_TRUE(log_->Append(1, index, payload).ok());  // past it: a step further
  EXPECT_EQ(fs_.ReservedSize(SegmentPath(1)), index * record + kAhead);
}

TEST_F(LogTest, AppendsIntoAReservedSegmentNeedNoMoreRoom) {
  AppendRange(1, 1);
  ASSERT_TRUE(log_->Sync().ok());
  ASSERT_EQ(fs_.ReservedSize(SegmentPath(1)), options_.segment_bytes);
  fs_.SetSpaceLimit(options_.segment_bytes);  // the disk is now full
  AppendRange(2, 8);                          // the rest of the segment: its blocks were reserved
  ASSERT_TRUE(log_->Sync().ok());
  EXPECT_EQ(log_->Append(1, 9, TestPayload(9, 100)).code(), ErrorCode::kNoSpace)
      << "a new segment needs room";
}

TEST_F(LogTest, WriteFailureIsSticky) {
  AppendRange(1, 2);
  fs_.FailWriteAfter(0);
  EXPECT_EQ(log_->Append(1, 3, "x").code(), ErrorCode::kIoError);
  EXPECT_TRUE(log_->failed());
  EXPECT_EQ(log_->LastIndex(), 2u);
  EXPECT_EQ(log_->Append(1, 3, "x").code(), ErrorCode::kLogFailed);
  EXPECT_EQ(log_->Sync().code(), ErrorCode::kLogFailed);
}

TEST_F(LogTest, NoSpaceSurfacesAsNoSpaceThenLogFailed) {
  // Too little room to reserve the segment (best effort: it grows by appends instead).
  fs_.SetSpaceLimit(3 * kRecordBytes + 50);  // three records and half of a fourth fit
  AppendRange(1, 3);
  ASSERT_TRUE(log_->Sync().ok());
  EXPECT_EQ(fs_.ReservedSize(SegmentPath(1)), 0u);
  EXPECT_EQ(log_->Append(1, 4, TestPayload(4, 100)).code(), ErrorCode::kNoSpace);
  EXPECT_TRUE(log_->failed());
  EXPECT_EQ(log_->Append(1, 4, "x").code(), ErrorCode::kLogFailed);
  // After a restart with space freed, the half-written record is cut and writes resume.
  fs_.ClearFaults();
  CrashAndReopen();
  EXPECT_EQ(log_->LastIndex(), 3u);
  AppendRange(4, 4);
  ASSERT_TRUE(log_->Sync().ok());
}

TEST_F(LogTest, FailedSaveHardStateIsStickyAndKeepsTheOldState) {
  ASSERT_TRUE(log_->SaveHardState({3, 2, 1}).ok());
  fs_.FailNextSync();
  EXPECT_FALSE(log_->SaveHardState({4, 4, 4}).ok());
  EXPECT_TRUE(log_->failed());
  EXPECT_EQ(log_->LoadHardState(), (HardState{3, 2, 1}));
  Open();
  EXPECT_EQ(log_->LoadHardState(), (HardState{3, 2, 1}));
}

TEST_F(LogTest, HardStateDefaultsToZero) {
  EXPECT_EQ(log_->LoadHardState(), HardState{});
}

TEST_F(LogTest, HardStateRoundTripsAcrossCrash) {
  HardState hs{7, 3, 42};
  ASSERT_TRUE(log_->SaveHardState(hs).ok());
  EXPECT_EQ(log_->LoadHardState(), hs);
  CrashAndReopen();
  EXPECT_EQ(log_->LoadHardState(), hs);
  ASSERT_TRUE(log_->SaveHardState({8, 0, 42}).ok());
  Open();
  EXPECT_EQ(log_->LoadHardState(), (HardState{8, 0, 42}));
}

TEST_F(LogTest, CorruptHardStateFileFailsOpen) {
  ASSERT_TRUE(log_->SaveHardState({7, 3, 42}).ok());
  log_.reset();
  fs_.CorruptByte("/log/hardstate", 10);
  EXPECT_EQ(TryOpen().code(), ErrorCode::kCorruption);
}

TEST_F(LogTest, TruncatedHardStateFileFailsOpen) {
  log_.reset();
  ASSERT_TRUE(fs_.WriteFileAtomic("/log/hardstate", "short").ok());
  EXPECT_EQ(TryOpen().code(), ErrorCode::kCorruption);
}

TEST_F(LogTest, InvalidOptionsAreRejected) {
  options_.segment_bytes = 0;
  EXPECT_EQ(TryOpen().code(), ErrorCode::kInvalidArgument);
  options_.segment_bytes = kMaxSegmentBytes + 1;
  EXPECT_EQ(TryOpen().code(), ErrorCode::kInvalidArgument);
  options_.segment_bytes = 1024;
  options_.dir = "";
  EXPECT_EQ(TryOpen().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cmq::storage
