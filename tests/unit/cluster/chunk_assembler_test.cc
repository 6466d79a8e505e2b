// Reassembly of chunked Raft messages (snapshots): whole messages come out exactly once,
// and anything out of order abandons the transfer instead of stepping a corrupt message.

#include "cluster/chunk_assembler.h"

#include <gtest/gtest.h>

namespace cmq::cluster {
namespace {

std::string Message(size_t n) {
  std::string m(n, '\0');
  for (size_t i = 0; i < n; ++i) m[i] = static_cast<char>('a' + i % 26);
  return m;
}

// The chunks of `m` in pieces of `piece` bytes, as PeerNetwork sends them.
std::vector<std::string> Chunks(uint64_t transfer, const std::string& m, size_t piece) {
  std::vector<std::string> out;
  for (size_t off = 0; off < m.size(); off += piece) {
    out.push_back(EncodeChunk(transfer, off, m.size(), std::string_view(m).substr(off, piece)));
  }
  return out;
}

TEST(ChunkAssemblerTest, RebuildsAMessageFromItsChunksOnce) {
  ChunkAssembler a(1 << 20);
  const std::string m = Message(10'000);
  auto chunks = Chunks(7, m, 3000);
  ASSERT_EQ(chunks.size(), 4u);
  for (size_t i = 0; i + 1 < chunks.size(); ++i) EXPECT_FALSE(a.Add(2, chunks[i]).has_value());
  auto whole = a.Add(2, chunks.back());
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(*whole, m);
  EXPECT_EQ(a.partial_transfers(), 0u);
}

TEST(ChunkAssemblerTest, PeersAreReassembledIndependently) {
  ChunkAssembler a(1 << 20);
  const std::string m1 = Message(5000), m2 = std::string(4000, 'z');
  auto c1 = Chunks(1, m1, 2000), c2 = Chunks(1, m2, 2000);  // same transfer id, other peer
  EXPECT_FALSE(a.Add(1, c1[0]).has_value());
  EXPECT_FALSE(a.Add(3, c2[0]).has_value());
  EXPECT_FALSE(a.Add(1, c1[1]).has_value());
  auto w2 = a.Add(3, c2[1]);
  auto w1 = a.Add(1, c1[2]);
  ASSERT_TRUE(w1 && w2);
  EXPECT_EQ(*w1, m1);
  EXPECT_EQ(*w2, m2);
}

TEST(ChunkAssemblerTest, AGapAbandonsTheTransfer) {
  ChunkAssembler a(1 << 20);
  const std::string m = Message(9000);
  auto chunks = Chunks(4, m, 3000);
  EXPECT_FALSE(a.Add(2, chunks[0]).has_value());
  EXPECT_FALSE(a.Add(2, chunks[2]).has_value());  // chunk 1 was lost with a connection
  EXPECT_EQ(a.partial_transfers(), 0u);
  EXPECT_FALSE(a.Add(2, chunks[1]).has_value());  // the rest is ignored
  EXPECT_EQ(a.partial_transfers(), 0u);
  // The sender starts over (a new transfer): that one completes.
  auto again = Chunks(5, m, 3000);
  std::optional<std::string> whole;
  for (const auto& c : again) whole = a.Add(2, c);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(*whole, m);
}

TEST(ChunkAssemblerTest, ANewTransferReplacesAPartialOne) {
  ChunkAssembler a(1 << 20);
  auto old_chunks = Chunks(1, Message(6000), 2000);
  EXPECT_FALSE(a.Add(2, old_chunks[0]).has_value());
  const std::string m = std::string(3000, 'q');
  auto fresh = Chunks(2, m, 2000);
  EXPECT_FALSE(a.Add(2, fresh[0]).has_value());
  EXPECT_FALSE(a.Add(2, old_chunks[1]).has_value());  // of the old transfer: abandons
  EXPECT_EQ(a.partial_transfers(), 0u);
}

TEST(ChunkAssemblerTest, RefusesOversizedAndMalformedChunks) {
  ChunkAssembler a(4096);
  EXPECT_FALSE(a.Add(2, EncodeChunk(1, 0, 5000, std::string(100, 'x'))).has_value());
  EXPECT_EQ(a.partial_transfers(), 0u);
  EXPECT_FALSE(a.Add(2, "short").has_value());
  // More bytes than announced.
  EXPECT_FALSE(a.Add(2, EncodeChunk(1, 0, 10, std::string(11, 'x'))).has_value());
  EXPECT_FALSE(a.Add(2, EncodeChunk(1, 0, 10, std::string(6, 'x'))).has_value());
  EXPECT_FALSE(a.Add(2, EncodeChunk(1, 6, 10, std::string(5, 'x'))).has_value());
  EXPECT_EQ(a.partial_transfers(), 0u);
  // Forget drops a partial transfer (the connection broke).
  EXPECT_FALSE(a.Add(2, EncodeChunk(1, 0, 10, std::string(6, 'x'))).has_value());
  a.Forget(2);
  EXPECT_FALSE(a.Add(2, EncodeChunk(1, 6, 10, std::string(4, 'x'))).has_value());
}

}  // namespace
}  // namespace cmq::cluster
