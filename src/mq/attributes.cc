#include "mq/attributes.h"

#include <optional>

#include "mq/limits.h"

namespace cmq::mq {
namespace {

bool IsLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

struct AttributeRule {
  const char* name;  // as in the HTTP API
  std::optional<int64_t> QueueAttributeUpdate::*update;
  int64_t QueueAttributes::*value;
  int64_t min;
  int64_t max;
  int64_t default_value;
};

constexpr AttributeRule kRules[] = {
    {"maxMsgHeapNum", &QueueAttributeUpdate::max_msg_heap_num, &QueueAttributes::max_msg_heap_num,
     kMaxMsgHeapNumMin, kMaxMsgHeapNumMax, kMaxMsgHeapNumDefault},
    {"pollingWaitSeconds", &QueueAttributeUpdate::polling_wait_seconds,
     &QueueAttributes::polling_wait_seconds, kPollingWaitSecondsMin, kPollingWaitSecondsMax,
     kPollingWaitSecondsDefault},
    {"visibilityTimeout", &QueueAttributeUpdate::visibility_timeout,
     &QueueAttributes::visibility_timeout, kVisibilityTimeoutMin, kVisibilityTimeoutMax,
     kVisibilityTimeoutDefault},
    {"maxMsgSize", &QueueAttributeUpdate::max_msg_size, &QueueAttributes::max_msg_size,
     kMaxMsgSizeMin, kMaxMsgSizeMax, kMaxMsgSizeDefault},
    {"msgRetentionSeconds", &QueueAttributeUpdate::msg_retention_seconds,
     &QueueAttributes::msg_retention_seconds, kMsgRetentionSecondsMin, kMsgRetentionSecondsMax,
     kMsgRetentionSecondsDefault},
    {"rewindSeconds", &QueueAttributeUpdate::rewind_seconds, &QueueAttributes::rewind_seconds,
     kRewindSecondsMin, kRewindSecondsMax, kRewindSecondsDefault},
};

}  // namespace

Status ValidateQueueName(std::string_view name) {
  return ValidateName(name, "queueName");
}

Status ValidateName(std::string_view name, std::string_view parameter) {
  bool ok = !name.empty() && name.size() <= kMaxNameLength && IsLetter(name[0]);
  for (size_t i = 1; ok && i < name.size(); ++i) {
    char c = name[i];
    ok = IsLetter(c) || IsDigit(c) || c == '-' || c == '_';
  }
  if (ok) return Status::Ok();
  return Status(
      ErrorCode::kInvalidArgument,
      std::string(parameter) + ": 1-64 characters, a letter first, then letters, digits, '-', '_'");
}

std::string NameKey(std::string_view name) {
  std::string key(name);
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return key;
}

QueueAttributes DefaultQueueAttributes() {
  QueueAttributes attributes;
  for (const AttributeRule& rule : kRules) attributes.*rule.value = rule.default_value;
  return attributes;
}

Result<QueueAttributes> ApplyAttributeUpdate(const QueueAttributes& base,
                                             const QueueAttributeUpdate& update) {
  QueueAttributes out = base;
  for (const AttributeRule& rule : kRules) {
    const std::optional<int64_t>& v = update.*rule.update;
    if (!v.has_value()) continue;
    if (*v < rule.min || *v > rule.max) {
      return Status(ErrorCode::kInvalidArgument, std::string(rule.name) + " out of range [" +
                                                     std::to_string(rule.min) + ", " +
                                                     std::to_string(rule.max) + "]");
    }
    out.*rule.value = *v;
  }
  if (out.rewind_seconds > out.msg_retention_seconds) {
    return Status(ErrorCode::kInvalidArgument, "rewindSeconds exceeds msgRetentionSeconds");
  }
  return out;
}

}  // namespace cmq::mq
