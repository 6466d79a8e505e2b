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
// nobody waits for, a queue subscription with pushes...).
Status ReadTopicsSnapshot(Reader& in, const Queue::RestoreBounds& bounds, TopicMap& topics,
                          uint64_t& topics_created, uint64_t& subscriptions_created);

}  // namespace cmq::mq
