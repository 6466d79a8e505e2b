#pragma once
// Internal to mq/: the topic section of a snapshot (version 2; docs/snapshot-format.md).

#include <map>
#include <memory>
#include <string>

#include "common/encoding.h"
#include "common/status.h"
#include "mq/queue.h"
#include "mq/topic.h"

namespace cmq::mq {

using TopicMap = std::map<std::string, std::unique_ptr<Topic>>;  // by NameKey

void AppendTopicsSnapshot(const TopicMap& topics, uint64_t topics_created,
                          uint64_t subscriptions_created, std::string& out);
// Reads the section into topics and the two counters; kCorruption if it is malformed or
// breaks the bounds or an invariant (a pending push of no held message, a held message
// nobody waits for...). Placement is checked apart, by CheckTopicPlacement.
Status ReadTopicsSnapshot(Reader& in, const Queue::RestoreBounds& bounds, TopicMap& topics,
                          uint64_t& topics_created, uint64_t& subscriptions_created);
// kCorruption if a topic is not placed on group group_id of group_count, or a queue
// subscription has pending pushes although its queue is placed there (such copies are
// enqueued at publish, never pushed).
Status CheckTopicPlacement(const TopicMap& topics, uint32_t group_id, uint32_t group_count);

}  // namespace cmq::mq
