#include "api/params.h"

#include <algorithm>

#include "mq/limits.h"

namespace cmq::api {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// "name.n" → n, when item is name followed by '.' and a decimal index.
std::optional<uint64_t> ListIndex(std::string_view item, std::string_view name) {
  if (item.size() <= name.size() + 1 || item.substr(0, name.size()) != name ||
      item[name.size()] != '.') {
    return std::nullopt;
  }
  return ParseUint64(item.substr(name.size() + 1));
}

std::string_view QueryOf(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

}  // namespace

std::optional<uint64_t> ParseUint64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return std::nullopt;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

std::optional<int64_t> ParseInt64(std::string_view s) {
  bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  auto magnitude = ParseUint64(s);
  if (!magnitude) return std::nullopt;
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(INT64_MAX);
  if (negative) {
    if (*magnitude > kMaxPositive + 1) return std::nullopt;
    return *magnitude == kMaxPositive + 1 ? INT64_MIN : -static_cast<int64_t>(*magnitude);
  }
  if (*magnitude > kMaxPositive) return std::nullopt;
  return static_cast<int64_t>(*magnitude);
}

bool IsValidQueueName(std::string_view name) {
  if (name.empty() || name.size() > mq::kMaxNameLength || !IsLetter(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return IsLetter(c) || IsDigit(c) || c == '-' || c == '_'; });
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<std::string> FindParam(const HttpRequest& request, std::string_view name) {
  std::string_view source = request.body;
  if (request.method == "GET" || source.empty()) source = QueryOf(request.target);
  while (!source.empty()) {
    const size_t amp = source.find('&');
    std::string_view piece = source.substr(0, amp);
    source = amp == std::string_view::npos ? std::string_view() : source.substr(amp + 1);
    const size_t eq = piece.find('=');
    std::string_view raw_name = piece.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    // Names are plain ASCII in practice; decode only those that are escaped.
    if (raw_name.find_first_of("%+") != std::string_view::npos) {
      auto decoded = UrlDecode(raw_name);
      if (!decoded) return std::nullopt;
      if (*decoded != name) continue;
    } else if (raw_name != name) {
      continue;
    }
    return UrlDecode(raw_value);
  }
  return std::nullopt;
}

ApiResult<RequestParams> RequestParams::Parse(const HttpRequest& request) {
  std::string_view source = request.body;
  if (request.method == "GET" || source.empty()) source = QueryOf(request.target);
  auto form = ParseForm(source);
  if (!form) return RequestTooLarge();
  // Repeated names: sort views of the names and compare neighbours (a request has a few
  // dozen parameters at most).
  std::vector<std::string_view> names;
  names.reserve(form->size());
  for (const auto& p : *form) names.emplace_back(p.first);
  std::sort(names.begin(), names.end());
  auto dup = std::adjacent_find(names.begin(), names.end());
  if (dup != names.end()) return NotRepeatable(*dup);
  return RequestParams(std::move(*form));
}

const std::string* RequestParams::Find(std::string_view name) const {
  for (const auto& p : form_) {
    if (p.first == name) return &p.second;
  }
  return nullptr;
}

ApiResult<std::string_view> RequestParams::Required(std::string_view name) const {
  if (const std::string* v = Find(name)) return std::string_view(*v);
  for (const auto& p : form_) {
    if (ListIndex(p.first, name)) return NotRepeatable(name);
  }
  return MissingParameter(name);
}

ApiResult<std::optional<int64_t>> RequestParams::OptionalInt(std::string_view name, int64_t min,
                                                             int64_t max) const {
  const std::string* v = Find(name);
  if (v == nullptr) return std::optional<int64_t>();
  auto n = ParseInt64(*v);
  if (!n) return WrongType(name);
  if (*n < min || *n > max) return OutOfRange(name);
  return std::optional<int64_t>(*n);
}

ApiResult<int64_t> RequestParams::RequiredInt(std::string_view name, int64_t min,
                                              int64_t max) const {
  auto raw = Required(name);
  if (!raw.ok()) return raw.error();
  auto n = OptionalInt(name, min, max);
  if (!n.ok()) return n.error();
  return *n.value();
}

ApiResult<int64_t> RequestParams::IntOr(std::string_view name, int64_t min, int64_t max,
                                        int64_t fallback) const {
  auto n = OptionalInt(name, min, max);
  if (!n.ok()) return n.error();
  return n.value().value_or(fallback);
}

ApiResult<std::vector<std::string_view>> RequestParams::Items(std::string_view name,
                                                              size_t max_items,
                                                              const ApiError* too_many) const {
  std::vector<std::pair<uint64_t, std::string_view>> items;
  for (const auto& p : form_) {
    if (auto index = ListIndex(p.first, name)) {
      if (items.size() == max_items) {
        return too_many != nullptr ? *too_many : BatchSizeOutOfRange(name);
      }
      items.emplace_back(*index, p.second);
    }
  }
  std::vector<std::string_view> values;
  if (items.empty()) return values;
  std::sort(items.begin(), items.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  uint64_t first = items.front().first;
  if (first > 1) return NotConsecutive(name);
  values.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    // Equal indices written differently ("n.1" and "n.01") count as a repetition.
    if (i > 0 && items[i].first == items[i - 1].first) return NotRepeatable(name);
    if (items[i].first != first + i) return NotConsecutive(name);
    values.push_back(items[i].second);
  }
  return values;
}

ApiResult<std::vector<std::string_view>> RequestParams::List(std::string_view name,
                                                             size_t max_items) const {
  auto items = Items(name, max_items, nullptr);
  if (items.ok() && items.value().empty()) return MissingParameter(name);
  return items;
}

ApiResult<std::optional<std::vector<std::string_view>>> RequestParams::OptionalList(
    std::string_view name, size_t max_items, const ApiError& too_many) const {
  auto items = Items(name, max_items, &too_many);
  if (!items.ok()) return items.error();
  if (items.value().empty()) return std::optional<std::vector<std::string_view>>();
  return std::optional<std::vector<std::string_view>>(std::move(items.value()));
}

}  // namespace cmq::api
