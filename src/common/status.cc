#include "common/status.h"

namespace cmq {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kIoError:
      return "io error";
    case ErrorCode::kCorruption:
      return "corruption";
    case ErrorCode::kNoSpace:
      return "no space";
    case ErrorCode::kLogFailed:
      return "log failed";
    case ErrorCode::kQueueNotExist:
      return "queue not exist";
    case ErrorCode::kQueueExists:
      return "queue exists";
    case ErrorCode::kQueueLimitReached:
      return "queue limit reached";
    case ErrorCode::kMessageTooLarge:
      return "message too large";
    case ErrorCode::kBatchTooLarge:
      return "batch too large";
    case ErrorCode::kHeapFull:
      return "heap full";
    case ErrorCode::kTooManyUnacked:
      return "too many unacked";
    case ErrorCode::kReceiptHandleInvalid:
      return "receipt handle invalid";
    case ErrorCode::kNoMessage:
      return "no message";
    case ErrorCode::kRewindDisabled:
      return "rewind disabled";
    case ErrorCode::kDelayOutOfRange:
      return "delay out of range";
    case ErrorCode::kTopicNotExist:
      return "topic not exist";
    case ErrorCode::kTopicExists:
      return "topic exists";
    case ErrorCode::kTopicLimitReached:
      return "topic limit reached";
    case ErrorCode::kTopicHasSubscriptions:
      return "topic has subscriptions";
    case ErrorCode::kSubscriptionNotExist:
      return "subscription not exist";
    case ErrorCode::kSubscriptionExists:
      return "subscription exists";
    case ErrorCode::kSubscriptionLimitReached:
      return "subscription limit reached";
    case ErrorCode::kTopicNoSubscription:
      return "topic has no subscription";
    case ErrorCode::kNoMatchingSubscription:
      return "no matching subscription";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(ErrorCodeName(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace cmq
