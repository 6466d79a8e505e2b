#include "client/responses.h"

#include <charconv>

namespace cmq::client {

using nlohmann::json;

void QueueAttributes::AppendTo(FormParams* params) const {
  auto add = [params](const char* name, const std::optional<int64_t>& v) {
    if (v) params->emplace_back(name, std::to_string(*v));
  };
  add("maxMsgHeapNum", max_msg_heap_num);
  add("pollingWaitSeconds", polling_wait_seconds);
  add("visibilityTimeout", visibility_timeout);
  add("maxMsgSize", max_msg_size);
  add("msgRetentionSeconds", msg_retention_seconds);
  add("rewindSeconds", rewind_seconds);
}

std::optional<uint64_t> ParseUint64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

Result<json> ParseEnvelope(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Error::Protocol("response is not a JSON object: " + std::string(body.substr(0, 200)));
  }
  auto it = j.find("code");
  if (it == j.end() || !it->is_number_integer()) {
    return Error::Protocol("response has no integer code: " + std::string(body.substr(0, 200)));
  }
  return j;
}

std::optional<Error> ServerError(const json& envelope) {
  int code = envelope.at("code").get<int>();
  if (code == 0) return std::nullopt;
  std::string message, request_id;
  if (auto it = envelope.find("message"); it != envelope.end() && it->is_string()) {
    message = it->get<std::string>();
  }
  if (auto it = envelope.find("requestId"); it != envelope.end()) {
    request_id = it->is_string() ? it->get<std::string>() : it->dump();
  }
  return Error::Server(code, std::move(message), std::move(request_id));
}

Result<json> ParseSuccess(std::string_view body) {
  auto j = ParseEnvelope(body);
  if (!j.ok()) return j;
  if (auto err = ServerError(*j)) return std::move(*err);
  return j;
}

Result<uint64_t> ParseId(const json& j, const char* field) {
  auto it = j.find(field);
  if (it != j.end()) {
    if (it->is_number_unsigned()) return it->get<uint64_t>();
    if (it->is_string()) {
      if (auto v = ParseUint64(it->get_ref<const std::string&>())) return *v;
    }
  }
  return Error::Protocol(std::string("missing or non-decimal id field ") + field);
}

Result<std::string> ParseString(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) {
    return Error::Protocol(std::string("missing string field ") + field);
  }
  return it->get<std::string>();
}

Result<int64_t> ParseInt(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_number_integer()) {
    return Error::Protocol(std::string("missing integer field ") + field);
  }
  return it->get<int64_t>();
}

Result<QueueMeta> ParseQueueMeta(const json& j) {
  QueueMeta m;
  if (auto it = j.find("queueName"); it != j.end() && it->is_string()) {
    m.queue_name = it->get<std::string>();
  }
  struct Field {
    const char* name;
    int64_t QueueMeta::*member;
  };
  static constexpr Field kFields[] = {
      {"maxMsgHeapNum", &QueueMeta::max_msg_heap_num},
      {"pollingWaitSeconds", &QueueMeta::polling_wait_seconds},
      {"visibilityTimeout", &QueueMeta::visibility_timeout},
      {"maxMsgSize", &QueueMeta::max_msg_size},
      {"msgRetentionSeconds", &QueueMeta::msg_retention_seconds},
      {"createTime", &QueueMeta::create_time},
      {"lastModifyTime", &QueueMeta::last_modify_time},
      {"activeMsgNum", &QueueMeta::active_msg_num},
      {"inactiveMsgNum", &QueueMeta::inactive_msg_num},
      {"rewindSeconds", &QueueMeta::rewind_seconds},
      {"minMsgTime", &QueueMeta::min_msg_time},
      {"delayMsgNum", &QueueMeta::delay_msg_num},
  };
  for (const Field& f : kFields) {
    auto v = ParseInt(j, f.name);
    if (!v.ok()) return v.error();
    m.*f.member = *v;
  }
  // Spelled both ways on the wire (spec §8); either will do.
  auto rewind = ParseInt(j, "rewindmsgNum");
  if (!rewind.ok()) rewind = ParseInt(j, "rewindMsgNum");
  if (!rewind.ok()) return rewind.error();
  m.rewind_msg_num = *rewind;
  return m;
}

Result<QueueList> ParseQueueList(const json& j) {
  QueueList out;
  auto total = ParseInt(j, "totalCount");
  if (!total.ok()) return total.error();
  out.total_count = *total;
  auto it = j.find("queueList");
  if (it == j.end()) return out;
  if (!it->is_array()) return Error::Protocol("queueList is not an array");
  for (const json& q : *it) {
    auto id = ParseString(q, "queueId");
    auto name = ParseString(q, "queueName");
    if (!id.ok()) return id.error();
    if (!name.ok()) return name.error();
    out.queues.push_back({std::move(*id), std::move(*name)});
  }
  return out;
}

Result<Message> ParseMessage(const json& j) {
  Message m;
  auto id = ParseId(j, "msgId");
  if (!id.ok()) return id.error();
  auto handle = ParseId(j, "receiptHandle");
  if (!handle.ok()) return handle.error();
  auto body = ParseString(j, "msgBody");
  if (!body.ok()) return body.error();
  m.msg_id = *id;
  m.receipt_handle = *handle;
  m.body = std::move(*body);
  struct Field {
    const char* name;
    int64_t Message::*member;
  };
  static constexpr Field kFields[] = {
      {"enqueueTime", &Message::enqueue_time},
      {"nextVisibleTime", &Message::next_visible_time},
      {"firstDequeueTime", &Message::first_dequeue_time},
      {"dequeueCount", &Message::dequeue_count},
  };
  for (const Field& f : kFields) {
    auto v = ParseInt(j, f.name);
    if (!v.ok()) return v.error();
    m.*f.member = *v;
  }
  return m;
}

Result<std::vector<Message>> ParseMessageList(const json& j) {
  auto it = j.find("msgInfoList");
  if (it == j.end() || !it->is_array()) return Error::Protocol("missing array msgInfoList");
  std::vector<Message> out;
  out.reserve(it->size());
  for (const json& m : *it) {
    auto msg = ParseMessage(m);
    if (!msg.ok()) return msg.error();
    out.push_back(std::move(*msg));
  }
  return out;
}

Result<std::vector<uint64_t>> ParseMsgIdList(const json& j) {
  auto it = j.find("msgList");
  if (it == j.end() || !it->is_array()) return Error::Protocol("missing array msgList");
  std::vector<uint64_t> out;
  out.reserve(it->size());
  for (const json& m : *it) {
    auto id = ParseId(m, "msgId");
    if (!id.ok()) return id.error();
    out.push_back(*id);
  }
  return out;
}

Result<std::vector<DeleteError>> ParseDeleteErrors(const json& j) {
  std::vector<DeleteError> out;
  auto it = j.find("errorList");
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) return Error::Protocol("errorList is not an array");
  for (const json& e : *it) {
    auto handle = ParseId(e, "receiptHandle");
    if (!handle.ok()) return handle.error();
    auto code = ParseInt(e, "code");
    if (!code.ok()) return code.error();
    DeleteError d{*handle, static_cast<int>(*code), {}};
    if (auto m = e.find("message"); m != e.end() && m->is_string())
      d.message = m->get<std::string>();
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace cmq::client
