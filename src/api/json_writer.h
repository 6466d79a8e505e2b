#pragma once
// A small append-only JSON writer for responses (the hot path: one per request, no DOM).
// Strings are escaped per RFC 8259: '"', '\\' and control characters; bytes that are not
// valid UTF-8 are each replaced by U+FFFD (written as "\ufffd"), so the output is always
// valid JSON whatever a message body holds (docs/http-api.md "Message bodies").
//
// The caller writes a well-formed sequence (keys only inside objects, values after keys);
// separators are inserted automatically. Nesting depth is at most kMaxDepth.

#include <cstdint>
#include <string>
#include <string_view>

namespace cmq::api {

// Appends s to out as a JSON string literal (with the quotes).
void AppendJsonString(std::string& out, std::string_view s);

class JsonWriter {
 public:
  static constexpr int kMaxDepth = 8;

  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);  // key must need no escaping (our field names)
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Bool(bool value);
  // A value already serialized as JSON (written as is).
  JsonWriter& Raw(std::string_view json);
  // An unsigned number written as a JSON string of decimal digits (ids).
  JsonWriter& UintString(uint64_t value);

  // Shorthands for one member.
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, uint64_t value) { return Key(key).Uint(value); }
  JsonWriter& Field(std::string_view key, int value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, uint32_t value) { return Key(key).Uint(value); }
  JsonWriter& Field(std::string_view key, const char* value) { return Key(key).String(value); }

  int depth() const { return depth_; }

 private:
  void BeforeValue();

  std::string& out_;
  int depth_ = 0;
  bool need_comma_[kMaxDepth + 1] = {};
  bool after_key_ = false;
};

}  // namespace cmq::api
