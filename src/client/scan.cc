#include "client/scan.h"

#include <charconv>

namespace cmq::client::scan {

namespace {
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
}  // namespace

size_t NextValue(std::string_view json, std::string_view name, size_t pos,
                 std::string_view* value) {
  while (pos < json.size()) {
    size_t at = json.find(name, pos);
    if (at == std::string_view::npos) return std::string_view::npos;
    pos = at + name.size();
    if (at == 0 || json[at - 1] != '"' || pos >= json.size() || json[pos] != '"') continue;
    size_t i = pos + 1;
    while (i < json.size() && IsSpace(json[i])) ++i;
    if (i >= json.size() || json[i] != ':') continue;
    ++i;
    while (i < json.size() && IsSpace(json[i])) ++i;
    if (i >= json.size()) return std::string_view::npos;
    if (json[i] == '"') {
      size_t end = json.find('"', i + 1);  // ids and handles hold no escapes
      if (end == std::string_view::npos) return std::string_view::npos;
      *value = json.substr(i + 1, end - i - 1);
      return end + 1;
    }
    size_t end = i;
    while (end < json.size() && (json[end] == '-' || (json[end] >= '0' && json[end] <= '9'))) {
      ++end;
    }
    if (end == i) continue;  // not a string or a number: skip this key
    *value = json.substr(i, end - i);
    return end;
  }
  return std::string_view::npos;
}

std::optional<int64_t> IntField(std::string_view json, std::string_view name) {
  std::string_view value;
  size_t pos = 0;
  while ((pos = NextValue(json, name, pos, &value)) != std::string_view::npos) {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec == std::errc() && ptr == value.data() + value.size()) return v;
  }
  return std::nullopt;
}

}  // namespace cmq::client::scan
