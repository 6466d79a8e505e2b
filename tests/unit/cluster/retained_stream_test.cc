// The frames of a retained-entry stream (cluster/retained_stream.h): they round-trip, and
// a damaged one is refused rather than staged.

#include "cluster/retained_stream.h"

#include <gtest/gtest.h>

namespace cmq::cluster {
namespace {

raft::Entry E(raft::Term term, raft::Index index, std::string data) {
  raft::Entry e;
  e.term = term;
  e.index = index;
  if (!data.empty()) e.data = raft::MakePayload(data);
  return e;
}

TEST(RetainedStreamTest, ChunkRoundTrips) {
  RetainedChunk chunk{9, 3, 100, {E(4, 100, "a"), E(4, 101, ""), E(5, 102, "ccc")}};
  auto decoded = DecodeRetainedChunk(EncodeRetainedChunk(chunk));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->term, 9u);
  EXPECT_EQ(decoded->epoch, 3u);
  EXPECT_EQ(decoded->run_first, 100u);
  ASSERT_EQ(decoded->entries.size(), 3u);
  EXPECT_EQ(decoded->entries[0].index, 100u);
  EXPECT_EQ(decoded->entries[0].data_view(), "a");
  EXPECT_EQ(decoded->entries[1].data_size(), 0u);
  EXPECT_EQ(decoded->entries[2].term, 5u);
  EXPECT_EQ(decoded->entries[2].index, 102u);
  // A question carries no entries.
  auto question = DecodeRetainedChunk(EncodeRetainedChunk(RetainedChunk{9, 4, 100, {}}));
  ASSERT_TRUE(question.ok());
  EXPECT_TRUE(question->entries.empty());
}

TEST(RetainedStreamTest, DamagedChunksAreRefused) {
  std::string good = EncodeRetainedChunk(RetainedChunk{9, 3, 100, {E(4, 100, "a")}});
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeRetainedChunk(good.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeRetainedChunk(good + "x").ok());
  std::string version = good;
  version[0] = 2;
  EXPECT_FALSE(DecodeRetainedChunk(version).ok());
  // Entries before the run's start, or a run at index 0, cannot be staged.
  EXPECT_FALSE(DecodeRetainedChunk(EncodeRetainedChunk({9, 3, 101, {E(4, 100, "a")}})).ok());
  EXPECT_FALSE(DecodeRetainedChunk(EncodeRetainedChunk({9, 3, 0, {}})).ok());
}

TEST(RetainedStreamTest, AckRoundTripsAndDamagedOnesAreRefused) {
  std::string good = EncodeRetainedAck(RetainedAck{7, 100, 250});
  auto decoded = DecodeRetainedAck(good);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->epoch, 7u);
  EXPECT_EQ(decoded->staged_first, 100u);
  EXPECT_EQ(decoded->staged_next, 250u);
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeRetainedAck(good.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeRetainedAck(good + "x").ok());
  EXPECT_FALSE(DecodeRetainedAck(EncodeRetainedAck(RetainedAck{7, 250, 100})).ok());
}

}  // namespace
}  // namespace cmq::cluster
