// TcpFrameReader: frames split anywhere across reads, several frames in one read, and a
// header BodySizeOf refuses.
#include "client/tcp_frame_reader.h"

#include <gtest/gtest.h>

#include <cstring>

#include "proto/tcp_frame.h"

namespace cmq::client {
namespace {

std::string Frame(const std::string& body) {
  std::string out;
  tcp::AppendFrameHeader(out, body.size());
  return out + body;
}

void Feed(TcpFrameReader& r, std::string_view bytes) {
  auto space = r.Prepare(bytes.size());
  ASSERT_GE(space.size(), bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  r.Commit(bytes.size());
}

std::vector<std::string> Drain(TcpFrameReader& r) {
  std::vector<std::string> out;
  std::string_view body;
  while (r.Next(&body) == TcpFrameReader::Status::kFrame) out.emplace_back(body);
  return out;
}

TEST(TcpFrameReaderTest, SeveralFramesInOneRead) {
  TcpFrameReader r;
  Feed(r, Frame("one") + Frame("") + Frame("three"));
  EXPECT_EQ(Drain(r), (std::vector<std::string>{"one", "", "three"}));
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(TcpFrameReaderTest, EverySplitPointOfTwoFrames) {
  std::string stream = Frame("hello") + Frame(std::string(300, 'x'));
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    TcpFrameReader r;
    Feed(r, std::string_view(stream).substr(0, cut));
    auto got = Drain(r);
    Feed(r, std::string_view(stream).substr(cut));
    for (auto& b : Drain(r)) got.push_back(b);
    ASSERT_EQ(got.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(got[0], "hello");
    EXPECT_EQ(got[1], std::string(300, 'x'));
  }
}

TEST(TcpFrameReaderTest, OneByteAtATimeWithSmallReads) {
  std::string stream = Frame(std::string(100000, 'y')) + Frame("z");
  TcpFrameReader r;
  std::vector<std::string> got;
  for (char c : stream) {
    auto space = r.Prepare(1);
    space[0] = c;
    r.Commit(1);
    for (auto& b : Drain(r)) got.push_back(b);
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].size(), 100000u);
  EXPECT_EQ(got[1], "z");
}

TEST(TcpFrameReaderTest, RefusesInvalidHeaders) {
  std::string_view body;
  {
    TcpFrameReader r;  // announces more than kMaxFrameSize
    std::string h("\0\0", 2);
    uint32_t total = tcp::kMaxFrameSize + 1;
    for (int i = 0; i < 4; ++i) h.push_back(static_cast<char>(total >> (8 * i)));
    Feed(r, h);
    EXPECT_EQ(r.Next(&body), TcpFrameReader::Status::kBad);
  }
  {
    TcpFrameReader r;  // non-zero leading bytes
    Feed(r, std::string("\1\0\10\0\0\0", 6));
    EXPECT_EQ(r.Next(&body), TcpFrameReader::Status::kBad);
  }
  {
    TcpFrameReader r;  // a total below the header's own size
    Feed(r, std::string("\0\0\5\0\0\0", 6));
    EXPECT_EQ(r.Next(&body), TcpFrameReader::Status::kBad);
  }
  {
    TcpFrameReader r;  // an incomplete header is not judged yet
    Feed(r, std::string("\0\0\5", 3));
    EXPECT_EQ(r.Next(&body), TcpFrameReader::Status::kNeedMore);
  }
}

}  // namespace
}  // namespace cmq::client
