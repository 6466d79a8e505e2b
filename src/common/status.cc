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
