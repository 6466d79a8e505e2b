#pragma once
// Runs a set of agents — each one keep-alive connection with one request in flight — on
// --threads io_context threads until every agent has stopped, then merges their figures.
// Connections are spread over the endpoints (any node of a cluster takes any request).

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/async_connection.h"
#include "client/histogram.h"
#include "tools/bench/options.h"

namespace cmq::bench {

using Clock = std::chrono::steady_clock;

// The figures of the agents of one thread, merged after the run (so no atomics).
struct Stats {
  client::Histogram latency_us;  // one HTTP request, from sending to its answer
  client::Histogram e2e_us;      // one message, from the send time in its body to its receipt
  uint64_t produced = 0;         // messages acknowledged by a send or publish
  uint64_t consumed = 0;         // messages deleted after a receive
  uint64_t requests = 0, errors = 0;
  Clock::time_point last_produce{}, first_consume = Clock::time_point::max(), last_consume{};

  void Merge(const Stats& other);
};

// What every agent of a run shares.
struct RunState {
  explicit RunState(const Config& c) : cfg(c) {}
  const Config& cfg;
  Clock::time_point start, deadline;
  std::atomic<bool> stop{false};

  bool Over() const { return stop.load(std::memory_order_relaxed) || Clock::now() >= deadline; }
};

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

class Runner {
 public:
  // `agents`: how many will be added (the threads are min(--threads, agents)).
  Runner(const Config& cfg, int agents);
  ~Runner();

  RunState& state() { return state_; }
  // A connection to endpoint number `endpoint_slot` (modulo the endpoints), on the thread
  // whose turn it is.
  Link Connect(int endpoint_slot);
  void Add(std::unique_ptr<Agent> agent) { agents_.push_back(std::move(agent)); }
  // Starts every agent, with a deadline `seconds` from now; returns once all have stopped.
  Stats Run(double seconds);
  Clock::time_point start() const { return state_.start; }
  Clock::time_point finished() const { return finished_; }

 private:
  RunState state_;
  std::vector<std::unique_ptr<boost::asio::io_context>> iocs_;
  std::vector<Stats> stats_;  // one per thread
  std::vector<std::unique_ptr<Agent>> agents_;
  size_t connected_ = 0;
  Clock::time_point finished_;
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
