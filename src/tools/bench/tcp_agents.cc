#include "tools/bench/tcp_agents.h"

#include <algorithm>
#include <memory>

namespace cmq::bench {

TcpProducer::TcpProducer(RunState& run, TcpLane& lane, SendPlan& plan)
    : TcpAgent(run, lane), plan_(plan), timer_(*lane.ioc) {}

void TcpProducer::Next() {
  if (run_.Over()) return Stop();
  auto turn = plan_.Claim(run_);
  if (!turn) return Stop();
  if (turn->due > Clock::now()) {
    timer_.expires_at(turn->due);
    timer_.async_wait([this, n = turn->n](boost::system::error_code ec) {
      if (ec) return Stop();
      Send(n);
    });
    return;
  }
  Send(turn->n);
}

void TcpProducer::Send(int n) {
  auto t0 = Clock::now();
  bodies_.resize(static_cast<size_t>(n), plan_.body);
  if (plan_.stamp) {
    for (auto& b : bodies_) WriteStamp(&b, t0);
  }
  auto done = [this, n, t0](bool ok) {
    Done(t0);
    if (ok) {
      st_.produced += static_cast<uint64_t>(n);
      st_.last_produce = Clock::now();
    } else if (plan_.retry) {
      plan_.quota += n;
    }
    Next();
  };
  if (plan_.batch <= 1) {
    conn_.Send(plan_.target, bodies_.front(), 0, [this, done](client::Result<uint64_t> r) {
      if (!r.ok()) Error(r.error());
      done(r.ok());
    });
  } else {
    conn_.BatchSend(plan_.target, bodies_, 0,
                    [this, done](client::Result<std::vector<uint64_t>> r) {
                      if (!r.ok()) Error(r.error());
                      done(r.ok());
                    });
  }
}

TcpConsumer::TcpConsumer(RunState& run, TcpLane& lane, ReceivePlan& plan, int batch, int wait)
    : TcpAgent(run, lane), plan_(plan), batch_(batch), wait_(wait) {}

void TcpConsumer::Next() {
  if (run_.Over()) return Stop();
  auto t0 = Clock::now();
  conn_.BatchPull(plan_.queue, batch_, wait_, std::nullopt,
                  [this, t0](client::Result<std::vector<client::Message>> r) {
                    Done(t0);
                    if (!r.ok()) {
                      if (!r.error().is_no_message()) Error(r.error());
                      return Next();
                    }
                    if (plan_.e2e) {
                      auto now = Clock::now();
                      for (const auto& m : *r) RecordE2e(st_, m.body, now);
                    }
                    handles_.clear();
                    for (const auto& m : *r) handles_.push_back(m.receipt_handle);
                    if (handles_.empty())
                      return Next();  // result 0 without messages: nothing to delete
                    Delete(static_cast<int>(handles_.size()));
                  });
}

void TcpConsumer::Delete(int n) {
  auto t0 = Clock::now();
  conn_.BatchDelete(plan_.queue, handles_,
                    [this, n, t0](client::Result<std::vector<client::DeleteError>> r) {
                      Done(t0);
                      int deleted = 0;
                      if (r.ok()) {
                        deleted = n - static_cast<int>(r->size());
                        st_.errors += r->size();
                      } else {
                        Error(r.error());
                      }
                      plan_.CountDeleted(deleted, st_, run_);
                      Next();
                    });
}

RunFigures RunTcpAgents(const Config& cfg, int senders, int receivers, SendPlan& send,
                        ReceivePlan& receive) {
  int send_lanes = std::min(cfg.tcp_connections, senders);
  int receive_lanes = std::min(cfg.tcp_connections, receivers);
  TcpRunner runner(cfg, send_lanes + receive_lanes);
  std::vector<TcpLane*> lanes;
  for (int i = 0; i < receive_lanes; ++i) lanes.push_back(&runner.AddLane(i));
  for (int i = 0; i < receivers; ++i) {
    TcpLane& lane = *lanes[static_cast<size_t>(i % receive_lanes)];
    runner.Add(
        std::make_unique<TcpConsumer>(runner.state(), lane, receive, cfg.receive_batch, cfg.wait));
  }
  lanes.clear();
  for (int i = 0; i < send_lanes; ++i) lanes.push_back(&runner.AddLane(i));
  for (int i = 0; i < senders; ++i) {
    TcpLane& lane = *lanes[static_cast<size_t>(i % send_lanes)];
    runner.Add(std::make_unique<TcpProducer>(runner.state(), lane, send));
  }
  return runner.Measure(cfg.duration);
}

}  // namespace cmq::bench
