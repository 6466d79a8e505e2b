// Endpoint parsing, response parsing edge cases, the fast scanners and the histogram.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "client/histogram.h"
#include "client/options.h"
#include "client/responses.h"
#include "client/scan.h"

namespace cmq::client {
namespace {

TEST(EndpointTest, Parses) {
  auto e = ParseEndpoint("http://127.0.0.1:8080/");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, "8080");
  EXPECT_EQ(e->host_header, "127.0.0.1:8080");
  e = ParseEndpoint("cmq.example");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->port, "80");
  EXPECT_EQ(e->host_header, "cmq.example");
  e = ParseEndpoint("http://[::1]:9000");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, "9000");
  EXPECT_EQ(e->host_header, "[::1]:9000");
  EXPECT_FALSE(e->tls);
  e = ParseEndpoint("https://cmq.example/");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->tls);
  EXPECT_EQ(e->port, "443");
  EXPECT_EQ(e->host_header, "cmq.example");
  e = ParseEndpoint("https://127.0.0.1:8443");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->tls);
  EXPECT_EQ(e->port, "8443");
  EXPECT_FALSE(ParseEndpoint("https://").ok());
  EXPECT_FALSE(ParseEndpoint("http://x:1/path").ok());
  EXPECT_FALSE(ParseEndpoint("http://x:abc").ok());
  EXPECT_FALSE(ParseEndpoint("").ok());
}

TEST(ResponsesTest, EnvelopeAndIds) {
  EXPECT_FALSE(ParseEnvelope("{}").ok());
  EXPECT_FALSE(ParseEnvelope("[1]").ok());
  auto j = ParseEnvelope(R"({"code":4440,"message":"(10100)queue is not existed","requestId":5})");
  ASSERT_TRUE(j.ok());
  auto err = ServerError(*j);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, 4440);
  EXPECT_EQ(err->request_id, "5");
  auto ok = ParseSuccess(R"({"code":0,"msgId":123})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ParseId(*ok, "msgId"), 123u);
  EXPECT_FALSE(ParseId(*ParseSuccess(R"({"code":0,"msgId":"12a"})"), "msgId").ok());
  EXPECT_FALSE(ParseId(*ParseSuccess(R"({"code":0,"msgId":"-1"})"), "msgId").ok());
  EXPECT_FALSE(
      ParseId(*ParseSuccess(R"({"code":0,"msgId":"18446744073709551616"})"), "msgId").ok());
  EXPECT_EQ(ParseUint64("0"), 0u);
  EXPECT_FALSE(ParseUint64("").has_value());
}

TEST(ResponsesTest, QueueMetaAcceptsEitherRewindSpellingAndNeedsFields) {
  auto j = ParseSuccess(R"({"code":0,"maxMsgHeapNum":1,"pollingWaitSeconds":2,"visibilityTimeout":3,
    "maxMsgSize":4,"msgRetentionSeconds":5,"createTime":6,"lastModifyTime":7,"activeMsgNum":8,
    "inactiveMsgNum":9,"rewindSeconds":10,"rewindMsgNum":11,"minMsgTime":12,"delayMsgNum":13})");
  auto m = ParseQueueMeta(*j);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->rewind_msg_num, 11);
  EXPECT_EQ(m->delay_msg_num, 13);
  j->erase("visibilityTimeout");
  EXPECT_FALSE(ParseQueueMeta(*j).ok());
}

TEST(ResponsesTest, MessageNeedsAllSevenFields) {
  auto j = ParseSuccess(R"({"code":0,"msgBody":"x","msgId":"1","receiptHandle":"2",
    "enqueueTime":3,"nextVisibleTime":4,"firstDequeueTime":5,"dequeueCount":6})");
  ASSERT_TRUE(ParseMessage(*j).ok());
  j->erase("firstDequeueTime");
  EXPECT_FALSE(ParseMessage(*j).ok());
  EXPECT_FALSE(ParseMessageList(*ParseSuccess(R"({"code":0})")).ok());
  auto errs = ParseDeleteErrors(*ParseSuccess(R"({"code":0})"));
  ASSERT_TRUE(errs.ok());
  EXPECT_TRUE(errs->empty());
}

TEST(ScanTest, FindsKeysNotStringContents) {
  std::string_view body =
      R"({"code" : 0,"msgInfoList":[{"msgBody":"\"receiptHandle\":\"999\"","receiptHandle":"11"},)"
      R"({"msgBody":"receiptHandle","receiptHandle": 12}],"requestId":"3"})";
  EXPECT_EQ(scan::IntField(body, "code"), 0);
  std::vector<std::string> handles;
  size_t n = scan::ForEachValue(body, "receiptHandle",
                                [&](std::string_view v) { handles.emplace_back(v); });
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(handles, (std::vector<std::string>{"11", "12"}));
  EXPECT_EQ(scan::IntField(R"({"code":7000,"message":"(10200)no message"})", "code"), 7000);
  EXPECT_FALSE(scan::IntField(R"({"message":"code"})", "code").has_value());
  EXPECT_EQ(scan::ForEachValue(R"({"msgList":[{"msgId":"1"},{"msgId":"2"}]})", "msgId",
                               [](std::string_view) {}),
            2u);
}

TEST(HistogramTest, ExactBelow2048) {
  Histogram h;
  for (uint64_t v = 1; v <= 1000; ++v) h.Record(v);
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 1000u);
  EXPECT_DOUBLE_EQ(h.mean(), 500.5);
  EXPECT_EQ(h.Percentile(50), 500u);
  EXPECT_EQ(h.Percentile(99), 990u);
  EXPECT_EQ(h.Percentile(99.9), 999u);
  EXPECT_EQ(h.Percentile(100), 1000u);
  EXPECT_EQ(h.Percentile(0), 1u);
}

TEST(HistogramTest, EmptyAndSingle) {
  Histogram h;
  EXPECT_EQ(h.Percentile(50), 0u);
  h.Record(123456789);
  EXPECT_EQ(h.Percentile(50), 123456789u);  // capped at max
  EXPECT_EQ(h.Percentile(99.9), 123456789u);
}

TEST(HistogramTest, BucketsCoverAllValuesWithinPrecision) {
  for (uint64_t v :
       std::initializer_list<uint64_t>{0ull, 1ull, 2047ull, 2048ull, 2049ull, 4095ull, 4096ull,
                                       1000000ull, 123456789ull, (1ull << 40) + 7, UINT64_MAX}) {
    size_t b = Histogram::BucketOf(v);
    uint64_t hi = Histogram::HighestValueOf(b);
    EXPECT_GE(hi, v);
    EXPECT_LE(static_cast<double>(hi - v), static_cast<double>(v) / 1024.0 + 1) << v;
    if (b > 0) {
      EXPECT_LT(Histogram::HighestValueOf(b - 1), v) << v;
    }
  }
}

TEST(HistogramTest, MatchesSortedSamplesAndMerges) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(8.0, 1.5);
  std::vector<uint64_t> samples;
  Histogram a, b;
  for (int i = 0; i < 100000; ++i) {
    uint64_t v = static_cast<uint64_t>(dist(rng));
    samples.push_back(v);
    (i % 2 ? a : b).Record(v);
  }
  a.Add(b);
  std::sort(samples.begin(), samples.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    uint64_t exact = samples[static_cast<size_t>(std::ceil(p / 100 * samples.size() - 1e-9)) - 1];
    uint64_t got = a.Percentile(p);
    EXPECT_GE(got, exact) << p;
    EXPECT_LE(static_cast<double>(got), exact * (1 + 1.0 / 1024) + 1) << p;
  }
  EXPECT_EQ(a.count(), samples.size());
  EXPECT_EQ(a.max(), samples.back());
}

}  // namespace
}  // namespace cmq::client
