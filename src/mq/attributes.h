#pragma once
// Internal to mq/: queue names and attribute ranges (limits.h, spec §8 and §9).

#include <string>
#include <string_view>

#include "common/result.h"
#include "mq/command.h"
#include "mq/state_machine.h"

namespace cmq::mq {

// ok, or kInvalidArgument naming queueName: 1..64 characters, a letter first, then ASCII
// letters, digits, '-' or '_'.
Status ValidateQueueName(std::string_view name);
// The same rule for the other names (topicName, subscriptionName): kInvalidArgument naming
// parameter.
Status ValidateName(std::string_view name, std::string_view parameter);
// The key names are unique under: ASCII lower case.
std::string NameKey(std::string_view name);

QueueAttributes DefaultQueueAttributes();
// base with the present fields of update applied; kInvalidArgument naming the first
// attribute out of its range, or rewindSeconds when it exceeds msgRetentionSeconds.
Result<QueueAttributes> ApplyAttributeUpdate(const QueueAttributes& base,
                                             const QueueAttributeUpdate& update);

}  // namespace cmq::mq
