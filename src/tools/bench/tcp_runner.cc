#include "tools/bench/tcp_runner.h"

#include <iostream>

#include "common/assert.h"

namespace cmq::bench {

TcpAgent::TcpAgent(RunState& run, TcpLane& lane)
    : run_(run), lane_(lane), st_(*lane.stats), conn_(*lane.conn) {
  ++lane_.active;
}

void TcpAgent::Done(Clock::time_point t0) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
  st_.latency_us.Record(static_cast<uint64_t>(us));
  ++st_.requests;
}

void TcpAgent::Error(const client::Error& e) {
  ++st_.errors;
  if (e.is_server() && st_.errors <= 3) std::cerr << "server error: " << e.ToString() << "\n";
  if (!e.is_server() && ++lane_.transport_errors > 100) {
    std::cerr << "giving up a connection: " << e.ToString() << "\n";
    run_.stop = true;
  }
}

TcpRunner::~TcpRunner() {
  // Agents refer to their lanes; connections close before their io_contexts go.
  agents_.clear();
  lanes_.clear();
}

TcpLane& TcpRunner::AddLane(int address_slot) {
  size_t t = NextThread();
  auto conn = client::TcpConnection::Create(*iocs_[t], state_.cfg.TcpOptionsFor(address_slot));
  // ParseCommandLine checked every address: Create fails only on a malformed one.
  CMQ_ASSERT(conn.ok(), "TCP address checked at parse time");
  auto lane = std::make_unique<TcpLane>();
  lane->conn = std::move(*conn);
  lane->ioc = iocs_[t].get();
  lane->stats = &stats_[t];
  lanes_.push_back(std::move(lane));
  return *lanes_.back();
}

}  // namespace cmq::bench
