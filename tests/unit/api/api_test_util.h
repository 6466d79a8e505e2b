#pragma once
// Drives a Dispatcher synchronously (with FakeQueueService) and parses its JSON answers.

#include <nlohmann/json.hpp>
#include <string>

#include "api/dispatcher.h"
#include "common/clock.h"
#include "common/url.h"
#include "fake_queue_service.h"

namespace cmq::api::testing {

class DispatcherHarness {
 public:
  explicit DispatcherHarness(ServerConfig config = {})
      : config_(std::move(config)), service(clock), dispatcher(service, config_, clock) {}

  // Sends a raw request and returns the raw response; fails the test if none came back.
  HttpResponse Raw(HttpRequest request) {
    std::optional<HttpResponse> answer;
    dispatcher.Handle(std::move(request), [&](HttpResponse r) { answer = std::move(r); });
    EXPECT_TRUE(answer.has_value()) << "no synchronous answer";
    return answer.value_or(HttpResponse{});
  }

  // POSTs the form and parses the JSON answer.
  nlohmann::json Post(const FormParams& form) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/v2/index.php";
    r.host = "127.0.0.1:8080";
    r.body = EncodeForm(form);
    return Parse(Raw(std::move(r)));
  }

  static nlohmann::json Parse(const HttpResponse& response) {
    EXPECT_EQ(response.status, 200);
    auto j = nlohmann::json::parse(response.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << response.body;
    if (!j.is_discarded()) {
      EXPECT_TRUE(j["code"].is_number_integer()) << response.body;
      EXPECT_TRUE(j["message"].is_string()) << response.body;
      EXPECT_TRUE(j["requestId"].is_string()) << response.body;
    }
    return j;
  }

  ManualClock clock;

 private:
  ServerConfig config_;

 public:
  FakeQueueService service;
  Dispatcher dispatcher;
};

}  // namespace cmq::api::testing
