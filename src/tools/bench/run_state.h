#pragma once
// What every agent of a run shares, whichever protocol it speaks: the run's clock and stop
// flag, and the figures each thread's agents keep.

#include <atomic>
#include <chrono>
#include <cstdint>

#include "client/histogram.h"
#include "tools/bench/options.h"

namespace cmq::bench {

using Clock = std::chrono::steady_clock;

// The figures of the agents of one thread, merged after the run (so no atomics).
struct Stats {
  client::Histogram latency_us;  // one request, from sending to its answer
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

}  // namespace cmq::bench
