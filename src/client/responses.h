#pragma once
// Typed views of CMQ API 2.0 queue responses (spec §5, §8, §12) and their parsing from the
// JSON envelope. Ids (msgId, receiptHandle) are decimal strings on the wire; OpenCMQ mints
// them as unsigned 64-bit numbers, so they are parsed into uint64_t (a JSON number is
// accepted too).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/error.h"
#include "common/url.h"

namespace cmq::client {

// Settable queue attributes (CreateQueue, SetQueueAttributes): only the present ones are sent.
struct QueueAttributes {
  std::optional<int64_t> max_msg_heap_num;
  std::optional<int64_t> polling_wait_seconds;
  std::optional<int64_t> visibility_timeout;
  std::optional<int64_t> max_msg_size;
  std::optional<int64_t> msg_retention_seconds;
  std::optional<int64_t> rewind_seconds;

  // Appends maxMsgHeapNum=..., pollingWaitSeconds=..., etc.
  void AppendTo(FormParams* params) const;
};

// GetQueueAttributes.
struct QueueMeta {
  std::string queue_name;  // empty if the server does not return it
  int64_t max_msg_heap_num = 0;
  int64_t polling_wait_seconds = 0;
  int64_t visibility_timeout = 0;
  int64_t max_msg_size = 0;
  int64_t msg_retention_seconds = 0;
  int64_t create_time = 0;
  int64_t last_modify_time = 0;
  int64_t active_msg_num = 0;
  int64_t inactive_msg_num = 0;
  int64_t rewind_seconds = 0;
  int64_t rewind_msg_num = 0;
  int64_t min_msg_time = 0;
  int64_t delay_msg_num = 0;
};

struct QueueListEntry {
  std::string queue_id;
  std::string queue_name;
};

struct QueueList {
  int64_t total_count = 0;  // queues matching the search word, not the page size
  std::vector<QueueListEntry> queues;
};

struct Message {
  uint64_t msg_id = 0;
  uint64_t receipt_handle = 0;
  std::string body;
  int64_t enqueue_time = 0;  // Unix seconds
  int64_t next_visible_time = 0;
  int64_t first_dequeue_time = 0;
  int64_t dequeue_count = 0;
};

// One failed handle of a BatchDeleteMessage (code 6010 "partially failed").
struct DeleteError {
  uint64_t receipt_handle = 0;
  int code = 0;
  std::string message;
};

// Parses a response body: the JSON object with at least `code`. Any code is returned as is.
Result<nlohmann::json> ParseEnvelope(std::string_view body);
// The Error of an envelope whose code != 0, nullopt when code == 0.
std::optional<Error> ServerError(const nlohmann::json& envelope);
// ParseEnvelope + ServerError: the JSON only when code == 0.
Result<nlohmann::json> ParseSuccess(std::string_view body);

// Field parsers over a successful envelope (each fails with a protocol error on a missing
// or mistyped field).
Result<uint64_t> ParseId(const nlohmann::json& j, const char* field);
Result<std::string> ParseString(const nlohmann::json& j, const char* field);
Result<int64_t> ParseInt(const nlohmann::json& j, const char* field);
Result<QueueMeta> ParseQueueMeta(const nlohmann::json& j);
Result<QueueList> ParseQueueList(const nlohmann::json& j);
Result<Message> ParseMessage(const nlohmann::json& j);
Result<std::vector<Message>> ParseMessageList(const nlohmann::json& j);       // msgInfoList
Result<std::vector<uint64_t>> ParseMsgIdList(const nlohmann::json& j);        // msgList
Result<std::vector<DeleteError>> ParseDeleteErrors(const nlohmann::json& j);  // errorList

// Decimal digits only, no sign, fits in 64 bits.
std::optional<uint64_t> ParseUint64(std::string_view s);

}  // namespace cmq::client
