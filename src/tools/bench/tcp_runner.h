#pragma once
// The TCP counterpart of Runner (--protocol tcp): a few pipelined connections (lanes), each
// shared by many agents, where HTTP needs a connection per agent. An agent is one request
// loop — one window slot — so a lane carries as many requests at once as it has agents.
// A lane closes its connection when its last agent stops, which lets its io_context
// thread finish (an open TCP connection always has a read outstanding).

#include <boost/asio/io_context.hpp>
#include <memory>
#include <vector>

#include "client/error.h"
#include "client/tcp_connection.h"
#include "tools/bench/run_state.h"
#include "tools/bench/runner_core.h"

namespace cmq::bench {

// One TCP connection and the agents on it; everything on its io_context thread.
struct TcpLane {
  std::unique_ptr<client::TcpConnection> conn;
  boost::asio::io_context* ioc = nullptr;
  Stats* stats = nullptr;
  int active = 0;  // agents still running
  int transport_errors = 0;

  void Release() {
    if (--active == 0) conn->Close();
  }
};

// One request loop on a lane: Next() issues a request whose completion calls Next() again,
// until the run is over; then it calls Stop() (exactly once).
class TcpAgent {
 public:
  TcpAgent(RunState& run, TcpLane& lane);
  virtual ~TcpAgent() = default;
  TcpAgent(const TcpAgent&) = delete;
  TcpAgent& operator=(const TcpAgent&) = delete;

  virtual void Next() = 0;

 protected:
  void Stop() { lane_.Release(); }
  // Counts one request (latency from t0).
  void Done(Clock::time_point t0);
  // Counts a failed request; gives up the run after 100 transport errors on one lane
  // (the server is gone: waiting for the deadline would only repeat them).
  void Error(const client::Error& e);

  RunState& run_;
  TcpLane& lane_;
  Stats& st_;
  client::TcpConnection& conn_;
};

class TcpRunner : public RunnerCore<TcpAgent> {
 public:
  // `lanes`: how many will be added (the threads are min(--threads, lanes)).
  TcpRunner(const Config& cfg, int lanes) : RunnerCore(cfg, lanes) {}
  ~TcpRunner();

  // A connection to --tcp address number `address_slot` (modulo), on the thread whose
  // turn it is. The reference stays valid for the runner's life.
  TcpLane& AddLane(int address_slot);

 private:
  std::vector<std::unique_ptr<TcpLane>> lanes_;
};

}  // namespace cmq::bench
