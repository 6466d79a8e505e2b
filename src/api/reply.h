#pragma once
// The answer to one request: every CMQ response, success or error, is a JSON object that
// starts with the envelope `code`, `message`, `requestId` (a string of digits) and, when the
// request carried one, `clientRequestId` (a number) (spec §5). A Reply is copyable and cheap
// to move, so it can travel into a QueueService callback; it must be answered exactly once.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/errors.h"
#include "api/json_writer.h"
#include "api/request.h"

namespace cmq::api {

class Reply {
 public:
  Reply(uint64_t request_id, bool keep_alive, ResponseCallback done)
      : request_id_(request_id), keep_alive_(keep_alive), done_(std::move(done)) {}

  void set_client_request_id(int64_t id) { client_request_id_ = id; }
  void set_keep_alive(bool keep_alive) { keep_alive_ = keep_alive; }
  uint64_t request_id() const { return request_id_; }

  // Writes '{' and the envelope members into w; the caller adds its fields, closes the
  // object and calls Send.
  void BeginEnvelope(JsonWriter& w, int code, std::string_view message) const;
  void Send(std::string body, bool unavailable = false);

  // The envelope alone, for a success without fields.
  void Ok();
  void Fail(const ApiError& error);

 private:
  uint64_t request_id_;
  std::optional<int64_t> client_request_id_;
  bool keep_alive_;
  ResponseCallback done_;
};

}  // namespace cmq::api
