// The wire format in isolation: frame prefixes, the incremental FrameReader (fed in random
// chunks, including frames larger than its buffer), corruption and bounds, handshakes.

#include "transport/frame_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "common/checksum.h"
#include "common/encoding.h"
#include "transport/frame_reader.h"

namespace cmq::transport {
namespace {

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Feeds `stream` to `reader` in chunks of random size (1..max_chunk) and pops after each.
// Returns the frames, and the last Pop result (kNeedMore when the stream was all good).
FrameReader::Result Feed(FrameReader& reader, const std::string& stream, std::mt19937_64& rng,
                         size_t max_chunk, std::vector<Frame>& out) {
  size_t pos = 0;
  for (;;) {
    Frame frame;
    FrameReader::Result r = reader.Pop(frame);
    if (r == FrameReader::Result::kFrame) {
      out.push_back(std::move(frame));
      continue;
    }
    if (r == FrameReader::Result::kError || pos == stream.size()) return r;
    std::span<char> span = reader.WritableSpan();
    EXPECT_FALSE(span.empty());
    size_t n = std::min({span.size(), stream.size() - pos, 1 + rng() % max_chunk});
    std::copy_n(stream.data() + pos, n, span.data());
    reader.Commit(n);
    pos += n;
  }
}

TEST(FrameCodecTest, PrefixLayoutIsLittleEndianWithChecksumOfBody) {
  std::string frame = EncodeFrame(FrameKind::kForwardRequest, 0x01020304, "hello");
  ASSERT_EQ(frame.size(), kFramePrefixBytes + 5);
  EXPECT_EQ(DecodeFixed32(frame.data()), 5u + 5u);  // kind + group + payload
  std::string_view body(frame.data() + 8, frame.size() - 8);
  EXPECT_EQ(DecodeFixed32(frame.data() + 4), Checksum32(body));
  EXPECT_EQ(static_cast<uint8_t>(frame[8]), 2);
  EXPECT_EQ(std::string(frame.data() + 9, 4), std::string("\x04\x03\x02\x01", 4));
  EXPECT_EQ(frame.substr(13), "hello");
}

TEST(FrameCodecTest, RoundTripThroughReaderInRandomChunks) {
  std::mt19937_64 rng(42);
  // Sizes around the reader's 256-byte buffer and far beyond it.
  const std::vector<size_t> sizes = {0, 1, 100, 242, 243, 244, 255, 256, 300, 5000, 100000, 7};
  for (size_t max_chunk : {1, 7, 64, 1000, 1 << 20}) {
    std::string stream;
    std::vector<std::string> payloads;
    for (size_t i = 0; i < sizes.size(); ++i) {
      payloads.push_back(RandomBytes(rng, sizes[i]));
      stream += EncodeFrame(static_cast<FrameKind>(1 + i % 3), static_cast<uint32_t>(i * 1000),
                            payloads.back());
    }
    FrameReader reader(1 << 20, 256);
    std::vector<Frame> frames;
    EXPECT_EQ(Feed(reader, stream, rng, max_chunk, frames), FrameReader::Result::kNeedMore);
    ASSERT_EQ(frames.size(), sizes.size()) << "max_chunk " << max_chunk;
    for (size_t i = 0; i < sizes.size(); ++i) {
      EXPECT_EQ(frames[i].kind, static_cast<FrameKind>(1 + i % 3));
      EXPECT_EQ(frames[i].group, i * 1000);
      EXPECT_EQ(frames[i].payload, payloads[i]) << "frame " << i << " chunk " << max_chunk;
    }
  }
}

TEST(FrameCodecTest, CorruptPayloadOrChecksumIsDetected) {
  std::mt19937_64 rng(7);
  for (size_t size : {10, 100000}) {  // parsed in the buffer, and in large mode
    for (size_t flip : {size_t{4}, size_t{8}, kFramePrefixBytes + size / 2}) {
      std::string good = EncodeFrame(FrameKind::kRaft, 1, RandomBytes(rng, size));
      std::string bad = good;
      bad[flip] ^= 0x10;
      FrameReader reader(1 << 20, 4096);
      std::vector<Frame> frames;
      // A valid frame first: it is delivered, the corrupt one after it is not.
      EXPECT_EQ(Feed(reader, good + bad, rng, 1 << 20, frames), FrameReader::Result::kError);
      EXPECT_EQ(frames.size(), 1u);
      EXPECT_EQ(reader.error(), FrameError::kBadChecksum) << "size " << size << " flip " << flip;
      Frame frame;  // sticky: the stream cannot be resynchronized
      EXPECT_EQ(reader.Pop(frame), FrameReader::Result::kError);
    }
  }
}

TEST(FrameCodecTest, OversizedLengthIsRejectedFromTheHeaderAlone) {
  std::string header(8, '\0');
  EncodeFixed32(header.data(), 1001);
  FrameReader reader(/*max_frame_bytes=*/1000);
  std::span<char> span = reader.WritableSpan();
  std::copy(header.begin(), header.end(), span.begin());
  reader.Commit(header.size());
  Frame frame;
  EXPECT_EQ(reader.Pop(frame), FrameReader::Result::kError);
  EXPECT_EQ(reader.error(), FrameError::kTooLong);

  // Exactly the limit is fine.
  std::mt19937_64 rng(1);
  FrameReader ok_reader(1000);
  std::vector<Frame> frames;
  EXPECT_EQ(
      Feed(ok_reader, EncodeFrame(FrameKind::kRaft, 0, std::string(995, 'x')), rng, 4096, frames),
      FrameReader::Result::kNeedMore);
  EXPECT_EQ(frames.size(), 1u);
}

TEST(FrameCodecTest, BodyShorterThanItsHeaderIsRejected) {
  std::string header(8, '\0');
  EncodeFixed32(header.data(), 4);
  FrameReader reader(1000);
  std::span<char> span = reader.WritableSpan();
  std::copy(header.begin(), header.end(), span.begin());
  reader.Commit(header.size());
  Frame frame;
  EXPECT_EQ(reader.Pop(frame), FrameReader::Result::kError);
  EXPECT_EQ(reader.error(), FrameError::kTooShort);
}

TEST(FrameCodecTest, UnknownKindWithValidChecksumIsRejected) {
  std::string body = std::string(1, '\x0a') + std::string(4, '\0') + "payload";  // kind 10
  std::string frame(8, '\0');
  EncodeFixed32(frame.data(), static_cast<uint32_t>(body.size()));
  EncodeFixed32(frame.data() + 4, Checksum32(body));
  frame += body;
  std::mt19937_64 rng(3);
  FrameReader reader(1000);
  std::vector<Frame> frames;
  EXPECT_EQ(Feed(reader, frame, rng, 4096, frames), FrameReader::Result::kError);
  EXPECT_EQ(reader.error(), FrameError::kBadKind);
  EXPECT_TRUE(frames.empty());
}

TEST(FrameCodecTest, HandshakeRoundTripAndChecks) {
  Handshake h{kWireVersion, 0x1122334455667788ull, 3, 9};
  HandshakeBytes bytes = EncodeHandshake(h);
  EXPECT_EQ(std::string(bytes.data(), 4), "CMQT");
  EXPECT_EQ(static_cast<uint8_t>(bytes[4]), kWireVersion & 0xff);
  Handshake back;
  ASSERT_TRUE(DecodeHandshake(bytes, back));
  EXPECT_EQ(back.version, h.version);
  EXPECT_EQ(back.cluster_id, h.cluster_id);
  EXPECT_EQ(back.from, 3u);
  EXPECT_EQ(back.to, 9u);
  EXPECT_EQ(HandshakeMismatch(back, h.cluster_id, 9), "");

  EXPECT_NE(HandshakeMismatch(back, h.cluster_id + 1, 9).find("cluster"), std::string::npos);
  EXPECT_NE(HandshakeMismatch(back, h.cluster_id, 8).find("addressed to node 9"),
            std::string::npos);
  Handshake other_version = h;
  other_version.version = kWireVersion + 1;
  EXPECT_NE(HandshakeMismatch(other_version, h.cluster_id, 9).find("version"), std::string::npos);

  bytes[0] = 'X';
  EXPECT_FALSE(DecodeHandshake(bytes, back));
}

}  // namespace
}  // namespace cmq::transport
