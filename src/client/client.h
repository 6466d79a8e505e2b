#pragma once
// The synchronous CMQ client: one method per queue action (spec §8) and per topic and
// subscription action (spec §11), one keep-alive HTTP
// connection (reopened once if the server closed it while idle). Errors are values: a
// Result holds the value or an Error (server code/message/requestId, or transport).
// Not thread-safe: use one Client per thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/error.h"
#include "client/options.h"
#include "client/responses.h"
#include "client/topic_responses.h"
#include "common/url.h"

namespace cmq::client {

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Returns the queueId.
  Result<std::string> CreateQueue(std::string_view name, const QueueAttributes& attrs = {});
  // offset/limit < 0: not sent (server defaults 0 and 20).
  Result<QueueList> ListQueue(std::string_view search_word = {}, int offset = -1, int limit = -1);
  Result<QueueMeta> GetQueueAttributes(std::string_view name);
  Result<void> SetQueueAttributes(std::string_view name, const QueueAttributes& attrs);
  Result<void> DeleteQueue(std::string_view name);
  Result<void> RewindQueue(std::string_view name, int64_t start_consume_time_s);

  // Returns the msgId.
  Result<uint64_t> SendMessage(std::string_view name, std::string_view body, int delay_seconds = 0);
  // Returns the msgIds in request order (1-16 bodies).
  Result<std::vector<uint64_t>> BatchSendMessage(std::string_view name,
                                                 std::span<const std::string> bodies,
                                                 int delay_seconds = 0);
  // polling_wait_seconds: nullopt = the queue's pollingWaitSeconds. No message: an Error
  // with is_no_message() (code 7000).
  Result<Message> ReceiveMessage(std::string_view name,
                                 std::optional<int> polling_wait_seconds = std::nullopt);
  Result<std::vector<Message>> BatchReceiveMessage(
      std::string_view name, int num_of_msg,
      std::optional<int> polling_wait_seconds = std::nullopt);
  Result<void> DeleteMessage(std::string_view name, uint64_t receipt_handle);
  // All deleted: an empty vector. Code 6010 (partial failure): the failed handles, as a
  // value. Any other server error: an Error.
  Result<std::vector<DeleteError>> BatchDeleteMessage(std::string_view name,
                                                      std::span<const uint64_t> receipt_handles);

  // Topics (spec §11). Returns the topicId.
  Result<std::string> CreateTopic(std::string_view name, const TopicAttributes& attrs = {});
  // offset/limit < 0: not sent (server defaults 0 and 20).
  Result<TopicList> ListTopic(std::string_view search_word = {}, int offset = -1, int limit = -1);
  Result<TopicMeta> GetTopicAttributes(std::string_view name);
  Result<void> SetTopicAttributes(std::string_view name, const TopicAttributes& attrs);
  Result<void> DeleteTopic(std::string_view name);

  // Returns the msgId. tags: msgTag.1..n (at most 5). routing_key: nullopt = not sent,
  // which a filterType 2 topic refuses (an empty key is a key of zero words).
  Result<uint64_t> PublishMessage(std::string_view topic, std::string_view body,
                                  std::span<const std::string> tags = {},
                                  std::optional<std::string_view> routing_key = std::nullopt);
  // One tag list and one routing key for the whole batch (1-16 bodies); the msgIds in
  // request order.
  Result<std::vector<uint64_t>> BatchPublishMessage(
      std::string_view topic, std::span<const std::string> bodies,
      std::span<const std::string> tags = {},
      std::optional<std::string_view> routing_key = std::nullopt);

  // protocol "queue" (endpoint = a queue name) or "http" (endpoint = an http:// URL).
  // Returns the subscriptionId.
  Result<std::string> Subscribe(std::string_view topic, std::string_view name,
                                std::string_view protocol, std::string_view endpoint,
                                const SubscriptionOptions& options = {});
  Result<SubscriptionList> ListSubscriptionByTopic(std::string_view topic,
                                                   std::string_view search_word = {},
                                                   int offset = -1, int limit = -1);
  Result<SubscriptionMeta> GetSubscriptionAttributes(std::string_view topic, std::string_view name);
  Result<void> SetSubscriptionAttributes(std::string_view topic, std::string_view name,
                                         const SubscriptionOptions& options);
  Result<void> Unsubscribe(std::string_view topic, std::string_view name);
  Result<void> ClearSubscriptionFilterTags(std::string_view topic, std::string_view name);

  // Any action: the envelope when code == 0, else an Error. timeout 0 = request_timeout.
  Result<nlohmann::json> Call(std::string_view action, const FormParams& params,
                              std::chrono::milliseconds timeout = {});
  // The envelope whatever its code (transport/protocol errors only).
  Result<nlohmann::json> CallEnvelope(std::string_view action, const FormParams& params,
                                      std::chrono::milliseconds timeout = {});

  // The body of the last HTTP response received (for printing raw JSON).
  const std::string& last_response() const { return last_response_; }
  // TCP connections opened so far.
  size_t connections_opened() const;
  const ClientOptions& options() const { return options_; }

 private:
  std::chrono::milliseconds ReceiveTimeout(std::optional<int> wait) const;
  // Sends one request; on success the body is in last_response_.
  Result<void> RoundTrip(std::string_view action, const FormParams& params,
                         std::chrono::milliseconds timeout);

  struct Io;
  ClientOptions options_;
  std::unique_ptr<Io> io_;
  std::string last_response_;
  std::string body_;
};

}  // namespace cmq::client
