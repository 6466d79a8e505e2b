#include "tools/bench/runner.h"

#include <algorithm>
#include <iostream>

#include "common/assert.h"

namespace cmq::bench {

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

Runner::Runner(const Config& cfg, int agents) : RunnerCore(cfg, agents) {
  agents_.reserve(static_cast<size_t>(std::max(agents, 0)));
}

Link Runner::Connect(int endpoint_slot) {
  size_t t = NextThread();
  auto conn = client::AsyncConnection::Create(*iocs_[t], state_.cfg.OptionsFor(endpoint_slot));
  // ParseCommandLine checked every endpoint: Create fails only on a malformed one.
  CMQ_ASSERT(conn.ok(), "endpoint checked at parse time");
  return Link{std::move(*conn), iocs_[t].get(), &stats_[t]};
}

}  // namespace cmq::bench
