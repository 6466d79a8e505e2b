// PeerQueue::WriteDirect on a socketpair: the sending thread writes an idle connection's
// frames itself; what the socket does not take is left, in order, for the io thread; a
// closed connection's unwritten end is dropped, never sent on the next one.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <string>

#include "transport/frame_codec.h"
#include "transport/peer_queue.h"
#include "transport/write_batch.h"

namespace cmq::transport {
namespace {

class DirectWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0);
    int small = 4096;  // the kernel doubles it and rounds up; still a few KiB
    ASSERT_EQ(::setsockopt(fds_[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    ASSERT_EQ(::setsockopt(fds_[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    ASSERT_EQ(::fcntl(fds_[0], F_SETFL, O_NONBLOCK), 0);
    ASSERT_EQ(::fcntl(fds_[1], F_SETFL, O_NONBLOCK), 0);
  }
  void TearDown() override {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }

  // Everything the peer end can read now.
  std::string ReadAvailable() {
    std::string out;
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fds_[1], buf, sizeof buf);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }

  // What the io thread would write next (PeerQueue::TakeBatch), written here.
  bool WriteNextBatchBlocking(PeerQueue& queue) {
    WriteBatch batch;
    if (!queue.TakeBatch(batch)) return false;
    std::string bytes;
    for (const auto& b : batch.Build()) bytes.append(static_cast<const char*>(b.data()), b.size());
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fds_[0], bytes.data() + done, bytes.size() - done);
      if (n > 0) {
        done += static_cast<size_t>(n);
      } else {
        received_ += ReadAvailable();  // make room
      }
    }
    queue.WriteDone(batch.frame_count(), batch.wire_bytes());
    return true;
  }

  int fds_[2] = {-1, -1};
  std::string received_;
};

TEST_F(DirectWriteTest, AnIdleConnectionsFramesAreWrittenByTheSender) {
  PeerQueue queue(1 << 20);
  queue.Connected(fds_[0]);
  WriteBatch unused;
  ASSERT_FALSE(queue.TakeBatch(unused));  // the io thread found nothing: the writer is idle

  ASSERT_EQ(queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 3, "append")),
            PeerQueue::Push::kQueuedWakeWriter);
  EXPECT_TRUE(queue.WriteDirect());
  EXPECT_EQ(ReadAvailable(), EncodeFrame(FrameKind::kRaft, 3, "append"));
  PeerStats s = queue.Stats();
  EXPECT_EQ(s.frames_sent, 1u);
  EXPECT_EQ(s.queued_bytes, 0u);
  // The writer is idle again: the next frame is the next sender's to write.
  ASSERT_EQ(queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 4, "next")),
            PeerQueue::Push::kQueuedWakeWriter);
  EXPECT_TRUE(queue.WriteDirect());
  EXPECT_EQ(ReadAvailable(), EncodeFrame(FrameKind::kRaft, 4, "next"));
}

TEST_F(DirectWriteTest, WithoutASocketTheIoThreadWrites) {
  PeerQueue queue(1 << 20);
  queue.Connected(-1);  // direct writes turned off
  WriteBatch unused;
  ASSERT_FALSE(queue.TakeBatch(unused));
  ASSERT_EQ(queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 1, "x")),
            PeerQueue::Push::kQueuedWakeWriter);
  EXPECT_FALSE(queue.WriteDirect());
  EXPECT_EQ(ReadAvailable(), "");
  EXPECT_TRUE(WriteNextBatchBlocking(queue));
  EXPECT_EQ(ReadAvailable(), EncodeFrame(FrameKind::kRaft, 1, "x"));
}

TEST_F(DirectWriteTest, WhatAFullSocketDoesNotTakeGoesFirstFromTheIoThread) {
  PeerQueue queue(64 << 20);
  queue.Connected(fds_[0]);
  WriteBatch unused;
  ASSERT_FALSE(queue.TakeBatch(unused));
  std::string expected;
  const std::string big(200 << 10, 'b');  // far more than the socket buffers hold
  ASSERT_EQ(queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 1, big)),
            PeerQueue::Push::kQueuedWakeWriter);
  expected += EncodeFrame(FrameKind::kRaft, 1, big);
  EXPECT_FALSE(queue.WriteDirect());  // partly written: the io thread must finish it
  // Frames sent meanwhile queue behind the unwritten end (the writer is still busy).
  ASSERT_EQ(queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 2, "after")), PeerQueue::Push::kQueued);
  expected += EncodeFrame(FrameKind::kRaft, 2, "after");
  EXPECT_EQ(queue.Stats().frames_sent, 0u);

  received_ = ReadAvailable();
  ASSERT_FALSE(received_.empty());
  ASSERT_LT(received_.size(), big.size());
  while (WriteNextBatchBlocking(queue)) {
  }
  received_ += ReadAvailable();
  EXPECT_EQ(received_.size(), expected.size());
  EXPECT_TRUE(received_ == expected) << "the byte stream is not the frames in order";
  PeerStats s = queue.Stats();
  EXPECT_EQ(s.frames_sent, 2u);
  EXPECT_EQ(s.queued_bytes, 0u);
}

TEST_F(DirectWriteTest, AClosedConnectionsUnwrittenEndIsDroppedNotSentOnTheNext) {
  PeerQueue queue(64 << 20);
  queue.Connected(fds_[0]);
  WriteBatch unused;
  ASSERT_FALSE(queue.TakeBatch(unused));
  ASSERT_EQ(queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 1, std::string(200 << 10, 'c'))),
            PeerQueue::Push::kQueuedWakeWriter);
  EXPECT_FALSE(queue.WriteDirect());
  queue.Detach(fds_[1]);  // some other socket: nothing changes
  EXPECT_EQ(queue.Stats().frames_dropped, 0u);
  queue.Detach(fds_[0]);  // the connection closes
  PeerStats s = queue.Stats();
  EXPECT_EQ(s.frames_dropped, 1u);
  EXPECT_EQ(s.queued_bytes, 0u);
  queue.Disconnected();

  // The next connection starts on a frame boundary.
  ReadAvailable();
  queue.Connected(fds_[0]);
  ASSERT_EQ(queue.Enqueue(MakeOutFrame(FrameKind::kRaft, 2, "fresh")), PeerQueue::Push::kQueued);
  ASSERT_TRUE(WriteNextBatchBlocking(queue));
  EXPECT_EQ(ReadAvailable(), EncodeFrame(FrameKind::kRaft, 2, "fresh"));
  EXPECT_FALSE(WriteNextBatchBlocking(queue));
}

}  // namespace
}  // namespace cmq::transport
