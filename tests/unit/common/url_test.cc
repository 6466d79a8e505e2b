#include "common/url.h"

#include <gtest/gtest.h>

namespace cmq {
namespace {

TEST(UrlTest, DecodesPlusAndPercent) {
  EXPECT_EQ(UrlDecode("a+b%20c%2B%e4%bd%a0").value(), "a b c+\xe4\xbd\xa0");
}

TEST(UrlTest, RejectsMalformedEscapes) {
  EXPECT_FALSE(UrlDecode("%").has_value());
  EXPECT_FALSE(UrlDecode("%4").has_value());
  EXPECT_FALSE(UrlDecode("%zz").has_value());
  EXPECT_FALSE(UrlDecode("abc%").has_value());
}

TEST(UrlTest, EncodeDecodeRoundTripsEveryByte) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(UrlDecode(UrlEncode(all)).value(), all);
}

TEST(UrlTest, ParsesFormInOrderKeepingDuplicatesAndEmptyValues) {
  auto p = ParseForm("a=1&&b=&c&a=2&msgBody=x%3Dy%26z");
  ASSERT_TRUE(p.has_value());
  FormParams want = {{"a", "1"}, {"b", ""}, {"c", ""}, {"a", "2"}, {"msgBody", "x=y&z"}};
  EXPECT_EQ(*p, want);
  EXPECT_FALSE(ParseForm("a=%G1").has_value());
}

TEST(UrlTest, EncodeFormRoundTrips) {
  FormParams p = {{"msgBody", "a b&c=d+e"}, {"q", ""}};
  EXPECT_EQ(ParseForm(EncodeForm(p)).value(), p);
}

}  // namespace
}  // namespace cmq
