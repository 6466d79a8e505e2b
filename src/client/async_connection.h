#pragma once
// One HTTP/1.1 keep-alive connection to a CMQ endpoint, driven by a Boost.Asio io_context
// (callback style). Many connections can share one io_context thread; each carries one
// request at a time. A request on a connection that was reused and broke before any byte
// of the answer arrived (the server closed it while idle) is resent once on a new
// connection. The handler always runs on the io_context thread.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "client/error.h"
#include "client/options.h"
#include "client/request_builder.h"
#include "common/url.h"

namespace boost::asio {
class io_context;
}

namespace cmq::client {

class AsyncConnection {
 public:
  // The HTTP 200 response body (valid until the handler returns), or a transport error.
  using RawHandler = std::function<void(Result<std::string_view>)>;
  // The parsed envelope whatever its code, or a transport/protocol error.
  using JsonHandler = std::function<void(Result<nlohmann::json>)>;

  // Fails only on a malformed endpoint.
  static Result<std::unique_ptr<AsyncConnection>> Create(boost::asio::io_context& ioc,
                                                         const ClientOptions& options);
  // Closes the socket; a request in flight completes with an error (operation aborted).
  ~AsyncConnection();
  AsyncConnection(const AsyncConnection&) = delete;
  AsyncConnection& operator=(const AsyncConnection&) = delete;

  // Sends a prepared form body (see builder()). timeout 0 means options.request_timeout.
  // At most one request in flight per connection.
  void PostRaw(std::string_view form_body, std::chrono::milliseconds timeout, RawHandler handler);
  // Builds and signs Action + params, sends, parses the envelope.
  void Call(std::string_view action, const FormParams& params, std::chrono::milliseconds timeout,
            JsonHandler handler);

  RequestBuilder& builder();
  const ClientOptions& options() const;
  bool busy() const;
  // TCP connections opened so far (reconnects included).
  size_t connections_opened() const;
  void Close();

 private:
  struct Impl;
  explicit AsyncConnection(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace cmq::client
