#pragma once
// Every bound of the queue model in one place, each with why (spec: ../shared/spec/
// cmq-http-api.md §8, §9, §10). api/ validates requests against these before a command is
// built; the state machine checks them again, because a command in the log must never be
// able to break an invariant.

#include <cstdint>

namespace cmq::mq {

// Queue attributes: ranges and defaults of CMQ API 2.0 (§9).
inline constexpr int64_t kMaxMsgHeapNumMin = 1'000'000;
inline constexpr int64_t kMaxMsgHeapNumMax = 1'000'000'000;
inline constexpr int64_t kMaxMsgHeapNumDefault = 100'000'000;
inline constexpr int64_t kPollingWaitSecondsMin = 0;
inline constexpr int64_t kPollingWaitSecondsMax = 30;
inline constexpr int64_t kPollingWaitSecondsDefault = 0;
inline constexpr int64_t kVisibilityTimeoutMin = 1;
inline constexpr int64_t kVisibilityTimeoutMax = 43'200;
inline constexpr int64_t kVisibilityTimeoutDefault = 30;
inline constexpr int64_t kMaxMsgSizeMin = 1024;
inline constexpr int64_t kMaxMsgSizeMax = 1'048'576;
inline constexpr int64_t kMaxMsgSizeDefault = 65'536;
inline constexpr int64_t kMsgRetentionSecondsMin = 60;
inline constexpr int64_t kMsgRetentionSecondsMax = 1'296'000;
inline constexpr int64_t kMsgRetentionSecondsDefault = 345'600;
inline constexpr int64_t kRewindSecondsMin = 0;
inline constexpr int64_t kRewindSecondsMax = 43'200;  // and <= msgRetentionSeconds
inline constexpr int64_t kRewindSecondsDefault = 0;

// Per message (§10.4): legacy CMQ allowed delays of 0..3600 s.
inline constexpr int64_t kDelaySecondsMax = 3600;

// Batches (§8): at most 16 messages per batch send/receive/delete, 1 MiB of decoded bodies.
inline constexpr uint32_t kMaxBatch = 16;
inline constexpr uint64_t kMaxBatchBytes = 1'048'576;

// Names (§8): first a letter, then letters, digits, '-' or '_', at most 64 characters.
inline constexpr uint32_t kMaxNameLength = 64;

// Queues per cluster (CMQ: 1000 per account; we have one account namespace per cluster).
inline constexpr uint32_t kMaxQueues = 1000;

// In-flight + delayed messages per queue. Legacy CMQ refused past 20,000 (6070/10690); we
// allow more, but keep a bound because GetQueueAttributes counts due timers by a scan.
inline constexpr uint64_t kMaxInflightAndDelayedPerQueue = 100'000;

// Topics (§10.5, §10.6, §11). CMQ quotas: 1000 topics, 100 subscriptions per topic.
inline constexpr uint32_t kMaxTopics = 1000;
inline constexpr uint32_t kMaxSubscriptionsPerTopic = 100;
inline constexpr int64_t kTopicMaxMsgSizeMin = 1024;
inline constexpr int64_t kTopicMaxMsgSizeMax = 1'048'576;
inline constexpr int64_t kTopicMaxMsgSizeDefault = 65'536;
// Legacy CMQ fixes a topic's retention at one day: a pending HTTP push is dropped then.
inline constexpr int64_t kTopicMsgRetentionSeconds = 86'400;
// Tags (filterTag on a subscription, msgTag on a publish): at most 5, each 1-16 bytes.
inline constexpr uint32_t kMaxTags = 5;
inline constexpr uint32_t kMaxTagLength = 16;
// Binding keys (at most 5 per subscription) and routing keys: at most 64 bytes and 15 dots
// (16 words), so that matching one key against another is a 17 x 17 table.
inline constexpr uint32_t kMaxBindingKeys = 5;
inline constexpr uint32_t kMaxRoutingKeyLength = 64;
inline constexpr uint32_t kMaxRoutingKeyDots = 15;
// HTTP endpoints: a URL of at most 500 characters (§10.6).
inline constexpr uint32_t kMaxEndpointLength = 500;

// Transaction (half) messages of the TCP protocol (spec/cmq-tcp-protocol.md §6.9, §6.10).
// A half message is checked back with its producer first after its check interval (the
// send's first_query_interval; 1 s to 12 h), then after gaps that double up to a minute
// (never shorter than the first), at most kTransactionMaxChecks times; unresolved one gap
// after the last check, it is rolled back. 15 checks, like RocketMQ's default, give a
// producer that restarts about 12 minutes to answer (with a 5 s first interval).
inline constexpr int64_t kTransactionCheckMsMin = 1'000;
inline constexpr int64_t kTransactionCheckMsMax = 43'200'000;
inline constexpr int64_t kTransactionCheckMsDefault = 5'000;  // the SDK's default
inline constexpr int64_t kTransactionCheckGapCapMs = 60'000;
inline constexpr uint32_t kTransactionMaxChecks = 15;
// The producer's client id (from its TCP authentication), kept per half message.
inline constexpr uint32_t kMaxProducerIdLength = 256;

// Ids: a message id is (group id << 48) | per-group sequence; a receipt handle is
// (sequence << 16) | (dequeue count mod 2^16), so it names one receive of one message.
// 48 bits of sequence last 89 years at 100,000 messages/s per group; 16 bits of group id
// allow 65,536 groups. A handle could only be confused with one 65,536 receives older of
// the same message, and a handle is valid only while that receive's visibility lasts.
inline constexpr int kMessageSeqBits = 48;
inline constexpr int kReceiptCountBits = 16;
static_assert(kMessageSeqBits + kReceiptCountBits == 64);

}  // namespace cmq::mq
