#include "tools/bench/topic_workloads.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "client/client.h"
#include "tools/bench/agents.h"
#include "tools/bench/push_sink.h"
#include "tools/bench/report.h"
#include "tools/bench/runner.h"
#include "tools/bench/server_cpu.h"

namespace cmq::bench {

namespace {

using namespace cmq::client;  // NOLINT

std::string SubscriptionQueue(const Config& cfg, int i) {
  return cfg.topic + "-q" + std::to_string(i);
}
std::string SubscriptionName(const Config& cfg, int i) {
  return (cfg.workload == "push" ? "push" : "s") + std::to_string(i);
}

// Messages held by the publish workload's queues (for the delivered copies).
std::optional<int64_t> QueuedCopies(const Config& cfg) {
  Client c(cfg.options);
  int64_t total = 0;
  for (int i = 1; i <= cfg.subscriptions; ++i) {
    auto m = c.GetQueueAttributes(SubscriptionQueue(cfg, i));
    if (!m.ok()) {
      std::cerr << "queue attributes: " << m.error().ToString() << "\n";
      return std::nullopt;
    }
    total += m->active_msg_num + m->inactive_msg_num + m->delay_msg_num;
  }
  return total;
}

// Creates the topic and its subscriptions (publish: N queues, each subscribed with protocol
// queue; push: N subscriptions with protocol http to the sink), reusing what exists.
bool PrepareTopic(const Config& cfg, const PushSink* sink) {
  Client c(cfg.options);
  TopicAttributes t;
  if (cfg.size > 65536) t.max_msg_size = 1048576;
  auto r = c.CreateTopic(cfg.topic, t);
  if (!r.ok() && r.error().code != kCodeTopicExists) {
    std::cerr << "create topic " << cfg.topic << ": " << r.error().ToString() << "\n";
    return false;
  }
  if (!r.ok() && t.max_msg_size) {  // a kept topic: make room for the bodies
    auto set = c.SetTopicAttributes(cfg.topic, t);
    if (!set.ok()) std::cerr << "set topic attributes: " << set.error().ToString() << "\n";
  }
  for (int i = 1; i <= cfg.subscriptions; ++i) {
    std::string name = SubscriptionName(cfg, i);
    SubscriptionOptions o;
    Result<std::string> sub = std::string();
    if (cfg.workload == "publish") {
      QueueAttributes a;
      if (cfg.size > 65536) a.max_msg_size = 1048576;
      auto q = c.CreateQueue(SubscriptionQueue(cfg, i), a);
      if (!q.ok() && q.error().code != kCodeQueueExists) {
        std::cerr << "create queue: " << q.error().ToString() << "\n";
        return false;
      }
      if (!q.ok() && a.max_msg_size) {
        auto set = c.SetQueueAttributes(SubscriptionQueue(cfg, i), a);
        if (!set.ok()) std::cerr << "set queue attributes: " << set.error().ToString() << "\n";
      }
      o.notify_content_format = "SIMPLIFIED";
      sub = c.Subscribe(cfg.topic, name, "queue", SubscriptionQueue(cfg, i), o);
    } else {
      o.notify_content_format = cfg.format;
      // A kept subscription points at the endpoint of an earlier run: replace it.
      auto old = c.Unsubscribe(cfg.topic, name);
      (void)old;
      sub = c.Subscribe(cfg.topic, name, "http", sink->url(i), o);
    }
    if (!sub.ok() && sub.error().code != kCodeSubscriptionExists) {
      std::cerr << "subscribe " << name << ": " << sub.error().ToString() << "\n";
      return false;
    }
  }
  return true;
}

// Removes what PrepareTopic created.
void CleanUpTopic(const Config& cfg) {
  Client c(cfg.options);
  for (int i = 1; i <= cfg.subscriptions; ++i) {
    auto u = c.Unsubscribe(cfg.topic, SubscriptionName(cfg, i));
    if (!u.ok()) std::cerr << "unsubscribe: " << u.error().ToString() << "\n";
    if (cfg.workload == "publish") {
      auto d = c.DeleteQueue(SubscriptionQueue(cfg, i));
      if (!d.ok()) std::cerr << "delete queue: " << d.error().ToString() << "\n";
    }
  }
  auto d = c.DeleteTopic(cfg.topic);
  if (!d.ok()) std::cerr << "delete topic: " << d.error().ToString() << "\n";
}

// Every message acknowledged by a publish must reach the sink once per subscription
// (others may too): waits for that at most --push-wait, then reports the push figures.
// False if some never arrived.
bool PushFigures(const Config& cfg, const PushSink& sink, uint64_t published,
                 Clock::time_point start, Clock::time_point publish_end, Fields* extra) {
  uint64_t expected = published * static_cast<uint64_t>(cfg.subscriptions);
  auto give_up = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(cfg.push_wait));
  while (sink.distinct() < expected && Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  uint64_t posts = sink.posts();
  bool complete = sink.distinct() >= expected;
  auto last = std::max(sink.last_post(), start);
  double push_seconds = std::max(1e-9, std::chrono::duration<double>(last - start).count());
  double lag = std::chrono::duration<double>(last - publish_end).count();
  extra->emplace_back("subscriptions", std::to_string(cfg.subscriptions));
  extra->emplace_back("pushes", std::to_string(posts));
  extra->emplace_back("pushed_messages", std::to_string(sink.distinct()));
  extra->emplace_back("push_connections", std::to_string(sink.connections()));
  extra->emplace_back("pushes_per_s", Fixed(posts / push_seconds, 1));
  extra->emplace_back("push_seconds", Fixed(push_seconds, 3));
  extra->emplace_back("push_lag_s", complete ? Fixed(lag, 3) : std::string("-1"));
  if (!complete) {
    std::cerr << "push: " << sink.distinct() << " of " << expected
              << " pushes arrived within --push-wait " << cfg.push_wait << " s\n";
  }
  return complete;
}

}  // namespace

int RunTopicWorkload(const Config& cfg) {
  std::unique_ptr<PushSink> sink;
  std::optional<int64_t> copies_before;
  if (cfg.workload == "push") sink = std::make_unique<PushSink>();
  if (!PrepareTopic(cfg, sink.get())) return 2;
  if (cfg.workload == "publish" && !(copies_before = QueuedCopies(cfg))) return 2;

  SendPlan send(cfg.topic, true, cfg.batch, MakeBody(cfg.size));
  ServerCpu cpu(cfg.server_pids);
  Runner runner(cfg, cfg.clients);
  for (int i = 0; i < cfg.clients; ++i) {
    runner.Add(std::make_unique<Producer>(runner.state(), runner.Connect(i), send));
  }
  Stats total = runner.Run(cfg.duration);
  double seconds =
      std::max(1e-9, std::chrono::duration<double>(runner.finished() - runner.start()).count());

  Fields extra;
  bool incomplete_push = false;
  if (cfg.workload == "publish") {
    extra.emplace_back("subscriptions", std::to_string(cfg.subscriptions));
    if (auto after = QueuedCopies(cfg)) {
      int64_t copies = *after - *copies_before;
      extra.emplace_back("copies", std::to_string(copies));
      extra.emplace_back("copies_per_s", Fixed(copies / seconds, 1));
    }
  } else {
    incomplete_push =
        !PushFigures(cfg, *sink, total.produced, runner.start(), runner.finished(), &extra);
  }
  // Read before the clean-up, which is not part of the run.
  auto cpu_per_msg = cpu.UsPerMessage(total.produced);
  if (!cfg.keep) CleanUpTopic(cfg);

  Report r;
  r.workload = cfg.workload;
  r.clients = cfg.clients;
  r.size = cfg.size;
  r.batch = cfg.batch;
  r.messages = total.produced;
  r.produced = total.produced;
  r.requests = total.requests;
  r.errors = total.errors;
  r.seconds = seconds;
  r.latency = &total.latency_us;
  r.extra = std::move(extra);
  r.server_cpu_us_per_msg = cpu_per_msg;
  bool written = Emit(cfg, r);
  return total.errors > 0 || incomplete_push || !written ? 1 : 0;
}

}  // namespace cmq::bench
