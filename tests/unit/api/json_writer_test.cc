#include "api/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace cmq::api {
namespace {

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(Quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Quote("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(Quote(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  EXPECT_EQ(Quote(std::string("a\0b", 3)), "\"a\\u0000b\"");
}

TEST(JsonWriterTest, KeepsValidUtf8) {
  EXPECT_EQ(Quote("\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80"),
            "\"\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80\"");
}

TEST(JsonWriterTest, ReplacesInvalidUtf8BytesWithReplacementCharacter) {
  EXPECT_EQ(Quote("a\xff"
                  "b"),
            "\"a\\ufffdb\"");
  EXPECT_EQ(Quote("\xc0\xaf"), "\"\\ufffd\\ufffd\"");                        // overlong
  EXPECT_EQ(Quote("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");             // surrogate
  EXPECT_EQ(Quote("\xe4\xbd"), "\"\\ufffd\\ufffd\"");                        // truncated
  EXPECT_EQ(Quote("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // > U+10FFFF
}

TEST(JsonWriterTest, EveryByteStringGivesValidJson) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("msgBody", all).EndObject();
  auto j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["msgBody"].get<std::string>().substr(0, 128), all.substr(0, 128));
}

TEST(JsonWriterTest, WritesNestedStructuresWithSeparators) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("code", 0).Field("message", "");
  w.Key("requestId").UintString(18446744073709551615ull);
  w.Key("list").BeginArray();
  w.BeginObject().Key("msgId").UintString(1).EndObject();
  w.BeginObject().Key("msgId").UintString(2).EndObject();
  w.EndArray();
  w.Field("n", int64_t{-3}).Field("u", uint64_t{7}).EndObject();
  EXPECT_EQ(out, R"({"code":0,"message":"","requestId":"18446744073709551615",)"
                 R"("list":[{"msgId":"1"},{"msgId":"2"}],"n":-3,"u":7})");
  EXPECT_EQ(w.depth(), 0);
}

}  // namespace
}  // namespace cmq::api
