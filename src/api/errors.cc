#include "api/errors.h"

#include <string>

namespace cmq::api {
namespace {

ApiError Make(int code, int module_code, std::string text) {
  return ApiError{code, module_code, std::move(text)};
}

std::string WithName(std::string_view before, std::string_view name, std::string_view after) {
  std::string text;
  text.reserve(before.size() + name.size() + after.size());
  text.append(before).append(name).append(after);
  return text;
}

// Internal failures keep the documented text and append what went wrong, for operators.
ApiError Internal(const Status& status) {
  std::string text = "server internal error";
  if (!status.message().empty()) text.append(": ").append(status.message());
  return Make(6000, 10050, std::move(text));
}

}  // namespace

std::string ApiError::Message() const {
  std::string out = "(";
  out += std::to_string(module_code);
  out += ')';
  out += text;
  return out;
}

ApiError ErrorFromStatus(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kQueueNotExist:
    case ErrorCode::kNotFound:
      return Make(4440, 10100, "queue is not existed, or deleted");
    case ErrorCode::kQueueExists:
      return Make(4460, 10210, "queue is already existed");
    case ErrorCode::kQueueLimitReached:
      return Make(4450, 10220, "number of queues has reached the limit");
    case ErrorCode::kMessageTooLarge:
      return MessageTooLarge();
    case ErrorCode::kBatchTooLarge:
      return BatchTooLarge();
    case ErrorCode::kHeapFull:
      return Make(4410, 10240, "reach maximum retention number of message");
    case ErrorCode::kTooManyUnacked:
      return Make(6070, 10690, "too many unacked(inactive) messages or delayed messages");
    case ErrorCode::kReceiptHandleInvalid:
      return Make(4430, 10260, "receipt handle is invalid");
    case ErrorCode::kNoMessage:
      return Make(7000, 10200, "no message");
    case ErrorCode::kRewindDisabled:
      return Make(6050, 10670, "your queue cannot be rewinded");
    case ErrorCode::kDelayOutOfRange:
      return DelayOutOfRange();
    case ErrorCode::kTopicNotExist:
      return Make(4440, 10600, "topic is not existed, or deleted");
    case ErrorCode::kTopicExists:
      return Make(4460, 10550, "topic is already existed");
    case ErrorCode::kTopicLimitReached:
      return Make(4450, 10610, "number of topics has reached the limit");
    case ErrorCode::kTopicHasSubscriptions:
      return Make(4000, 10540,
                  "there exists subscriptions under this topic, please unsubscribe all of them "
                  "before DeleteTopic");
    case ErrorCode::kSubscriptionNotExist:
      return Make(4440, 10620, "subscription is not existed");
    case ErrorCode::kSubscriptionExists:
      return Make(4490, 10470, "subscribtion is already existed");  // sic, as observed
    case ErrorCode::kSubscriptionLimitReached:
      return Make(4500, 10480, "number of subscription has reached the limit");
    case ErrorCode::kTopicNoSubscription:
      return Make(6030, 10650,
                  "topic has no subscription, please create a subscription before publishing "
                  "message");
    case ErrorCode::kNoMatchingSubscription:
      return Make(6030, 10730, "no bindingKey or filterTag matches the routingKey or msgTag");
    case ErrorCode::kInvalidArgument: {
      std::string text = "parameter value or length is out of range";
      if (!status.message().empty()) text.append(": ").append(status.message());
      return Make(4000, 10350, std::move(text));
    }
    case ErrorCode::kUnavailable: {
      ApiError error = Internal(status);
      error.unavailable = true;
      return error;
    }
    case ErrorCode::kOk:  // a success is never an error; treat the call as a bug
    case ErrorCode::kInternal:
    case ErrorCode::kIoError:
    case ErrorCode::kCorruption:
    case ErrorCode::kNoSpace:
    case ErrorCode::kLogFailed:
      return Internal(status);
  }
  return Internal(status);
}

ApiError InvalidParameters(std::string_view detail) {
  return Make(4000, 10000, WithName("invalid request parameters: ", detail, ""));
}
ApiError NotRepeatable(std::string_view name) {
  return Make(4000, 10330, WithName("parameter ", name, " is NOT a repeatable parameter"));
}
ApiError OutOfRange(std::string_view name) {
  return Make(4000, 10350, WithName("parameter ", name, " value or length is out of range"));
}
ApiError WrongType(std::string_view name) {
  return Make(4000, 10360, WithName("parameter ", name, " error type"));
}
ApiError BatchSizeOutOfRange(std::string_view name) {
  return Make(4000, 10370, WithName("", name, " parameter batch size is out of range"));
}
ApiError NotConsecutive(std::string_view name) {
  return Make(4000, 10380, WithName("", name, " parameter is not consequent"));
}
ApiError MissingParameter(std::string_view name) {
  return Make(4000, 10390, WithName("lacked of required parameter ", name, ""));
}
ApiError MethodNotAllowed(std::string_view method) {
  return Make(4000, 10410, WithName("unexpected http ", method, " only GET or POST is supported"));
}
ApiError RequestTooLarge() {
  return Make(4000, 10420, "cannot parse request, or request size is more than 1MB");
}
ApiError MissingAction() {
  return Make(4000, 10280, "action is not existed");
}
ApiError UnknownAction(std::string_view action) {
  return Make(4000, 10430, WithName("action name ", action, " is not existed"));
}
ApiError AuthenticationFailed(std::string_view detail) {
  return Make(4100, 10030, WithName("authentication failed", detail.empty() ? "" : ": ", detail));
}
ApiError UnknownSecretId() {
  return Make(4100, 10270, "secret id is not existed");
}
ApiError QueueNameFormat() {
  return Make(4000, 10020, "queue name format error");
}
ApiError EmptyMessageBody() {
  return Make(4000, 10120, "message body can't be empty");
}
ApiError DelayOutOfRange() {
  return Make(4000, 10692, "delay seconds is out of range");
}
ApiError MessageTooLarge() {
  return Make(4400, 10230, "exceed maximum message size");
}
ApiError BatchTooLarge() {
  return Make(4470, 10300, "total message size exceed 1MB");
}
ApiError ReceiptHandleMalformed() {
  return Make(4000, 10470, "receiptHandle error");
}
ApiError DeletePartiallyFailed() {
  return Make(6010, 10150, "delete message partially failed");
}
ApiError TransactionNotAllowed(std::string_view detail) {
  return Make(4490, 10780, WithName("operation not allowed: ", detail, ""));
}

ApiError TopicNameFormat() {
  return Make(4000, 10590, "topic name format error");
}
ApiError SubscriptionNameFormat() {
  return Make(4000, 10590, "subscription name format error");
}
ApiError TooManyFilterTags() {
  return Make(4000, 10490, "number of filterTag exceed limit");
}
ApiError EndpointFormat() {
  return Make(4000, 10500, "endpoint format error");
}
ApiError UndefinedProtocol() {
  return Make(4000, 10510, "undefined protocol");
}
ApiError UndefinedNotifyStrategy() {
  return Make(4000, 10520, "undefined notify retry stragety");  // sic, as documented
}
ApiError UndefinedNotifyContentFormat() {
  return Make(4000, 10530, "undefined notify content format");
}
ApiError TooManyBindingKeys() {
  return Make(4000, 10680, "too many bindingKey");
}
ApiError TooManyDelimiters() {
  return Make(4000, 10691, "too many delimeters");  // sic, as documented
}
ApiError MissingRoutingKey() {
  return Make(4000, 10700, "parameters lack of routingKey");
}
ApiError TooManyMsgTags() {
  return Make(4000, 10720, "too many msgTag");
}
ApiError EndpointHasBlanks() {
  return Make(4510, 10570, "url cannot contain any blank characters");
}

}  // namespace cmq::api
