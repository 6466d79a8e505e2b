#include "api/reply.h"

#include "common/assert.h"

namespace cmq::api {

void Reply::BeginEnvelope(JsonWriter& w, int code, std::string_view message) const {
  w.BeginObject();
  w.Field("code", code).Field("message", message);
  w.Key("requestId").UintString(request_id_);
  if (client_request_id_) w.Field("clientRequestId", *client_request_id_);
}

void Reply::Send(std::string body, bool unavailable) {
  CMQ_ASSERT(done_ != nullptr, "a request answered twice");
  ResponseCallback done = std::move(done_);
  done_ = nullptr;
  done(HttpResponse{200, std::move(body), keep_alive_, unavailable});
}

void Reply::Ok() {
  std::string body;
  body.reserve(96);
  JsonWriter w(body);
  BeginEnvelope(w, 0, "");
  w.EndObject();
  Send(std::move(body));
}

void Reply::Fail(const ApiError& error) {
  std::string body;
  body.reserve(160);
  JsonWriter w(body);
  BeginEnvelope(w, error.code, error.Message());
  w.EndObject();
  Send(std::move(body), error.unavailable);
}

}  // namespace cmq::api
