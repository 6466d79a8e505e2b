#include <gtest/gtest.h>

#include "raft/memory_storage.h"
#include "raft/raft_log.h"
#include "raft/unstable.h"

namespace cmq::raft {
namespace {

Entry E(Term t, Index i, std::string data = "") {
  return Entry{t, i, EntryType::kNormal, MakePayload(data)};
}

TEST(Unstable, HandsOutEntriesOnceAndDropsThemWhenStable) {
  Unstable u(5);
  u.TruncateAndAppend({E(1, 5), E(1, 6)});
  EXPECT_EQ(u.NextEntries().size(), 2u);
  u.AcceptInProgress();
  EXPECT_FALSE(u.HasNextEntries());
  u.TruncateAndAppend({E(1, 7)});
  ASSERT_EQ(u.NextEntries().size(), 1u);
  EXPECT_EQ(u.NextEntries()[0].index, 7u);
  u.StableTo(6, 1);
  EXPECT_EQ(u.offset(), 7u);
  EXPECT_EQ(u.entries().size(), 1u);
}

TEST(Unstable, StableToIgnoresAReplacedEntry) {
  Unstable u(5);
  u.TruncateAndAppend({E(1, 5), E(1, 6)});
  u.AcceptInProgress();
  u.TruncateAndAppend({E(2, 6)});  // conflict replaces 6 while it was being persisted
  u.StableTo(6, 1);                // the old 6 became stable: ignored
  EXPECT_EQ(u.offset(), 5u);
  // The replacement is handed out again.
  ASSERT_EQ(u.NextEntries().size(), 1u);
  EXPECT_EQ(u.NextEntries()[0].term, 2u);
}

TEST(Unstable, TruncateBelowOffsetReplacesEverything) {
  Unstable u(5);
  u.TruncateAndAppend({E(1, 5), E(1, 6)});
  u.TruncateAndAppend({E(3, 4)});
  EXPECT_EQ(u.offset(), 4u);
  EXPECT_EQ(u.MaybeLastIndex(), 4u);
  EXPECT_EQ(u.MaybeTerm(4), 3u);
}

TEST(Unstable, SnapshotTermsAndIndexes) {
  Unstable u(1);
  u.Restore(Snapshot{SnapshotMeta{10, 3, {}}, nullptr});
  EXPECT_EQ(u.MaybeFirstIndex(), 11u);
  EXPECT_EQ(u.MaybeLastIndex(), 10u);
  EXPECT_EQ(u.MaybeTerm(10), 3u);
  EXPECT_FALSE(u.MaybeTerm(9).has_value());
  ASSERT_NE(u.NextSnapshot(), nullptr);
  u.AcceptInProgress();
  EXPECT_EQ(u.NextSnapshot(), nullptr);
  u.StableSnapTo(10);
  EXPECT_FALSE(u.snapshot().has_value());
}

class RaftLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(storage_.ApplySnapshot(Snapshot{SnapshotMeta{1, 1, {{1}, {}}}, nullptr}).ok());
    storage_.Append({E(1, 2), E(1, 3), E(2, 4), E(2, 5), E(3, 6)});
  }
  MemoryStorage storage_;
};

TEST_F(RaftLogTest, ReadsAcrossStorageAndUnstable) {
  RaftLog log(&storage_, UINT64_MAX);
  EXPECT_EQ(log.FirstIndex(), 2u);
  EXPECT_EQ(log.LastIndex(), 6u);
  log.Append({E(3, 7), E(3, 8)});
  EXPECT_EQ(log.LastIndex(), 8u);
  auto all = log.Slice(2, 9, UINT64_MAX);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 7u);
  EXPECT_EQ(log.TermOrZero(1), 1u);  // the snapshot's term
  EXPECT_EQ(log.TermOrZero(0), 0u);  // compacted
  EXPECT_EQ(log.TermOrZero(9), 0u);  // past the end
  EXPECT_EQ(log.StableLastIndex(), 6u);
}

TEST_F(RaftLogTest, SliceRespectsMaxBytesButReturnsOneEntry) {
  RaftLog log(&storage_, UINT64_MAX);
  log.Append({E(3, 7, "xxxxx"), E(3, 8, "yyyyy")});
  auto one = log.Slice(7, 9, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
  auto compacted = log.Slice(1, 3, UINT64_MAX);
  EXPECT_EQ(compacted.status().code(), kStorageCompacted);
}

TEST_F(RaftLogTest, MaybeAppendTruncatesConflictsAndCommits) {
  RaftLog log(&storage_, UINT64_MAX);
  EXPECT_FALSE(log.MaybeAppend(5, 9, 0, {}).has_value());  // term mismatch at 5
  auto last = log.MaybeAppend(3, 1, 4, {E(1, 4, "a"), E(1, 5, "b")});
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 5u);
  EXPECT_EQ(log.LastIndex(), 5u);  // 6 dropped with the conflict at 4
  EXPECT_EQ(log.TermOrZero(4), 1u);
  EXPECT_EQ(log.committed(), 4u);
  EXPECT_EQ(log.StableLastIndex(), 3u);  // storage's 4..6 are stale now
}

TEST_F(RaftLogTest, FindConflictByTermSkipsHigherTerms) {
  RaftLog log(&storage_, UINT64_MAX);
  EXPECT_EQ(log.FindConflictByTerm(6, 2), (std::pair<Index, Term>{5, 2}));
  EXPECT_EQ(log.FindConflictByTerm(6, 1), (std::pair<Index, Term>{3, 1}));
  EXPECT_EQ(log.FindConflictByTerm(6, 0).first, 0u);
}

TEST_F(RaftLogTest, CommitsOnlyEntriesOfTheGivenTerm) {
  RaftLog log(&storage_, UINT64_MAX);
  EXPECT_FALSE(log.MaybeCommit(5, 3));  // entry 5 is of term 2
  EXPECT_TRUE(log.MaybeCommit(6, 3));
  EXPECT_EQ(log.committed(), 6u);
  EXPECT_FALSE(log.MaybeCommit(4, 2));  // never backwards
}

TEST_F(RaftLogTest, CommittedEntriesWaitUntilStable) {
  RaftLog log(&storage_, UINT64_MAX);
  log.Append({E(3, 7)});
  log.CommitTo(7);
  auto ready = log.NextCommittedEntries();
  ASSERT_EQ(ready.size(), 5u);  // 2..6; 7 is not stable yet
  log.AcceptApplying(6);
  EXPECT_FALSE(log.HasNextCommittedEntries());
  storage_.Append({E(3, 7)});
  log.StableTo(7, 3);
  EXPECT_TRUE(log.HasNextCommittedEntries());
}

TEST(MemoryStorage, ContractsOfRangesAndCompaction) {
  MemoryStorage s;
  EXPECT_EQ(s.FirstIndex(), 1u);
  EXPECT_EQ(s.LastIndex(), 0u);
  s.Append({E(1, 1), E(1, 2), E(2, 3, "abc"), E(2, 4)});
  EXPECT_EQ(s.Entries(1, 5, UINT64_MAX)->size(), 4u);
  EXPECT_EQ(s.Entries(1, 6, UINT64_MAX).status().code(), kStorageUnavailable);
  EXPECT_EQ(s.TermAt(5).status().code(), kStorageUnavailable);
  ASSERT_TRUE(s.CreateSnapshot(2, ConfState{{1}, {}}, MakePayload("state")).ok());
  ASSERT_TRUE(s.Compact(2).ok());
  EXPECT_EQ(s.FirstIndex(), 3u);
  EXPECT_EQ(*s.TermAt(2), 1u);  // the dummy keeps the term
  EXPECT_EQ(s.TermAt(1).status().code(), kStorageCompacted);
  EXPECT_EQ(s.Entries(2, 4, UINT64_MAX).status().code(), kStorageCompacted);
  EXPECT_EQ(s.Compact(2).code(), kStorageCompacted);
  s.Append({E(3, 4), E(3, 5)});  // conflict at 4 replaces the suffix
  EXPECT_EQ(s.LastIndex(), 5u);
  EXPECT_EQ(*s.TermAt(4), 3u);
  EXPECT_EQ(s.GetSnapshot()->meta.index, 2u);
  EXPECT_FALSE(s.ApplySnapshot(Snapshot{SnapshotMeta{1, 1, {}}, nullptr}).ok());  // older
}

}  // namespace
}  // namespace cmq::raft
