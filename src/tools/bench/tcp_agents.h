#pragma once
// The two request loops of the peer workloads over the CMQ TCP protocol (--protocol tcp),
// following the same plans as the HTTP Producer and Consumer (agents.h): a TcpProducer
// sends (Send, or BatchSend with --batch > 1), a TcpConsumer batch-pulls and batch-deletes
// what it got. Many of them share one pipelined connection (tcp_runner.h).

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "tools/bench/agents.h"
#include "tools/bench/tcp_runner.h"

namespace cmq::bench {

class TcpProducer : public TcpAgent {
 public:
  TcpProducer(RunState& run, TcpLane& lane, SendPlan& plan);
  void Next() override;

 private:
  void Send(int n);

  SendPlan& plan_;
  boost::asio::steady_timer timer_;
  std::vector<std::string> bodies_;  // this agent's copies (stamped with the send time)
};

class TcpConsumer : public TcpAgent {
 public:
  // batch: messages per pull (1-16); wait: its poll wait in seconds.
  TcpConsumer(RunState& run, TcpLane& lane, ReceivePlan& plan, int batch, int wait);
  void Next() override;

 private:
  void Delete(int n);

  ReceivePlan& plan_;
  int batch_, wait_;
  std::vector<uint64_t> handles_;
};

// The peer workloads' agents over TCP: `senders` producers and `receivers` consumers (as
// many windows as over HTTP), each role pipelined over its own min(--clients, agents)
// connections, spread over the --tcp addresses.
RunFigures RunTcpAgents(const Config& cfg, int senders, int receivers, SendPlan& send,
                        ReceivePlan& receive);

}  // namespace cmq::bench
