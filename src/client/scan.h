#pragma once
// Allocation-free scanning of CMQ JSON responses for the hot path of the benchmark, where
// a full JSON parse would cost more than the request itself. They rely on one property of
// JSON: inside a string value a quote is always escaped, so `"name"` followed by a colon
// occurs only as a key. Use responses.h for anything but counting and handle extraction.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace cmq::client::scan {

// The integer value of the first key `name` (e.g. "code"), nullopt if absent.
std::optional<int64_t> IntField(std::string_view json, std::string_view name);

// Calls fn(std::string_view value) for each occurrence of key `name` whose value is a
// string (the raw text between the quotes) or a number; returns how many were found.
template <typename Fn>
size_t ForEachValue(std::string_view json, std::string_view name, Fn&& fn);

// Internal: the position just after the value that starts at or after `pos`, writing the
// value into *value; npos when no further key `name` exists.
size_t NextValue(std::string_view json, std::string_view name, size_t pos, std::string_view* value);

template <typename Fn>
size_t ForEachValue(std::string_view json, std::string_view name, Fn&& fn) {
  size_t n = 0;
  size_t pos = 0;
  std::string_view value;
  while ((pos = NextValue(json, name, pos, &value)) != std::string_view::npos) {
    fn(value);
    ++n;
  }
  return n;
}

}  // namespace cmq::client::scan
