#pragma once
// The decoded parameters of one CMQ request and their validation (spec §4.1, §7).
// Parameter names are matched exactly (the SDKs agree on them); only Action is matched
// case-insensitively. Every accessor answers the documented CMQ error on bad input.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "api/errors.h"
#include "api/request.h"
#include "common/url.h"

namespace cmq::api {

// A value or the CMQ error to answer.
template <typename T>
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  ApiResult(ApiError error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  T& value() { return std::get<0>(v_); }
  const ApiError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

// Strict integer parsing: an optional '-', then decimal digits only, no overflow.
std::optional<int64_t> ParseInt64(std::string_view s);
// Strict unsigned parsing: decimal digits only, no overflow.
std::optional<uint64_t> ParseUint64(std::string_view s);
// CMQ queue name rules (spec §8, mq/limits.h): a letter, then letters, digits, '-' or '_';
// at most kMaxNameLength characters.
bool IsValidQueueName(std::string_view name);

// The decoded value of the first parameter `name` of request (from the same part of it
// RequestParams::Parse reads), without decoding the rest; nullopt if absent or malformed.
// For routing a request before it is parsed in full (api/forwarding.cc).
std::optional<std::string> FindParam(const HttpRequest& request, std::string_view name);

class RequestParams {
 public:
  // Decodes the form of request: the body for POST (whatever the Content-Type; the query if
  // the body is empty), the query string for GET. Refuses malformed escapes (10420) and
  // repeated names (10330). REQUIRES: request.method is GET or POST.
  static ApiResult<RequestParams> Parse(const HttpRequest& request);

  explicit RequestParams(FormParams form) : form_(std::move(form)) {}

  const FormParams& form() const { return form_; }
  // An internal request (HttpRequest::internal) pinned to a group (0: none).
  uint32_t pinned_group() const { return pinned_group_; }
  bool internal() const { return internal_; }
  void set_origin(bool internal, uint32_t pinned_group) {
    internal_ = internal;
    pinned_group_ = pinned_group;
  }
  // Set once the request's client is gone (HttpRequest::abandoned); may be null.
  const std::shared_ptr<const std::atomic<bool>>& abandoned() const { return abandoned_; }
  void set_abandoned(std::shared_ptr<const std::atomic<bool>> abandoned) {
    abandoned_ = std::move(abandoned);
  }
  // The value of name, or nullptr.
  const std::string* Find(std::string_view name) const;

  // A required scalar: 10390 when absent (10330 when only `name.n` items were given).
  ApiResult<std::string_view> Required(std::string_view name) const;
  // An optional integer within [min, max]: 10360 if not an integer, 10350 if out of range.
  ApiResult<std::optional<int64_t>> OptionalInt(std::string_view name, int64_t min,
                                                int64_t max) const;
  ApiResult<int64_t> RequiredInt(std::string_view name, int64_t min, int64_t max) const;
  ApiResult<int64_t> IntOr(std::string_view name, int64_t min, int64_t max, int64_t fallback) const;
  // A list `name.n` (spec §7): indices start at 0 or 1 and are consecutive (10380), ordered
  // numerically; 1..max_items items (none: 10390, too many: 10370).
  ApiResult<std::vector<std::string_view>> List(std::string_view name, size_t max_items) const;
  // An optional list (filterTag.n, bindingKey.n, msgTag.n): nullopt when no `name.n` is
  // given; otherwise as List, except that more than max_items answers too_many (these lists
  // have their own codes, spec §6).
  ApiResult<std::optional<std::vector<std::string_view>>> OptionalList(
      std::string_view name, size_t max_items, const ApiError& too_many) const;

 private:
  // The items of `name.n` in index order, checked for gaps and repetitions; at most
  // max_items (more: *too_many, or 10370 when null). Empty when none is given.
  ApiResult<std::vector<std::string_view>> Items(std::string_view name, size_t max_items,
                                                 const ApiError* too_many) const;

  FormParams form_;
  bool internal_ = false;
  uint32_t pinned_group_ = 0;
  std::shared_ptr<const std::atomic<bool>> abandoned_;
};

// Case-insensitive ASCII comparison (for Action).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace cmq::api
