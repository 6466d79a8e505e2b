// RaftStorage over the fault-injection file system: the raft::Storage contract, conflicts,
// crashes (nothing synced lost, nothing unsynced trusted), snapshots and compaction.

#include "cluster/raft_storage.h"

#include <gtest/gtest.h>

#include "storage/fault_injection_file_system.h"

namespace cmq::cluster {
namespace {

using raft::Entry;
using raft::EntryType;

Entry E(raft::Term term, raft::Index index, std::string data = "",
        EntryType type = EntryType::kNormal) {
  Entry e;
  e.term = term;
  e.index = index;
  e.type = type;
  if (data.empty()) data = "d" + std::to_string(index) + "t" + std::to_string(term);
  e.data = raft::MakePayload(data);
  return e;
}

std::vector<Entry> Range(raft::Term term, raft::Index first, raft::Index last) {
  std::vector<Entry> out;
  for (raft::Index i = first; i <= last; ++i) out.push_back(E(term, i));
  return out;
}

class RaftStorageTest : public ::testing::Test {
 protected:
  void Open() {
    storage_.reset();
    RaftStorageOptions options;
    options.dir = "/group";
    options.segment_bytes = 256;  // a few entries per segment, so compaction drops files
    auto opened = RaftStorage::Open(&fs_, options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(*opened);
  }
  void CrashAndReopen() {
    storage_.reset();
    fs_.SimulateCrash();
    Open();
  }
  void ExpectTerms(raft::Index first, raft::Index last, raft::Term term) {
    for (raft::Index i = first; i <= last; ++i) {
      auto t = storage_->TermAt(i);
      ASSERT_TRUE(t.ok()) << i;
      EXPECT_EQ(*t, term) << i;
    }
  }
  raft::Snapshot MakeSnapshot(raft::Index index, raft::Term term, std::string data) {
    raft::Snapshot s;
    s.meta.index = index;
    s.meta.term = term;
    s.meta.conf_state.voters = {1, 2, 3};
    s.meta.conf_state.learners = {4};
    s.data = raft::MakePayload(data);
    return s;
  }

  storage::FaultInjectionFileSystem fs_;
  std::unique_ptr<RaftStorage> storage_;
};

TEST_F(RaftStorageTest, NewStorageIsEmpty) {
  Open();
  EXPECT_EQ(storage_->FirstIndex(), 1u);
  EXPECT_EQ(storage_->LastIndex(), 0u);
  EXPECT_EQ(*storage_->TermAt(0), 0u);
  EXPECT_EQ(storage_->TermAt(1).status().code(), raft::kStorageUnavailable);
  auto init = storage_->GetInitialState();
  ASSERT_TRUE(init.ok());
  EXPECT_TRUE(init->hard_state.empty());
  EXPECT_TRUE(storage_->GetSnapshot()->empty());
}

TEST_F(RaftStorageTest, AppendReadsBackTypesAndData) {
  Open();
  std::vector<Entry> entries = {E(1, 1), E(1, 2, "cc", EntryType::kConfChange), E(2, 3)};
  entries[0].data = nullptr;  // the leader's empty entry
  ASSERT_TRUE(storage_->Append(entries).ok());
  auto got = storage_->Entries(1, 4, UINT64_MAX);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].data_size(), 0u);
  EXPECT_EQ((*got)[1].type, EntryType::kConfChange);
  EXPECT_EQ((*got)[1].data_view(), "cc");
  EXPECT_EQ((*got)[2].term, 2u);
  EXPECT_EQ((*got)[2].data_view(), "d3t2");
  EXPECT_EQ(storage_->Entries(0, 2, UINT64_MAX).status().code(), raft::kStorageCompacted);
  EXPECT_EQ(storage_->Entries(1, 5, UINT64_MAX).status().code(), raft::kStorageUnavailable);
}

TEST_F(RaftStorageTest, EntriesHonourMaxBytesButReturnAtLeastOne) {
  Open();
  ASSERT_TRUE(storage_->Append(Range(1, 1, 5)).ok());  // 4 bytes of data each
  EXPECT_EQ(storage_->Entries(1, 6, 0)->size(), 1u);
  EXPECT_EQ(storage_->Entries(1, 6, 8)->size(), 2u);
  EXPECT_EQ(storage_->Entries(1, 6, UINT64_MAX)->size(), 5u);
}

TEST_F(RaftStorageTest, ConflictingAppendReplacesTheSuffix) {
  Open();
  ASSERT_TRUE(storage_->Append(Range(1, 1, 6)).ok());
  ASSERT_TRUE(storage_->Append({E(1, 3), E(2, 4), E(2, 5)}).ok());  // 3 matches; 4 conflicts
  EXPECT_EQ(storage_->LastIndex(), 5u);
  ExpectTerms(1, 3, 1);
  ExpectTerms(4, 5, 2);
  EXPECT_EQ(storage_->Entries(4, 5, UINT64_MAX)->front().data_view(), "d4t2");
}

TEST_F(RaftStorageTest, AppendWithAGapFails) {
  Open();
  ASSERT_TRUE(storage_->Append(Range(1, 1, 2)).ok());
  EXPECT_EQ(storage_->Append({E(1, 4)}).code(), ErrorCode::kInvalidArgument);
}

TEST_F(RaftStorageTest, CrashKeepsSyncedEntriesAndHardState) {
  Open();
  ASSERT_TRUE(storage_->Append(Range(1, 1, 4)).ok());
  ASSERT_TRUE(storage_->Sync().ok());
  ASSERT_TRUE(storage_->SetHardState({1, 2, 4}).ok());
  ASSERT_TRUE(storage_->Append(Range(1, 5, 7)).ok());  // never synced
  CrashAndReopen();
  EXPECT_EQ(storage_->LastIndex(), 4u);
  ExpectTerms(1, 4, 1);
  auto init = storage_->GetInitialState();
  EXPECT_EQ(init->hard_state, (raft::HardState{1, 2, 4}));
}

// A commit advance alone is not written (one fsync per batch is the log's); a term or vote
// change is, and so is a commit that passes a conf change: the core rebuilds its
// configuration from conf changes up to the durable commit index after a restart.
TEST_F(RaftStorageTest, CommitIsDurableOnlyWhenItPassesAConfChange) {
  Open();
  ASSERT_TRUE(storage_->Append(Range(1, 1, 4)).ok());
  ASSERT_TRUE(storage_->Sync().ok());
  ASSERT_TRUE(storage_->SetHardState({1, 2, 2}).ok());  // term and vote: written
  ASSERT_TRUE(storage_->SetHardState({1, 2, 4}).ok());  // commit only: kept in memory
  ASSERT_TRUE(storage_->Append({E(1, 5, "cc", EntryType::kConfChange), E(1, 6)}).ok());
  ASSERT_TRUE(storage_->Sync().ok());
  CrashAndReopen();
  EXPECT_EQ(storage_->GetInitialState()->hard_state, (raft::HardState{1, 2, 2}));
  // After a restart the unsaved conf change is found again, and committing it writes.
  ASSERT_TRUE(storage_->SetHardState({1, 2, 5}).ok());
  CrashAndReopen();
  EXPECT_EQ(storage_->GetInitialState()->hard_state, (raft::HardState{1, 2, 5}));
  ASSERT_TRUE(storage_->SetHardState({1, 2, 6}).ok());  // past it: memory only again
  CrashAndReopen();
  EXPECT_EQ(storage_->GetInitialState()->hard_state, (raft::HardState{1, 2, 5}));
}

TEST_F(RaftStorageTest, TornLastWriteIsCutOff) {
  Open();
  ASSERT_TRUE(storage_->Append(Range(1, 1, 3)).ok());
  ASSERT_TRUE(storage_->Sync().ok());
  ASSERT_TRUE(storage_->Append({E(1, 4, std::string(100, 'x'))}).ok());
  storage_.reset();
  fs_.SimulateCrashTearingLastWrite(10);
  Open();
  EXPECT_EQ(storage_->LastIndex(), 3u);
  ASSERT_TRUE(storage_->Append({E(2, 4)}).ok());  // the log goes on after the cut
  EXPECT_EQ(*storage_->TermAt(4), 2u);
}

TEST_F(RaftStorageTest, TruncationSurvivesACrash) {
  Open();
  ASSERT_TRUE(storage_->Append(Range(1, 1, 8)).ok());
  ASSERT_TRUE(storage_->Sync().ok());
  ASSERT_TRUE(storage_->Append({E(3, 5)}).ok());  // drops 5..8 durably
  ASSERT_TRUE(storage_->Sync().ok());
  CrashAndReopen();
  EXPECT_EQ(storage_->LastIndex(), 5u);
  ExpectTerms(1, 4, 1);
  EXPECT_EQ(*storage_->TermAt(5), 3u);
}

TEST_F(RaftStorageTest, CreateSnapshotHidesEarlierEntriesAndCompactDropsThem) {
  Open();
  ASSERT_TRUE(storage_->Append(Range(1, 1, 30)).ok());
  ASSERT_TRUE(storage_->Sync().ok());
  raft::ConfState cs;
  cs.voters = {1, 2, 3};
  ASSERT_TRUE(storage_->CreateSnapshot(20, cs, raft::MakePayload("state@20")).ok());
  EXPECT_EQ(storage_->FirstIndex(), 21u);
  EXPECT_EQ(*storage_->TermAt(20), 1u);
  EXPECT_EQ(storage_->TermAt(19).status().code(), raft::kStorageCompacted);
  EXPECT_EQ(storage_->Entries(20, 22, UINT64_MAX).status().code(), raft::kStorageCompacted);
  EXPECT_TRUE(storage_->ReadData(5).ok());  // hidden from the core, still readable
  EXPECT_EQ(storage_->CreateSnapshot(20, cs, nullptr).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(storage_->Compact(22).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(storage_->Compact(21).ok());
  EXPECT_GT(storage_->LogFirstIndex(), 1u);
  EXPECT_LE(storage_->LogFirstIndex(), 21u);
  CrashAndReopen();
  EXPECT_EQ(storage_->FirstIndex(), 21u);
  EXPECT_EQ(storage_->LastIndex(), 30u);
  auto snap = storage_->GetSnapshot();
  EXPECT_EQ(snap->meta.index, 20u);
  EXPECT_EQ(snap->meta.conf_state, cs);
  EXPECT_EQ(*snap->data, "state@20");
  EXPECT_EQ(storage_->GetInitialState()->conf_state, cs);
}

TEST_F(RaftStorageTest, ApplySnapshotReplacesTheLog) {
  Open();
  ASSERT_TRUE(storage_->Append(Range(1, 1, 10)).ok());
  ASSERT_TRUE(storage_->Sync().ok());
  raft::Snapshot snap = MakeSnapshot(50, 4, "image");
  ASSERT_TRUE(storage_->ApplySnapshot(snap).ok());
  EXPECT_EQ(storage_->FirstIndex(), 51u);
  EXPECT_EQ(storage_->LastIndex(), 50u);
  EXPECT_EQ(*storage_->TermAt(50), 4u);
  EXPECT_EQ(storage_->ReadData(5).status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(storage_->Append({E(4, 51), E(5, 52)}).ok());
  ASSERT_TRUE(storage_->Sync().ok());
  CrashAndReopen();
  EXPECT_EQ(storage_->FirstIndex(), 51u);
  EXPECT_EQ(storage_->LastIndex(), 52u);
  EXPECT_EQ(*storage_->TermAt(52), 5u);
  EXPECT_EQ(*storage_->GetSnapshot()->data, "image");
  EXPECT_EQ(storage_->ApplySnapshot(MakeSnapshot(50, 4, "old")).code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(RaftStorageTest, ApplySnapshotWithinTheLogDropsTheDivergedBranch) {
  Open();
  ASSERT_TRUE(storage_->Append(Range(1, 1, 10)).ok());  // term 1 at 8: a stale branch
  ASSERT_TRUE(storage_->Sync().ok());
  ASSERT_TRUE(storage_->ApplySnapshot(MakeSnapshot(8, 2, "image")).ok());
  EXPECT_EQ(storage_->LastIndex(), 8u);
  EXPECT_EQ(*storage_->TermAt(8), 2u);
  CrashAndReopen();
  EXPECT_EQ(storage_->LastIndex(), 8u);
  EXPECT_EQ(*storage_->TermAt(8), 2u);
}

// A crash between saving an incoming snapshot and emptying the log: the stale log must not
// come back behind the snapshot.
TEST_F(RaftStorageTest, CrashInsideApplySnapshotDiscardsTheStaleLog) {
  Open();
  ASSERT_TRUE(storage_->Append(Range(1, 1, 12)).ok());
  ASSERT_TRUE(storage_->Sync().ok());
  storage_.reset();
  // What ApplySnapshot writes first, then the crash.
  storage::SnapshotStore store(&fs_, "/group/snapshots");
  ASSERT_TRUE(store.Open().ok());
  raft::Snapshot snap = MakeSnapshot(10, 3, "image");
  ASSERT_TRUE(
      store.Save({10, 3}, RaftStorage::EncodeSnapshotEnvelope(snap.meta.conf_state, "image")).ok());
  fs_.SimulateCrash();
  Open();
  EXPECT_EQ(storage_->FirstIndex(), 11u);
  EXPECT_EQ(storage_->LastIndex(), 10u);  // 11, 12 of term 1 were on the stale branch
  EXPECT_EQ(*storage_->TermAt(10), 3u);
  EXPECT_EQ(storage_->GetInitialState()->conf_state, snap.meta.conf_state);
}

TEST_F(RaftStorageTest, FailedSyncIsFatalToWrites) {
  Open();
  ASSERT_TRUE(storage_->Append(Range(1, 1, 2)).ok());
  fs_.FailNextSync();
  EXPECT_FALSE(storage_->Sync().ok());
  EXPECT_TRUE(storage_->failed());
  EXPECT_EQ(storage_->Append({E(1, 3)}).code(), ErrorCode::kLogFailed);
  fs_.ClearFaults();
  CrashAndReopen();
  EXPECT_FALSE(storage_->failed());
  EXPECT_TRUE(storage_->Append({E(1, storage_->LastIndex() + 1)}).ok());
}

TEST_F(RaftStorageTest, EnvelopeRoundTripsAndRejectsGarbage) {
  raft::ConfState cs;
  cs.voters = {1, 5};
  cs.learners = {7};
  std::string env = RaftStorage::EncodeSnapshotEnvelope(cs, "payload");
  raft::ConfState got;
  std::string data;
  ASSERT_TRUE(RaftStorage::DecodeSnapshotEnvelope(env, &got, &data).ok());
  EXPECT_EQ(got, cs);
  EXPECT_EQ(data, "payload");
  EXPECT_FALSE(RaftStorage::DecodeSnapshotEnvelope("", &got, &data).ok());
  EXPECT_FALSE(RaftStorage::DecodeSnapshotEnvelope("\x09", &got, &data).ok());
  EXPECT_FALSE(RaftStorage::DecodeEntryPayload(1, 1, "\x07x").ok());
}

TEST_F(RaftStorageTest, SnapshotWithRetainedEntriesKeepsTheirBodiesReadable) {
  Open();
  ASSERT_TRUE(storage_->Append(Range(1, 1, 3)).ok());
  ASSERT_TRUE(storage_->Sync().ok());
  // From the leader: a snapshot at 20 and the entries 17..20 that hold retained bodies.
  std::vector<Entry> retained = {E(2, 17, "body-17"), E(2, 18), E(3, 19), E(3, 20, "body-20")};
  ASSERT_TRUE(storage_->ApplySnapshot(MakeSnapshot(20, 3, "state"), retained).ok());
  EXPECT_EQ(storage_->FirstIndex(), 21u);  // the core sees nothing at or below the snapshot
  EXPECT_EQ(storage_->LastIndex(), 20u);
  EXPECT_EQ(storage_->LogFirstIndex(), 17u);
  EXPECT_EQ(*storage_->ReadData(17), "body-17");
  EXPECT_EQ(*storage_->ReadDataRange(20, 5, 2), "20");
  auto e = storage_->ReadEntry(19);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->term, 3u);
  // Durable: a crash keeps them, and the log continues after the snapshot.
  CrashAndReopen();
  EXPECT_EQ(*storage_->ReadData(17), "body-17");
  ASSERT_TRUE(storage_->Append({E(3, 21)}).ok());
  EXPECT_EQ(storage_->LastIndex(), 21u);
}

TEST_F(RaftStorageTest, RetainedEntriesMustEndAtTheSnapshot) {
  Open();
  std::vector<Entry> gap = {E(2, 17), E(2, 19)};
  EXPECT_EQ(storage_->ApplySnapshot(MakeSnapshot(19, 2, "s"), gap).code(),
            ErrorCode::kInvalidArgument);
  std::vector<Entry> short_of_it = {E(2, 17), E(2, 18)};
  EXPECT_EQ(storage_->ApplySnapshot(MakeSnapshot(19, 2, "s"), short_of_it).code(),
            ErrorCode::kInvalidArgument);
  std::vector<Entry> wrong_term = {E(2, 18), E(2, 19)};
  EXPECT_EQ(storage_->ApplySnapshot(MakeSnapshot(19, 3, "s"), wrong_term).code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(RaftStorageTest, RestoreRetainedRewritesWhatACrashLost) {
  Open();
  std::vector<Entry> retained = {E(2, 9, "b9"), E(2, 10, "b10")};
  // The snapshot alone (as if the process died before the retained entries were written).
  ASSERT_TRUE(storage_->ApplySnapshot(MakeSnapshot(10, 2, "s")).ok());
  EXPECT_FALSE(storage_->ReadData(9).ok());
  ASSERT_TRUE(storage_->RestoreRetained(retained).ok());
  EXPECT_EQ(*storage_->ReadData(9), "b9");
  EXPECT_EQ(storage_->FirstIndex(), 11u);
  CrashAndReopen();
  EXPECT_EQ(*storage_->ReadData(10), "b10");
  // Once entries after the snapshot exist, rewriting under them is refused (it would
  // empty the log they are in).
  ASSERT_TRUE(storage_->Append({E(3, 11)}).ok());
  EXPECT_EQ(storage_->RestoreRetained(retained).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(storage_->LastIndex(), 11u);
}

}  // namespace
}  // namespace cmq::cluster
