#include "tools/bench/runner.h"

#include <algorithm>
#include <iostream>
#include <thread>

#include "common/assert.h"

namespace cmq::bench {

void Stats::Merge(const Stats& o) {
  latency_us.Add(o.latency_us);
  e2e_us.Add(o.e2e_us);
  produced += o.produced;
  consumed += o.consumed;
  requests += o.requests;
  errors += o.errors;
  last_produce = std::max(last_produce, o.last_produce);
  first_consume = std::min(first_consume, o.first_consume);
  last_consume = std::max(last_consume, o.last_consume);
}

Agent::Agent(RunState& run, Link link)
    : run_(run), st_(*link.stats), ioc_(*link.ioc), conn_(std::move(link.conn)) {}

void Agent::Error(const Response& r) {
  ++st_.errors;
  if (r.ok() && st_.errors <= 3) std::cerr << "server error: " << *r << "\n";
  if (!r.ok() && ++transport_errors_ > 100) {
    std::cerr << "giving up a connection: " << r.error().ToString() << "\n";
    run_.stop = true;
  }
}

Runner::Runner(const Config& cfg, int agents) : state_(cfg) {
  int threads = std::clamp(std::min(cfg.threads, agents), 1, 64);
  for (int t = 0; t < threads; ++t) iocs_.push_back(std::make_unique<boost::asio::io_context>());
  stats_.resize(iocs_.size());
  agents_.reserve(static_cast<size_t>(std::max(agents, 0)));
}

Runner::~Runner() {
  // Connections close before their io_contexts go.
  agents_.clear();
}

Link Runner::Connect(int endpoint_slot) {
  size_t t = connected_++ % iocs_.size();
  auto conn = client::AsyncConnection::Create(*iocs_[t], state_.cfg.OptionsFor(endpoint_slot));
  // ParseCommandLine checked every endpoint: Create fails only on a malformed one.
  CMQ_ASSERT(conn.ok(), "endpoint checked at parse time");
  return Link{std::move(*conn), iocs_[t].get(), &stats_[t]};
}

Stats Runner::Run(double seconds) {
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

}  // namespace cmq::bench
