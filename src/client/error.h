#pragma once
// Errors as values for the client library. A call either yields its value or an Error:
// a server error carries CMQ's public `code` (e.g. 7000 "no message"), its `message` and
// `requestId`; a transport error (connect, I/O, timeout, non-200 HTTP status) or a protocol
// error (a response that is not the JSON we expect) carries a description only.

#include <string>
#include <utility>
#include <variant>

#include "common/assert.h"

namespace cmq::client {

// Public CMQ codes the client library itself looks at (spec §6).
inline constexpr int kCodeNoMessage = 7000;
// The TCP protocol's "no message" (cmq-tcp-protocol.md §7): HTTP wraps the same module
// code as 7000 "(10200)no message", TCP returns 10200 itself.
inline constexpr int kCodeTcpNoMessage = 10200;
inline constexpr int kCodeQueueExists = 4460;
inline constexpr int kCodeQueueNotExist = 4440;
inline constexpr int kCodeBatchDeletePartial = 6010;
// Topics: 4460 "topic is already existed" (as queues), 4440 "topic/subscription is not
// existed", 4490 "subscription is already existed", 6030 "no (matching) subscription".
inline constexpr int kCodeTopicExists = 4460;
inline constexpr int kCodeSubscriptionExists = 4490;
inline constexpr int kCodeNoSubscription = 6030;

struct Error {
  enum class Kind { kServer, kTransport, kProtocol };

  Kind kind = Kind::kTransport;
  int code = 0;            // CMQ code; 0 unless kind == kServer
  std::string message;     // CMQ message, e.g. "(10200)no message", or the failure
  std::string request_id;  // server errors only

  static Error Server(int code, std::string message, std::string request_id) {
    return Error{Kind::kServer, code, std::move(message), std::move(request_id)};
  }
  static Error Transport(std::string message) {
    return Error{Kind::kTransport, 0, std::move(message), {}};
  }
  static Error Protocol(std::string message) {
    return Error{Kind::kProtocol, 0, std::move(message), {}};
  }

  bool is_server() const { return kind == Kind::kServer; }
  bool is_no_message() const {
    return is_server() && (code == kCodeNoMessage || code == kCodeTcpNoMessage);
  }
  // "error 7000: (10200)no message (requestId 42)" or "transport error: ...".
  std::string ToString() const;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

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

  const Error& error() const {
    CMQ_ASSERT(!ok(), "error() on an ok Result");
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    CMQ_ASSERT(!ok_, "error() on an ok Result");
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace cmq::client
