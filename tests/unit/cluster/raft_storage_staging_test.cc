// RaftStorage's staging log (raft_storage.h "Staging"): chunks of a retained run streamed
// by a leader are taken, continued, restarted or ignored as the protocol needs; a snapshot
// installs with them; a crash in the middle of that finds them again.

#include <gtest/gtest.h>

#include "cluster/raft_storage.h"
#include "storage/fault_injection_file_system.h"

namespace cmq::cluster {
namespace {

raft::Entry E(raft::Term term, raft::Index index) {
  raft::Entry e;
  e.term = term;
  e.index = index;
  e.type = raft::EntryType::kNormal;
  e.data = raft::MakePayload("body-" + std::to_string(index));
  return e;
}

std::vector<raft::Entry> Entries(raft::Term term, raft::Index first, raft::Index last) {
  std::vector<raft::Entry> out;
  for (raft::Index i = first; i <= last; ++i) out.push_back(E(term, i));
  return out;
}

class RaftStorageStagingTest : public ::testing::Test {
 protected:
  void Open() {
    storage_.reset();
    RaftStorageOptions options;
    options.dir = "/group";
    options.segment_bytes = 256;  // several segments per run
    auto opened = RaftStorage::Open(&fs_, options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(*opened);
  }
  RaftStorage::StagedRange Stage(raft::Index run_first, const std::vector<raft::Entry>& entries) {
    auto r = storage_->Stage(run_first, entries);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RaftStorage::StagedRange{};
  }
  static raft::Snapshot Snapshot(raft::Index index, raft::Term term) {
    raft::Snapshot s;
    s.meta.index = index;
    s.meta.term = term;
    s.meta.conf_state.voters = {1, 2, 3};
    s.data = raft::MakePayload("state");
    return s;
  }
  void ExpectLogHolds(raft::Index first, raft::Index last) {
    for (raft::Index i = first; i <= last; ++i) {
      auto data = storage_->ReadData(i);
      ASSERT_TRUE(data.ok()) << i << ": " << data.status().ToString();
      EXPECT_EQ(*data, "body-" + std::to_string(i));
    }
  }

  storage::FaultInjectionFileSystem fs_;
  std::unique_ptr<RaftStorage> storage_;
};

TEST_F(RaftStorageStagingTest, ChunksThatContinueTheRunAreAppended) {
  Open();
  auto r = Stage(5, Entries(2, 5, 9));
  EXPECT_EQ(r.first, 5u);
  EXPECT_EQ(r.next, 10u);
  r = Stage(5, Entries(2, 10, 14));
  EXPECT_EQ(r.next, 15u);
  // A chunk sent again (its answer was lost) overlaps: what is staged is skipped.
  r = Stage(5, Entries(2, 12, 17));
  EXPECT_EQ(r.first, 5u);
  EXPECT_EQ(r.next, 18u);
  EXPECT_TRUE(storage_->StagedCovers(5, 17, 2));
  EXPECT_TRUE(storage_->StagedCovers(7, 12, 2));
  EXPECT_FALSE(storage_->StagedCovers(4, 17, 2));  // starts before the staged run
  EXPECT_FALSE(storage_->StagedCovers(5, 18, 2));  // ends after it
  EXPECT_FALSE(storage_->StagedCovers(5, 17, 3));  // another term at the snapshot
  // A question (no entries) only reads the staged run.
  r = Stage(5, {});
  EXPECT_EQ(r.first, 5u);
  EXPECT_EQ(r.next, 18u);
}

TEST_F(RaftStorageStagingTest, AChunkAfterAGapIsIgnoredAndTheRunStartsOver) {
  Open();
  Stage(5, Entries(2, 5, 9));
  // Entries 10..11 were lost on the way: the chunk from 12 is not taken.
  auto r = Stage(5, Entries(2, 12, 14));
  EXPECT_EQ(r.first, 5u);
  EXPECT_EQ(r.next, 10u);
  // A new stream for a later run: a chunk at its first entry replaces what was staged.
  r = Stage(20, Entries(3, 22, 23));
  EXPECT_EQ(r.next, 10u);  // not its first entry: ignored
  r = Stage(20, Entries(3, 20, 21));
  EXPECT_EQ(r.first, 20u);
  EXPECT_EQ(r.next, 22u);
  EXPECT_FALSE(storage_->StagedCovers(5, 9, 2));
  // A run starting inside the staged one continues it.
  r = Stage(21, Entries(3, 22, 25));
  EXPECT_EQ(r.first, 20u);
  EXPECT_EQ(r.next, 26u);
}

TEST_F(RaftStorageStagingTest, AStagedSnapshotInstallsWithTheStagedEntries) {
  Open();
  ASSERT_TRUE(storage_->Append(Entries(1, 1, 3)).ok());
  ASSERT_TRUE(storage_->Sync().ok());
  Stage(10, Entries(2, 10, 30));
  ASSERT_TRUE(storage_->ApplyStagedSnapshot(Snapshot(30, 2), 10).ok());
  EXPECT_EQ(storage_->FirstIndex(), 31u);
  EXPECT_EQ(storage_->LogFirstIndex(), 10u);
  ExpectLogHolds(10, 30);
  EXPECT_FALSE(storage_->ReadData(3).ok());  // the old log is gone
  auto staged = storage_->Staged();
  EXPECT_EQ(staged.first, staged.next);  // emptied
  // Durable: a crash right after keeps all of it.
  storage_.reset();
  fs_.SimulateCrash();
  Open();
  EXPECT_EQ(storage_->FirstIndex(), 31u);
  ExpectLogHolds(10, 30);
}

TEST_F(RaftStorageStagingTest, ASnapshotThatTheStagingLogDoesNotCoverChangesNothing) {
  Open();
  ASSERT_TRUE(storage_->Append(Entries(1, 1, 3)).ok());
  ASSERT_TRUE(storage_->Sync().ok());
  Stage(10, Entries(2, 10, 29));
  EXPECT_EQ(storage_->ApplyStagedSnapshot(Snapshot(30, 2), 10).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(storage_->ApplyStagedSnapshot(Snapshot(29, 2), 9).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(storage_->ApplyStagedSnapshot(Snapshot(29, 3), 10).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(storage_->LastIndex(), 3u);
  EXPECT_FALSE(storage_->GetSnapshot()->meta.index != 0);
  EXPECT_TRUE(storage_->StagedCovers(10, 29, 2));  // kept for the right snapshot
}

TEST_F(RaftStorageStagingTest, ACrashBeforeTheCopyIsRepairedFromTheStagingLog) {
  Open();
  ASSERT_TRUE(storage_->Append(Entries(1, 1, 3)).ok());
  ASSERT_TRUE(storage_->Sync().ok());
  Stage(10, Entries(2, 10, 30));
  // The install syncs the staging log and saves the snapshot; its first write into the
  // log fails (the process dies there), and the crash drops whatever was not synced.
  fs_.FailWriteAfter(0);
  EXPECT_FALSE(storage_->ApplyStagedSnapshot(Snapshot(30, 2), 10).ok());
  storage_.reset();
  fs_.ClearFaults();
  fs_.SimulateCrash();
  Open();
  EXPECT_EQ(storage_->GetSnapshot()->meta.index, 30u);
  EXPECT_FALSE(storage_->ReadData(10).ok());  // the snapshot's bodies are not in the log
  ASSERT_TRUE(storage_->RestoreRetainedFromStaging(10).ok());
  ExpectLogHolds(10, 30);
  EXPECT_EQ(storage_->FirstIndex(), 31u);
  auto staged = storage_->Staged();
  EXPECT_EQ(staged.first, staged.next);
  // And that is durable too.
  storage_.reset();
  fs_.SimulateCrash();
  Open();
  ExpectLogHolds(10, 30);
}

TEST_F(RaftStorageStagingTest, RestoringFromAStagingLogThatLacksTheRunIsCorruption) {
  Open();
  Stage(10, Entries(2, 10, 20));
  ASSERT_TRUE(storage_->ApplySnapshot(Snapshot(30, 2)).ok());
  EXPECT_EQ(storage_->RestoreRetainedFromStaging(10).code(), ErrorCode::kCorruption);
}

TEST_F(RaftStorageStagingTest, AFailedStagingLogIsOpenedAgain) {
  Open();
  Stage(10, Entries(2, 10, 12));
  fs_.FailWriteAfter(0);
  EXPECT_FALSE(storage_->Stage(10, Entries(2, 13, 14)).ok());
  fs_.ClearFaults();
  // Reopened from disk: the unsynced entries may or may not be there, but it works again.
  auto r = storage_->Stage(10, Entries(2, 10, 14));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->first, 10u);
  EXPECT_EQ(r->next, 15u);
}

}  // namespace
}  // namespace cmq::cluster
