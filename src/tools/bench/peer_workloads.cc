#include "tools/bench/peer_workloads.h"

#include <algorithm>
#include <iostream>
#include <memory>

#include "tools/bench/agents.h"
#include "tools/bench/queue_workloads.h"
#include "tools/bench/report.h"
#include "tools/bench/runner.h"
#include "tools/bench/server_cpu.h"
#include "tools/bench/setup.h"
#include "tools/bench/tcp_agents.h"

namespace cmq::bench {

namespace {

int CeilDiv(int a, int b) {
  return (a + b - 1) / b;
}

double Between(Clock::time_point from, Clock::time_point to) {
  return std::max(1e-9, std::chrono::duration<double>(to - from).count());
}

// cons: tops the queue up to --backlog messages; the run then deletes exactly that many.
bool PrepareBacklog(const Config& cfg) {
  auto held = QueueBacklog(cfg, cfg.queue);
  if (!held) return false;
  if (*held < cfg.backlog && Fill(cfg, cfg.queue, cfg.backlog - *held) < cfg.backlog - *held) {
    std::cerr << "cons: could not fill " << cfg.queue << " to " << cfg.backlog << "\n";
    return false;
  }
  return true;
}

// One keep-alive connection per window slot: `senders` + `receivers` connections.
RunFigures RunHttp(const Config& cfg, int senders, int receivers, SendPlan& send,
                   ReceivePlan& receive) {
  Runner runner(cfg, senders + receivers);
  // Each role is spread over the endpoints on its own.
  for (int i = 0; i < receivers; ++i) {
    runner.Add(std::make_unique<Consumer>(runner.state(), runner.Connect(i), receive));
  }
  for (int i = 0; i < senders; ++i) {
    runner.Add(std::make_unique<Producer>(runner.state(), runner.Connect(i), send));
  }
  return runner.Measure(cfg.duration);
}

}  // namespace

int RunPeerWorkload(const Config& cfg) {
  const std::string& w = cfg.workload;
  bool cons = w == "cons";
  bool e2e = w == "e2e" || w == "e2erate";
  if (!PrepareQueue(cfg, cfg.queue, cfg.fresh)) return 2;
  if (cons && !PrepareBacklog(cfg)) return 2;

  // In flight: `inflight` messages being sent, `prefetch` received and not yet deleted.
  int senders = cons ? 0 : CeilDiv(cfg.inflight, cfg.batch);
  int receivers = cons || e2e ? CeilDiv(cfg.prefetch, cfg.receive_batch) : 0;
  SendPlan send(cfg.queue, false, cfg.batch, MakeBody(cfg.size));
  if (cfg.messages > 0) {
    send.limited = true;
    send.quota = cfg.messages;
  }
  send.rate = cfg.rate;
  send.stamp = e2e;
  ReceivePlan receive(cfg.queue, cfg.receive_batch, cfg.wait);
  receive.e2e = e2e;
  if (cons) receive.target = cfg.backlog;

  ServerCpu cpu(cfg.server_pids);
  // Over TCP the same windows are pipelined over a few connections.
  RunFigures run = cfg.tcp() ? RunTcpAgents(cfg, senders, receivers, send, receive)
                             : RunHttp(cfg, senders, receivers, send, receive);
  const Stats& total = run.total;
  auto cpu_per_msg = cpu.UsPerMessage(total.produced + total.consumed);

  Report r;
  r.workload = w;
  if (cfg.tcp()) r.protocol = "tcp";
  if (!cons) r.params.emplace_back("inflight", std::to_string(cfg.inflight));
  if (cons || e2e) r.params.emplace_back("prefetch", std::to_string(cfg.prefetch));
  if (cons) r.params.emplace_back("backlog", std::to_string(cfg.backlog));
  if (cfg.rate > 0) r.params.emplace_back("rate", Fixed(cfg.rate, 0));
  r.clients = run.connections;
  r.size = cfg.size;
  r.batch = cfg.batch;
  r.produced = total.produced;
  r.requests = total.requests;
  r.errors = total.errors;
  r.latency = &total.latency_us;
  r.server_cpu_us_per_msg = cpu_per_msg;
  if (cons) {
    // From the start to the last delete, as the peers' consumers measure.
    r.messages = total.consumed;
    r.seconds = Between(run.start, total.last_consume);
  } else if (e2e) {
    // Consumed over the receiving period (first to last delete), as the peers measure;
    // published over the sending period.
    r.messages = total.consumed;
    r.seconds = total.consumed ? Between(total.first_consume, total.last_consume) : 1e-9;
    r.e2e = &total.e2e_us;
    r.extra.emplace_back("published", std::to_string(total.produced));
    r.extra.emplace_back("publish_msgs_per_s",
                         Fixed(total.produced / Between(run.start, total.last_produce), 1));
  } else {
    // Until the last acknowledgement, as the peers' publishers measure.
    r.messages = total.produced;
    r.seconds = Between(run.start, run.finished);
  }
  bool written = Emit(cfg, r);
  bool incomplete = cons && receive.consumed < receive.target;
  if (incomplete) {
    std::cerr << "cons: deleted " << receive.consumed << " of " << receive.target << "\n";
  }
  return total.errors > 0 || incomplete || !written ? 1 : 0;
}

}  // namespace cmq::bench
