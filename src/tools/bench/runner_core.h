#pragma once
// What Runner (HTTP) and TcpRunner (TCP) have in common: --threads io_contexts with one
// Stats each, the agents, and the run itself. The two differ only in how an agent gets its
// connection, so each adds that to this core; AgentT is the agent base class (an Agent or
// a TcpAgent), anything with a Next() that starts its request loop.

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "tools/bench/options.h"
#include "tools/bench/run_state.h"

namespace cmq::bench {

// A finished run's figures, with its span and how many connections carried it: what a
// report needs, whichever protocol ran.
struct RunFigures {
  Stats total;
  Clock::time_point start, finished;
  int connections = 0;
};

template <typename AgentT>
class RunnerCore {
 public:
  RunnerCore(const RunnerCore&) = delete;
  RunnerCore& operator=(const RunnerCore&) = delete;

  RunState& state() { return state_; }
  void Add(std::unique_ptr<AgentT> agent) { agents_.push_back(std::move(agent)); }
  // Starts every agent, with a deadline `seconds` from now; returns once all have stopped.
  Stats Run(double seconds);
  // Run, and the figures around it.
  RunFigures Measure(double seconds);
  Clock::time_point start() const { return state_.start; }
  Clock::time_point finished() const { return finished_; }

 protected:
  // `connections`: how many will be opened (the threads are min(--threads, connections)).
  RunnerCore(const Config& cfg, int connections);
  // Connections close before their io_contexts go. (A runner that also owns what its
  // agents refer to clears the agents in its own destructor, which runs first.)
  ~RunnerCore() { agents_.clear(); }

  // The thread a new connection goes to: round robin over the io_contexts.
  size_t NextThread() { return static_cast<size_t>(connections_++) % iocs_.size(); }

  RunState state_;
  std::vector<std::unique_ptr<boost::asio::io_context>> iocs_;
  std::vector<Stats> stats_;  // one per thread
  std::vector<std::unique_ptr<AgentT>> agents_;

 private:
  int connections_ = 0;  // opened so far
  Clock::time_point finished_;
};

template <typename AgentT>
RunnerCore<AgentT>::RunnerCore(const Config& cfg, int connections) : state_(cfg) {
  int threads = std::clamp(std::min(cfg.threads, connections), 1, 64);
  for (int t = 0; t < threads; ++t) iocs_.push_back(std::make_unique<boost::asio::io_context>());
  stats_.resize(iocs_.size());
}

template <typename AgentT>
Stats RunnerCore<AgentT>::Run(double seconds) {
  state_.start = Clock::now();
  state_.deadline = state_.start + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(seconds));
  // The io_contexts do not run yet, so starting the agents from this thread is safe.
  for (auto& a : agents_) a->Next();
  std::vector<std::thread> threads;
  for (size_t t = 1; t < iocs_.size(); ++t) threads.emplace_back([this, t] { iocs_[t]->run(); });
  iocs_[0]->run();
  for (auto& th : threads) th.join();
  finished_ = Clock::now();
  Stats total;
  for (const Stats& s : stats_) total.Merge(s);
  return total;
}

template <typename AgentT>
RunFigures RunnerCore<AgentT>::Measure(double seconds) {
  RunFigures out;
  out.total = Run(seconds);
  out.start = start();
  out.finished = finished();
  out.connections = connections_;
  return out;
}

}  // namespace cmq::bench
