#include "client/client.h"

#include <boost/asio/io_context.hpp>

#include "client/async_connection.h"

namespace cmq::client {

using nlohmann::json;

struct Client::Io {
  boost::asio::io_context ioc;
  std::unique_ptr<AsyncConnection> conn;
  std::optional<Error> endpoint_error;
};

Client::Client(ClientOptions options) : options_(std::move(options)), io_(std::make_unique<Io>()) {
  auto conn = AsyncConnection::Create(io_->ioc, options_);
  if (conn.ok()) {
    io_->conn = std::move(*conn);
  } else {
    io_->endpoint_error = conn.error();
  }
}

Client::~Client() {
  io_->conn.reset();
  io_->ioc.restart();
  io_->ioc.poll();  // let aborted operations finish before the io_context goes
}

size_t Client::connections_opened() const {
  return io_->conn ? io_->conn->connections_opened() : 0;
}

Result<void> Client::RoundTrip(std::string_view action, const FormParams& params,
                               std::chrono::milliseconds timeout) {
  if (io_->endpoint_error) return *io_->endpoint_error;
  io_->conn->builder().Build(action, params, &body_);
  std::optional<Result<void>> out;
  io_->conn->PostRaw(body_, timeout, [this, &out](Result<std::string_view> r) {
    if (r.ok()) {
      last_response_.assign(r->data(), r->size());
      out.emplace();
    } else {
      out.emplace(r.error());
    }
  });
  io_->ioc.restart();
  io_->ioc.run();
  CMQ_ASSERT(out.has_value(), "request finished without an answer");
  return std::move(*out);
}

Result<json> Client::CallEnvelope(std::string_view action, const FormParams& params,
                                  std::chrono::milliseconds timeout) {
  auto r = RoundTrip(action, params, timeout);
  if (!r.ok()) return r.error();
  return ParseEnvelope(last_response_);
}

Result<json> Client::Call(std::string_view action, const FormParams& params,
                          std::chrono::milliseconds timeout) {
  auto r = RoundTrip(action, params, timeout);
  if (!r.ok()) return r.error();
  return ParseSuccess(last_response_);
}

std::chrono::milliseconds Client::ReceiveTimeout(std::optional<int> wait) const {
  // The queue's default wait is at most 30 s (spec §9).
  return options_.request_timeout + std::chrono::seconds(wait && *wait >= 0 ? *wait : 30);
}

namespace {
FormParams QueueParams(std::string_view name) {
  return {{"queueName", std::string(name)}};
}

FormParams TopicParams(std::string_view name) {
  return {{"topicName", std::string(name)}};
}

FormParams SubscriptionParams(std::string_view topic, std::string_view name) {
  return {{"topicName", std::string(topic)}, {"subscriptionName", std::string(name)}};
}

void AppendListing(FormParams* params, std::string_view search_word, int offset, int limit) {
  if (!search_word.empty()) params->emplace_back("searchWord", std::string(search_word));
  if (offset >= 0) params->emplace_back("offset", std::to_string(offset));
  if (limit > 0) params->emplace_back("limit", std::to_string(limit));
}

void AppendPublishOptions(FormParams* params, std::span<const std::string> tags,
                          std::optional<std::string_view> routing_key) {
  for (size_t i = 0; i < tags.size(); ++i) {
    params->emplace_back("msgTag." + std::to_string(i + 1), tags[i]);
  }
  if (routing_key) params->emplace_back("routingKey", std::string(*routing_key));
}

Result<void> Done(const Result<json>& r) {
  if (!r.ok()) return r.error();
  return {};
}
}  // namespace

Result<std::string> Client::CreateQueue(std::string_view name, const QueueAttributes& attrs) {
  FormParams params = QueueParams(name);
  attrs.AppendTo(&params);
  auto r = Call("CreateQueue", params);
  if (!r.ok()) return r.error();
  return ParseString(*r, "queueId");
}

Result<QueueList> Client::ListQueue(std::string_view search_word, int offset, int limit) {
  FormParams params;
  AppendListing(&params, search_word, offset, limit);
  auto r = Call("ListQueue", params);
  if (!r.ok()) return r.error();
  return ParseQueueList(*r);
}

Result<QueueMeta> Client::GetQueueAttributes(std::string_view name) {
  auto r = Call("GetQueueAttributes", QueueParams(name));
  if (!r.ok()) return r.error();
  return ParseQueueMeta(*r);
}

Result<void> Client::SetQueueAttributes(std::string_view name, const QueueAttributes& attrs) {
  FormParams params = QueueParams(name);
  attrs.AppendTo(&params);
  return Done(Call("SetQueueAttributes", params));
}

Result<void> Client::DeleteQueue(std::string_view name) {
  return Done(Call("DeleteQueue", QueueParams(name)));
}

Result<void> Client::RewindQueue(std::string_view name, int64_t start_consume_time_s) {
  FormParams params = QueueParams(name);
  params.emplace_back("startConsumeTime", std::to_string(start_consume_time_s));
  return Done(Call("RewindQueue", params));
}

Result<uint64_t> Client::SendMessage(std::string_view name, std::string_view body,
                                     int delay_seconds) {
  FormParams params = QueueParams(name);
  params.emplace_back("msgBody", std::string(body));
  params.emplace_back("delaySeconds", std::to_string(delay_seconds));
  auto r = Call("SendMessage", params);
  if (!r.ok()) return r.error();
  return ParseId(*r, "msgId");
}

Result<std::vector<uint64_t>> Client::BatchSendMessage(std::string_view name,
                                                       std::span<const std::string> bodies,
                                                       int delay_seconds) {
  FormParams params = QueueParams(name);
  for (size_t i = 0; i < bodies.size(); ++i) {
    params.emplace_back("msgBody." + std::to_string(i + 1), bodies[i]);
  }
  params.emplace_back("delaySeconds", std::to_string(delay_seconds));
  auto r = Call("BatchSendMessage", params);
  if (!r.ok()) return r.error();
  return ParseMsgIdList(*r);
}

Result<Message> Client::ReceiveMessage(std::string_view name,
                                       std::optional<int> polling_wait_seconds) {
  FormParams params = QueueParams(name);
  if (polling_wait_seconds) {
    params.emplace_back("pollingWaitSeconds", std::to_string(*polling_wait_seconds));
  }
  auto r = Call("ReceiveMessage", params, ReceiveTimeout(polling_wait_seconds));
  if (!r.ok()) return r.error();
  return ParseMessage(*r);
}

Result<std::vector<Message>> Client::BatchReceiveMessage(std::string_view name, int num_of_msg,
                                                         std::optional<int> polling_wait_seconds) {
  FormParams params = QueueParams(name);
  params.emplace_back("numOfMsg", std::to_string(num_of_msg));
  if (polling_wait_seconds) {
    params.emplace_back("pollingWaitSeconds", std::to_string(*polling_wait_seconds));
  }
  auto r = Call("BatchReceiveMessage", params, ReceiveTimeout(polling_wait_seconds));
  if (!r.ok()) return r.error();
  return ParseMessageList(*r);
}

Result<void> Client::DeleteMessage(std::string_view name, uint64_t receipt_handle) {
  FormParams params = QueueParams(name);
  params.emplace_back("receiptHandle", std::to_string(receipt_handle));
  return Done(Call("DeleteMessage", params));
}

Result<std::vector<DeleteError>> Client::BatchDeleteMessage(
    std::string_view name, std::span<const uint64_t> receipt_handles) {
  FormParams params = QueueParams(name);
  for (size_t i = 0; i < receipt_handles.size(); ++i) {
    params.emplace_back("receiptHandle." + std::to_string(i + 1),
                        std::to_string(receipt_handles[i]));
  }
  auto r = CallEnvelope("BatchDeleteMessage", params);
  if (!r.ok()) return r.error();
  auto err = ServerError(*r);
  if (!err) return std::vector<DeleteError>{};
  if (err->code == kCodeBatchDeletePartial && r->contains("errorList")) {
    return ParseDeleteErrors(*r);
  }
  return std::move(*err);
}

Result<std::string> Client::CreateTopic(std::string_view name, const TopicAttributes& attrs) {
  FormParams params = TopicParams(name);
  attrs.AppendTo(&params);
  auto r = Call("CreateTopic", params);
  if (!r.ok()) return r.error();
  return ParseString(*r, "topicId");
}

Result<TopicList> Client::ListTopic(std::string_view search_word, int offset, int limit) {
  FormParams params;
  AppendListing(&params, search_word, offset, limit);
  auto r = Call("ListTopic", params);
  if (!r.ok()) return r.error();
  return ParseTopicList(*r);
}

Result<TopicMeta> Client::GetTopicAttributes(std::string_view name) {
  auto r = Call("GetTopicAttributes", TopicParams(name));
  if (!r.ok()) return r.error();
  return ParseTopicMeta(*r);
}

Result<void> Client::SetTopicAttributes(std::string_view name, const TopicAttributes& attrs) {
  FormParams params = TopicParams(name);
  attrs.AppendTo(&params);
  return Done(Call("SetTopicAttributes", params));
}

Result<void> Client::DeleteTopic(std::string_view name) {
  return Done(Call("DeleteTopic", TopicParams(name)));
}

Result<uint64_t> Client::PublishMessage(std::string_view topic, std::string_view body,
                                        std::span<const std::string> tags,
                                        std::optional<std::string_view> routing_key) {
  FormParams params = TopicParams(topic);
  params.emplace_back("msgBody", std::string(body));
  AppendPublishOptions(&params, tags, routing_key);
  auto r = Call("PublishMessage", params);
  if (!r.ok()) return r.error();
  return ParseId(*r, "msgId");
}

Result<std::vector<uint64_t>> Client::BatchPublishMessage(
    std::string_view topic, std::span<const std::string> bodies, std::span<const std::string> tags,
    std::optional<std::string_view> routing_key) {
  FormParams params = TopicParams(topic);
  for (size_t i = 0; i < bodies.size(); ++i) {
    params.emplace_back("msgBody." + std::to_string(i + 1), bodies[i]);
  }
  AppendPublishOptions(&params, tags, routing_key);
  auto r = Call("BatchPublishMessage", params);
  if (!r.ok()) return r.error();
  return ParseMsgIdList(*r);
}

Result<std::string> Client::Subscribe(std::string_view topic, std::string_view name,
                                      std::string_view protocol, std::string_view endpoint,
                                      const SubscriptionOptions& options) {
  FormParams params = SubscriptionParams(topic, name);
  params.emplace_back("protocol", std::string(protocol));
  params.emplace_back("endpoint", std::string(endpoint));
  options.AppendTo(&params);
  auto r = Call("Subscribe", params);
  if (!r.ok()) return r.error();
  return ParseString(*r, "subscriptionId");
}

Result<SubscriptionList> Client::ListSubscriptionByTopic(std::string_view topic,
                                                         std::string_view search_word, int offset,
                                                         int limit) {
  FormParams params = TopicParams(topic);
  AppendListing(&params, search_word, offset, limit);
  auto r = Call("ListSubscriptionByTopic", params);
  if (!r.ok()) return r.error();
  return ParseSubscriptionList(*r);
}

Result<SubscriptionMeta> Client::GetSubscriptionAttributes(std::string_view topic,
                                                           std::string_view name) {
  auto r = Call("GetSubscriptionAttributes", SubscriptionParams(topic, name));
  if (!r.ok()) return r.error();
  return ParseSubscriptionMeta(*r);
}

Result<void> Client::SetSubscriptionAttributes(std::string_view topic, std::string_view name,
                                               const SubscriptionOptions& options) {
  FormParams params = SubscriptionParams(topic, name);
  options.AppendTo(&params);
  return Done(Call("SetSubscriptionAttributes", params));
}

Result<void> Client::Unsubscribe(std::string_view topic, std::string_view name) {
  return Done(Call("Unsubscribe", SubscriptionParams(topic, name)));
}

Result<void> Client::ClearSubscriptionFilterTags(std::string_view topic, std::string_view name) {
  return Done(Call("ClearSubscriptionFilterTags", SubscriptionParams(topic, name)));
}

}  // namespace cmq::client
