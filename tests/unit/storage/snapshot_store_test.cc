#include "storage/snapshot_store.h"

#include <gtest/gtest.h>

#include "storage/fault_injection_file_system.h"

namespace cmq::storage {
namespace {

class SnapshotStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(store_.Open().ok()); }
  FaultInjectionFileSystem fs_;
  SnapshotStore store_{&fs_, "/snap", 2};
};

TEST_F(SnapshotStoreTest, EmptyStoreHasNoSnapshot) {
  auto s = store_.LoadNewest();
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->has_value());
}

TEST_F(SnapshotStoreTest, SavedSnapshotReadsBackAfterACrash) {
  ASSERT_TRUE(store_.Save({10, 3}, "state at 10").ok());
  fs_.SimulateCrash();
  auto s = store_.LoadNewest();
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->meta.index, 10u);
  EXPECT_EQ((*s)->meta.term, 3u);
  EXPECT_EQ((*s)->data, "state at 10");
}

TEST_F(SnapshotStoreTest, KeepsOnlyTheNewestTwo) {
  for (uint64_t i = 1; i <= 4; ++i) ASSERT_TRUE(store_.Save({i * 10, 1}, "s").ok());
  auto list = store_.List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list.value(), (std::vector<uint64_t>{30, 40}));
  EXPECT_EQ(store_.LoadNewest().value()->meta.index, 40u);
}

TEST_F(SnapshotStoreTest, DamagedNewestFallsBackToThePreviousOne) {
  ASSERT_TRUE(store_.Save({10, 1}, "old state").ok());
  ASSERT_TRUE(store_.Save({20, 1}, "new state").ok());
  fs_.CorruptByte("/snap/snapshot-00000000000000000020.snap", 40);
  std::vector<std::string> skipped;
  auto s = store_.LoadNewest(&skipped);
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->meta.index, 10u);
  EXPECT_EQ((*s)->data, "old state");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("checksum"), std::string::npos) << skipped[0];
}

TEST_F(SnapshotStoreTest, EveryCorruptedByteIsDetected) {
  ASSERT_TRUE(store_.Save({7, 2}, "some snapshot bytes").ok());
  const std::string path = "/snap/snapshot-00000000000000000007.snap";
  uint64_t size = fs_.FileSize(path);
  for (uint64_t off = 0; off < size; ++off) {
    fs_.CorruptByte(path, off);
    auto s = store_.LoadNewest();
    ASSERT_TRUE(s.ok());
    EXPECT_FALSE(s->has_value()) << "corruption at byte " << off << " went unnoticed";
    fs_.CorruptByte(path, off);  // flip back
  }
  EXPECT_TRUE(store_.LoadNewest().value().has_value());
}

TEST_F(SnapshotStoreTest, UnrelatedFilesAreIgnored) {
  ASSERT_TRUE(fs_.WriteFileAtomic("/snap/README", "x").ok());
  ASSERT_TRUE(store_.Save({5, 1}, "s").ok());
  EXPECT_EQ(store_.List().value(), (std::vector<uint64_t>{5}));
}

}  // namespace
}  // namespace cmq::storage
