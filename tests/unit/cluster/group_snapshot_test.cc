// The snapshot envelope of cluster/: local and wire forms, the bare legacy form, and
// refusal of damaged input (a follower must never install a half-read snapshot).

#include "cluster/group_snapshot.h"

#include <gtest/gtest.h>

namespace cmq::cluster {
namespace {

raft::Entry E(raft::Term term, raft::Index index, std::string data,
              raft::EntryType type = raft::EntryType::kNormal) {
  raft::Entry e;
  e.term = term;
  e.index = index;
  e.type = type;
  if (!data.empty()) e.data = raft::MakePayload(data);
  return e;
}

TEST(GroupSnapshotTest, LocalFormRoundTrips) {
  auto s = DecodeGroupSnapshot(EncodeLocalSnapshot(42, {{4, "10.0.0.4:7001"}}, "mq-state"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->oldest_referenced, 42u);
  EXPECT_EQ(s->mq_state, "mq-state");
  EXPECT_TRUE(s->retained.empty());
  EXPECT_EQ(s->addresses, (std::map<uint64_t, std::string>{{4, "10.0.0.4:7001"}}));
}

TEST(GroupSnapshotTest, WireFormCarriesTheRetainedEntries) {
  std::vector<raft::Entry> retained = {E(2, 7, "seven"), E(2, 8, ""),
                                       E(3, 9, "cc", raft::EntryType::kConfChange)};
  auto s = DecodeGroupSnapshot(EncodeWireSnapshot(7, {{5, "h:1"}, {6, "h:2"}}, "state", retained));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->oldest_referenced, 7u);
  EXPECT_EQ(s->mq_state, "state");
  EXPECT_EQ(s->addresses.size(), 2u);
  EXPECT_EQ(s->addresses.at(6), "h:2");
  ASSERT_EQ(s->retained.size(), 3u);
  EXPECT_EQ(s->retained[0].index, 7u);
  EXPECT_EQ(s->retained[0].data_view(), "seven");
  EXPECT_EQ(s->retained[1].index, 8u);
  EXPECT_EQ(s->retained[1].data_size(), 0u);
  EXPECT_EQ(s->retained[2].term, 3u);
  EXPECT_EQ(s->retained[2].type, raft::EntryType::kConfChange);
}

TEST(GroupSnapshotTest, VersionOneFormsStillDecode) {
  // [0xC1][oldest 9][mq state]: written before the address list existed.
  auto local = DecodeGroupSnapshot(std::string("\xC1\x09state", 7));
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->oldest_referenced, 9u);
  EXPECT_EQ(local->mq_state, "state");
  EXPECT_TRUE(local->addresses.empty());
  // [0xC2][oldest 9][len 1 "s"][0 entries][first 0]
  auto wire = DecodeGroupSnapshot(std::string("\xC2\x09\x01s\x00\x00", 6));
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(wire->mq_state, "s");
  EXPECT_TRUE(wire->retained.empty());
}

TEST(GroupSnapshotTest, BareLegacyStateDecodesWithUnknownOldest) {
  auto s = DecodeGroupSnapshot("CMQS\x02rest-of-an-mq-snapshot");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->oldest_referenced, 0u);
  EXPECT_EQ(s->mq_state, "CMQS\x02rest-of-an-mq-snapshot");
}

TEST(GroupSnapshotTest, DamagedWireFormsAreRefused) {
  std::string good = EncodeWireSnapshot(5, {}, "state", {E(1, 5, "a"), E(2, 6, "b")});
  ASSERT_TRUE(DecodeGroupSnapshot(good).ok());
  EXPECT_FALSE(DecodeGroupSnapshot("").ok());
  for (size_t cut = 1; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeGroupSnapshot(good.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeGroupSnapshot(good + "x").ok());
  // Terms going backwards, and a term of 0, cannot come from a real log.
  EXPECT_FALSE(
      DecodeGroupSnapshot(EncodeWireSnapshot(5, {}, "s", {E(2, 5, "a"), E(1, 6, "b")})).ok());
  EXPECT_FALSE(DecodeGroupSnapshot(EncodeWireSnapshot(5, {}, "s", {E(0, 5, "a")})).ok());
  // An unknown entry type.
  std::string bad_type = EncodeWireSnapshot(5, {}, "s", {E(1, 5, "a")});
  bad_type[bad_type.size() - 3] = 9;  // [term][type][len][a]: the type byte
  EXPECT_FALSE(DecodeGroupSnapshot(bad_type).ok());
}

TEST(GroupSnapshotTest, StagedFormNamesTheRunInsteadOfCarryingIt) {
  std::string staged = EncodeStagedSnapshot(7, {{4, "h:4"}}, "state", 7);
  auto s = DecodeGroupSnapshot(staged);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->oldest_referenced, 7u);
  EXPECT_EQ(s->staged_first, 7u);
  EXPECT_EQ(s->mq_state, "state");
  EXPECT_TRUE(s->retained.empty());
  EXPECT_EQ(s->addresses.at(4), "h:4");
  // The other forms are not staged.
  EXPECT_EQ(DecodeGroupSnapshot(EncodeWireSnapshot(7, {}, "s", {E(1, 7, "a")}))->staged_first, 0u);
  EXPECT_EQ(DecodeGroupSnapshot(EncodeLocalSnapshot(7, {}, "s"))->staged_first, 0u);
  for (size_t cut = 1; cut < staged.size(); ++cut) {
    EXPECT_FALSE(DecodeGroupSnapshot(staged.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeGroupSnapshot(staged + "x").ok());
  EXPECT_FALSE(DecodeGroupSnapshot(EncodeStagedSnapshot(7, {}, "s", 0)).ok());  // no run
}

TEST(GroupSnapshotTest, OldestReferencedIsReadWithoutTheState) {
  EXPECT_EQ(*PeekOldestReferenced(EncodeLocalSnapshot(42, {}, "state")), 42u);
  EXPECT_EQ(*PeekOldestReferenced(EncodeWireSnapshot(43, {}, "s", {})), 43u);
  EXPECT_EQ(*PeekOldestReferenced(EncodeStagedSnapshot(44, {}, "s", 44)), 44u);
  EXPECT_EQ(*PeekOldestReferenced("CMQS\x02legacy"), 0u);  // unknown
  EXPECT_FALSE(PeekOldestReferenced("").ok());
  EXPECT_FALSE(PeekOldestReferenced("\xC3").ok());
}

}  // namespace
}  // namespace cmq::cluster
