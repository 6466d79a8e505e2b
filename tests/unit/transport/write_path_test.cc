// The send side without sockets: WriteBatch's gathered buffers and PeerQueue's bound,
// batching limits, wake-ups and drop accounting.

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <string>

#include "transport/frame_codec.h"
#include "transport/peer_queue.h"
#include "transport/write_batch.h"

namespace cmq::transport {
namespace {

std::string Concat(const std::vector<boost::asio::const_buffer>& buffers) {
  std::string out;
  for (const auto& b : buffers) out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

TEST(WriteBatchTest, GathersSmallFramesIntoFewBuffersAndKeepsLargeOnesInPlace) {
  WriteBatch batch;
  std::string expected;
  for (int i = 0; i < 100; ++i) {
    std::string payload = "frame " + std::to_string(i);
    expected += EncodeFrame(FrameKind::kRaft, i, payload);
    batch.Add(MakeOutFrame(FrameKind::kRaft, i, payload));
  }
  std::string large(WriteBatch::kCopyLimit, 'L');
  expected += EncodeFrame(FrameKind::kForwardReply, 7, large);
  batch.Add(MakeOutFrame(FrameKind::kForwardReply, 7, large));
  expected += EncodeFrame(FrameKind::kRaft, 8, "tail");
  batch.Add(MakeOutFrame(FrameKind::kRaft, 8, "tail"));

  const auto& buffers = batch.Build();
  EXPECT_EQ(Concat(buffers), expected);
  // 100 small frames + the large frame's prefix; the large payload; the tail frame.
  EXPECT_EQ(buffers.size(), 3u);
  EXPECT_EQ(buffers[1].data(), batch.frames()[100].payload.data());  // not copied
  EXPECT_EQ(batch.wire_bytes(), expected.size());
  EXPECT_EQ(batch.frame_count(), 102u);

  batch.Clear();
  batch.Add(MakeOutFrame(FrameKind::kRaft, 1, "again"));
  EXPECT_EQ(Concat(batch.Build()), EncodeFrame(FrameKind::kRaft, 1, "again"));
}

TEST(PeerQueueTest, RefusesPastTheBoundAndCountsDrops) {
  const uint64_t frame_bytes = kFramePrefixBytes + 100;
  PeerQueue queue(10 * frame_bytes);
  for (int i = 0; i < 10; ++i) {
    EXPECT_NE(queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 0, std::string(100, 'x'))),
              PeerQueue::Push::kRefused);
  }
  EXPECT_EQ(queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 0, std::string(100, 'x'))),
            PeerQueue::Push::kRefused);
  PeerStats s = queue.Stats();
  EXPECT_EQ(s.queued_bytes, 10 * frame_bytes);
  EXPECT_EQ(s.frames_dropped, 1u);
  EXPECT_FALSE(s.connected);

  // A broken connection drops what was queued; the bound frees up.
  queue.Connected(-1);
  queue.Disconnected();
  s = queue.Stats();
  EXPECT_EQ(s.queued_bytes, 0u);
  EXPECT_EQ(s.frames_dropped, 11u);
  EXPECT_EQ(s.connects, 1u);
  EXPECT_EQ(queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 0, "y")), PeerQueue::Push::kQueued);
}

TEST(PeerQueueTest, WakesTheWriterOnlyWhenItIsIdle) {
  PeerQueue queue(1 << 20);
  // Not connected: frames wait, nobody is woken (the connection pulls them when it comes).
  EXPECT_EQ(queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 0, "a")), PeerQueue::Push::kQueued);
  queue.Connected(-1);
  WriteBatch batch;
  ASSERT_TRUE(queue.TakeBatch(batch));
  EXPECT_EQ(batch.frame_count(), 1u);
  // Busy writing: no wake-ups.
  EXPECT_EQ(queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 0, "b")), PeerQueue::Push::kQueued);
  queue.WriteDone(batch.frame_count(), batch.wire_bytes());
  batch.Clear();
  ASSERT_TRUE(queue.TakeBatch(batch));
  queue.WriteDone(1, batch.wire_bytes());
  batch.Clear();
  EXPECT_FALSE(queue.TakeBatch(batch));  // empty: the writer goes idle
  // Exactly one sender is told to wake it.
  EXPECT_EQ(queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 0, "c")),
            PeerQueue::Push::kQueuedWakeWriter);
  EXPECT_EQ(queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 0, "d")), PeerQueue::Push::kQueued);
  PeerStats s = queue.Stats();
  EXPECT_EQ(s.frames_sent, 2u);
  EXPECT_TRUE(s.connected);
}

TEST(PeerQueueTest, BatchesAreBoundedByFramesAndBytes) {
  PeerQueue queue(64ull << 20);
  queue.Connected(-1);
  for (int i = 0; i < 1000; ++i) (void)queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 0, "x"));
  WriteBatch batch;
  ASSERT_TRUE(queue.TakeBatch(batch));
  EXPECT_EQ(batch.frame_count(), PeerQueue::kMaxBatchFrames);

  PeerQueue big(64ull << 20);
  big.Connected(-1);
  for (int i = 0; i < 5; ++i) {
    (void)big.Enqueue(MakeOutFrame(FrameKind::kRaft, 0, std::string(400 * 1024, 'b')));
  }
  WriteBatch big_batch;
  ASSERT_TRUE(big.TakeBatch(big_batch));
  EXPECT_EQ(big_batch.frame_count(), 2u);  // a third would pass 1 MiB
  // A frame larger than the byte limit still goes, alone.
  PeerQueue huge(64ull << 20);
  huge.Connected(-1);
  (void)huge.Enqueue(MakeOutFrame(FrameKind::kRaft, 0, std::string(3 << 20, 'h')));
  WriteBatch huge_batch;
  ASSERT_TRUE(huge.TakeBatch(huge_batch));
  EXPECT_EQ(huge_batch.frame_count(), 1u);
}

TEST(PeerQueueTest, InFlightBytesCountUntilWrittenOrDropped) {
  PeerQueue queue(1 << 20);
  queue.Connected(-1);
  (void)queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 0, std::string(50, 'z')));
  WriteBatch batch;
  ASSERT_TRUE(queue.TakeBatch(batch));
  EXPECT_EQ(queue.Stats().queued_bytes, batch.wire_bytes());
  queue.DropInFlight(batch.frame_count(), batch.wire_bytes());
  PeerStats s = queue.Stats();
  EXPECT_EQ(s.queued_bytes, 0u);
  EXPECT_EQ(s.frames_dropped, 1u);
  EXPECT_EQ(s.frames_sent, 0u);
}

TEST(PeerQueueTest, RemoveDropsTheQueueAndRefusesUntilRestored) {
  PeerQueue queue(1 << 20);
  (void)queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 0, "a"));
  (void)queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 0, "b"));
  EXPECT_FALSE(queue.removed());
  queue.Remove();
  EXPECT_TRUE(queue.removed());
  PeerStats s = queue.Stats();
  EXPECT_EQ(s.queued_bytes, 0u);
  EXPECT_EQ(s.frames_dropped, 2u);
  // Refused while removed, and not counted (like a frame for an unknown peer).
  EXPECT_EQ(queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 0, "c")), PeerQueue::Push::kRefused);
  EXPECT_EQ(queue.Stats().frames_dropped, 2u);
  queue.Restore();
  EXPECT_FALSE(queue.removed());
  EXPECT_EQ(queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 0, "d")), PeerQueue::Push::kQueued);
  EXPECT_EQ(queue.Stats().queued_bytes, kFramePrefixBytes + 1);
}

}  // namespace
}  // namespace cmq::transport
