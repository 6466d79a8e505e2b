#pragma once
// Errors as values across module boundaries. A Status is either ok or carries an error
// code plus a human-readable detail. The codes name what went wrong in our terms; the api/
// layer maps them onto CMQ's public (code, module code, text) triples.

#include <string>
#include <string_view>
#include <utility>

namespace cmq {

enum class ErrorCode : int {
  kOk = 0,
  // Generic.
  kInvalidArgument,  // a value out of range or malformed
  kNotFound,         // generic lookup miss
  kInternal,         // a bug or an unexpected state
  kUnavailable,      // retryable: not leader, shutting down, group not ready
  // Storage.
  kIoError,     // a system call failed
  kCorruption,  // checksum or framing mismatch in data read back
  kNoSpace,     // ENOSPC
  kLogFailed,   // sticky: an earlier fsync failed; the log refuses writes
  // Queue model (mq/).
  kQueueNotExist,
  kQueueExists,
  kQueueLimitReached,     // too many queues
  kMessageTooLarge,       // body larger than the queue's maxMsgSize
  kBatchTooLarge,         // batch total over the limit
  kHeapFull,              // queue holds maxMsgHeapNum messages
  kTooManyUnacked,        // too many in-flight + delayed messages
  kReceiptHandleInvalid,  // stale, expired or unknown receipt handle
  kNoMessage,             // receive found nothing within the wait
  kRewindDisabled,        // RewindQueue on a queue with rewindSeconds=0
  kDelayOutOfRange,
  // Topic model (mq/).
  kTopicNotExist,
  kTopicExists,
  kTopicLimitReached,      // too many topics
  kTopicHasSubscriptions,  // DeleteTopic while subscriptions exist
  kSubscriptionNotExist,
  kSubscriptionExists,
  kSubscriptionLimitReached,  // too many subscriptions on a topic
  kTopicNoSubscription,       // publish to a topic with no subscription
  kNoMatchingSubscription,    // publish that no subscription's filter matches
};

class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

std::string_view ErrorCodeName(ErrorCode code);

}  // namespace cmq
