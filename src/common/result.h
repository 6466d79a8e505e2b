#pragma once
// Result<T>: a value or a non-ok Status. Used for every fallible call that crosses a
// module boundary (no exceptions there).

#include <utility>
#include <variant>

#include "common/assert.h"
#include "common/status.h"

namespace cmq {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    CMQ_ASSERT(!std::get<Status>(v_).ok(), "Result built from an ok Status");
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    CMQ_ASSERT(ok(), "value() on an error Result");
    return std::get<0>(v_);
  }
  const T& value() const& {
    CMQ_ASSERT(ok(), "value() on an error Result");
    return std::get<0>(v_);
  }
  T&& value() && {
    CMQ_ASSERT(ok(), "value() on an error Result");
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; an ok Status when the Result holds a value.
  Status status() const { return ok() ? Status() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cmq

// Propagates a non-ok Status from an expression yielding Status.
#define CMQ_RETURN_IF_ERROR(expr) \
  do {                            \
    ::cmq::Status _st = (expr);   \
    if (!_st.ok()) return _st;    \
  } while (0)
