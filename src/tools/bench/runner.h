#pragma once
// Runs a set of agents — each one keep-alive connection with one request in flight — on
// --threads io_context threads until every agent has stopped, then merges their figures.
// Connections are spread over the endpoints (any node of a cluster takes any request).

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "client/async_connection.h"
#include "tools/bench/options.h"
#include "tools/bench/run_state.h"
#include "tools/bench/runner_core.h"

namespace cmq::bench {

// What one agent runs on.
struct Link {
  std::unique_ptr<client::AsyncConnection> conn;
  boost::asio::io_context* ioc = nullptr;
  Stats* stats = nullptr;
};

// One connection's request loop: Next() issues a request whose completion calls Next()
// again, until the run is over. Everything runs on the connection's io_context thread.
class Agent {
 public:
  Agent(RunState& run, Link link);
  virtual ~Agent() = default;
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  virtual void Next() = 0;

 protected:
  using Response = client::Result<std::string_view>;

  // Sends body_ and calls done(Response); records the request's latency.
  template <typename F>
  void Post(F&& done);
  // Counts a failed request; gives up the run after 100 transport errors on one connection
  // (the server is gone: waiting for the deadline would only repeat them).
  void Error(const Response& r);

  RunState& run_;
  Stats& st_;
  boost::asio::io_context& ioc_;
  std::unique_ptr<client::AsyncConnection> conn_;
  std::string body_;

 private:
  int transport_errors_ = 0;
};

class Runner : public RunnerCore<Agent> {
 public:
  // `agents`: how many will be added (the threads are min(--threads, agents)).
  Runner(const Config& cfg, int agents);

  // A connection to endpoint number `endpoint_slot` (modulo the endpoints), on the thread
  // whose turn it is.
  Link Connect(int endpoint_slot);
};

template <typename F>
void Agent::Post(F&& done) {
  auto t0 = Clock::now();
  auto timeout = run_.cfg.options.request_timeout + std::chrono::seconds(run_.cfg.wait);
  conn_->PostRaw(
      body_, std::chrono::duration_cast<std::chrono::milliseconds>(timeout),
      [this, t0, done = std::forward<F>(done)](Response r) {
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
        st_.latency_us.Record(static_cast<uint64_t>(us));
        ++st_.requests;
        done(r);
      });
}

}  // namespace cmq::bench
