#include "tools/bench/queue_workloads.h"

#include <algorithm>
#include <iostream>
#include <memory>

#include "tools/bench/agents.h"
#include "tools/bench/report.h"
#include "tools/bench/runner.h"
#include "tools/bench/server_cpu.h"
#include "tools/bench/setup.h"

namespace cmq::bench {

namespace {
double Since(Clock::time_point start, Clock::time_point end) {
  return std::max(1e-9, std::chrono::duration<double>(end - start).count());
}
}  // namespace

int RunQueueWorkload(const Config& cfg) {
  const std::string& w = cfg.workload;
  if (!PrepareQueue(cfg, cfg.queue, false)) return 2;
  ReceivePlan receive(cfg.queue, cfg.batch, cfg.wait);
  if (w == "drain") {
    receive.target = cfg.messages;
    if (receive.target <= 0) {
      auto backlog = QueueBacklog(cfg, cfg.queue);
      if (!backlog) return 2;
      receive.target = *backlog;
    }
  }
  SendPlan send(cfg.queue, false, cfg.batch, MakeBody(cfg.size));
  if (w == "prefill") {
    send.limited = true;
    send.quota = cfg.messages;
    send.retry = true;
  }

  ServerCpu cpu(cfg.server_pids);
  Runner runner(cfg, cfg.clients);
  for (int i = 0; i < cfg.clients; ++i) {
    bool pc = w == "produce-consume";
    bool consumer = w == "drain" || (pc && i % 2 == 1);
    // produce-consume alternates roles: spread each role over the endpoints on its own.
    Link link = runner.Connect(pc ? i / 2 : i);
    if (consumer) {
      runner.Add(std::make_unique<Consumer>(runner.state(), std::move(link), receive));
    } else {
      runner.Add(std::make_unique<Producer>(runner.state(), std::move(link), send));
    }
  }
  Stats total = runner.Run(cfg.duration);

  // Timed workloads end at their last completion; counted ones at their last progress
  // (not at the final empty long polls).
  auto end = cfg.timed() ? runner.finished()
                         : std::max({runner.start(), total.last_produce, total.last_consume});
  bool consumes = w == "drain" || w == "produce-consume";
  Report r;
  r.workload = w;
  r.clients = cfg.clients;
  r.size = cfg.size;
  r.batch = cfg.batch;
  r.messages = consumes ? total.consumed : total.produced;
  r.produced = total.produced;
  r.requests = total.requests;
  r.errors = total.errors;
  r.seconds = Since(runner.start(), end);
  r.latency = &total.latency_us;
  r.server_cpu_us_per_msg = cpu.UsPerMessage(total.produced + total.consumed);
  bool written = Emit(cfg, r);

  bool incomplete = (w == "drain" && receive.consumed < receive.target) ||
                    (w == "prefill" && total.produced < static_cast<uint64_t>(cfg.messages));
  return total.errors > 0 || incomplete || !written ? 1 : 0;
}

int64_t Fill(const Config& cfg, const std::string& queue, int64_t messages) {
  if (messages <= 0) return 0;
  constexpr int kClients = 32;
  SendPlan send(queue, false, 16, MakeBody(cfg.size));
  send.limited = true;
  send.quota = messages;
  send.retry = true;
  Runner runner(cfg, kClients);
  for (int i = 0; i < kClients; ++i) {
    runner.Add(std::make_unique<Producer>(runner.state(), runner.Connect(i), send));
  }
  Stats total = runner.Run(1e7);
  double seconds = Since(runner.start(), total.last_produce);
  std::cerr << "filled " << queue << " with " << total.produced << " messages in "
            << Fixed(seconds, 2) << " s (" << Fixed(total.produced / seconds, 0)
            << " msgs/s, errors " << total.errors << ")\n";
  return static_cast<int64_t>(total.produced);
}

}  // namespace cmq::bench
