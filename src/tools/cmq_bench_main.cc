// cmq-bench: load generator for CMQ-compatible servers (docs/bench.md). All connections run
// callback-style on one io_context per --threads thread; each connection carries one
// request at a time over HTTP/1.1 keep-alive. Responses are scanned, not parsed.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/async_connection.h"
#include "client/client.h"
#include "client/histogram.h"
#include "client/scan.h"

namespace {

using namespace cmq::client;  // NOLINT
using Clock = std::chrono::steady_clock;
using cmq::FormParams;

struct Config {
  ClientOptions options;
  std::string queue = "bench";
  std::string workload = "send";
  int clients = 64, size = 1024, batch = 0, wait = 1, threads = 1;
  double duration = 0;
  int64_t messages = 0;
  bool json = false;
};

struct Stats {
  Histogram latency_us;
  uint64_t messages = 0, produced = 0, requests = 0, errors = 0;
  Clock::time_point last_progress{};
};

struct Shared {
  Config cfg;
  Clock::time_point start, deadline;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> to_send{0};   // prefill: messages not yet claimed
  std::atomic<int64_t> consumed{0};  // drain, produce-consume
  int64_t target = 0;                // drain: backlog to delete
  std::string send_action;
  FormParams send_params;    // full batch (or the single message)
  std::string send_encoded;  // EncodeForm(send_params)
  std::string body;          // one message body
};

FormParams SendParams(const Shared& s, int n) {
  FormParams p{{"queueName", s.cfg.queue}};
  if (n == 1 && s.cfg.batch <= 1) {
    p.emplace_back("msgBody", s.body);
  } else {
    for (int i = 1; i <= n; ++i) p.emplace_back("msgBody." + std::to_string(i), s.body);
  }
  p.emplace_back("delaySeconds", "0");
  return p;
}

class Worker {
 public:
  enum class Role { kProducer, kConsumer };
  Worker(Shared& s, Stats& st, std::unique_ptr<AsyncConnection> c, Role role)
      : s_(s), st_(st), conn_(std::move(c)), role_(role) {}

  void Next() {
    if (s_.stop.load(std::memory_order_relaxed) || Clock::now() >= s_.deadline) return;
    if (role_ == Role::kProducer) {
      Produce();
    } else {
      Receive();
    }
  }

 private:
  void Produce() {
    int n = s_.cfg.batch > 1 ? s_.cfg.batch : 1;
    if (s_.cfg.workload == "prefill") {
      int64_t left = s_.to_send.fetch_sub(n);
      if (left <= 0) return;
      if (left < n) n = static_cast<int>(left);
    }
    if (n == std::max(s_.cfg.batch, 1)) {
      conn_->builder().Build(s_.send_action, s_.send_params, s_.send_encoded, &body_);
    } else {
      conn_->builder().Build(s_.send_action, SendParams(s_, n), &body_);
    }
    Post([this, n](Result<std::string_view> r) {
      bool ok = r.ok() && scan::IntField(*r, "code") == 0;
      if (ok) {
        st_.messages += n;
        st_.produced += n;
        st_.last_progress = Clock::now();
      } else {
        Error(r);
        if (s_.cfg.workload == "prefill") s_.to_send += n;  // try again
      }
      Next();
    });
  }

  void Receive() {
    FormParams p{{"queueName", s_.cfg.queue},
                 {"numOfMsg", std::to_string(std::max(s_.cfg.batch, 1))},
                 {"pollingWaitSeconds", std::to_string(s_.cfg.wait)}};
    conn_->builder().Build("BatchReceiveMessage", p, &body_);
    Post([this](Result<std::string_view> r) {
      auto code = r.ok() ? scan::IntField(*r, "code") : std::nullopt;
      if (code == kCodeNoMessage) return Next();
      if (code != 0) {
        Error(r);
        return Next();
      }
      FormParams d{{"queueName", s_.cfg.queue}};
      scan::ForEachValue(*r, "receiptHandle", [&](std::string_view h) {
        d.emplace_back("receiptHandle." + std::to_string(d.size()), std::string(h));
      });
      Delete(d);
    });
  }

  void Delete(const FormParams& d) {
    int n = static_cast<int>(d.size()) - 1;
    conn_->builder().Build("BatchDeleteMessage", d, &body_);
    Post([this, n](Result<std::string_view> r) {
      auto code = r.ok() ? scan::IntField(*r, "code") : std::nullopt;
      int deleted = 0;
      if (code == 0) {
        deleted = n;
      } else if (code == kCodeBatchDeletePartial) {
        size_t failed = scan::ForEachValue(*r, "receiptHandle", [](std::string_view) {});
        deleted = n - static_cast<int>(failed);
        st_.errors += failed;
      } else {
        Error(r);
      }
      if (deleted > 0) {
        st_.messages += deleted;
        st_.last_progress = Clock::now();
        int64_t total = s_.consumed += deleted;
        if (s_.cfg.workload == "drain" && total >= s_.target) s_.stop = true;
      }
      Next();
    });
  }

  void Error(const Result<std::string_view>& r) {
    ++st_.errors;
    if (r.ok() && st_.errors <= 3) std::cerr << "server error: " << *r << "\n";
    if (!r.ok() && ++transport_errors_ > 100) {
      std::cerr << "giving up a connection: " << r.error().ToString() << "\n";
      s_.stop = true;
    }
  }

  template <typename F>
  void Post(F&& done) {
    auto t0 = Clock::now();
    std::chrono::milliseconds timeout =
        s_.cfg.options.request_timeout + std::chrono::seconds(s_.cfg.wait);
    conn_->PostRaw(
        body_, timeout, [this, t0, done = std::forward<F>(done)](Result<std::string_view> r) {
          auto us =
              std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
          st_.latency_us.Record(static_cast<uint64_t>(us));
          ++st_.requests;
          done(r);
        });
  }

  Shared& s_;
  Stats& st_;
  std::unique_ptr<AsyncConnection> conn_;
  Role role_;
  std::string body_;
  int transport_errors_ = 0;
};

// Creates the queue unless it exists; for drain without --messages, reads the backlog.
bool Prepare(Shared& s) {
  Client c(s.cfg.options);
  QueueAttributes a;
  if (s.cfg.size > 65536) a.max_msg_size = 1048576;
  auto r = c.CreateQueue(s.cfg.queue, a);
  if (!r.ok() && r.error().code != kCodeQueueExists) {
    std::cerr << "create queue " << s.cfg.queue << ": " << r.error().ToString() << "\n";
    return false;
  }
  if (s.cfg.workload == "drain") {
    s.target = s.cfg.messages;
    if (s.target <= 0) {
      auto m = c.GetQueueAttributes(s.cfg.queue);
      if (!m.ok()) {
        std::cerr << "queue attributes: " << m.error().ToString() << "\n";
        return false;
      }
      s.target = m->active_msg_num + m->inactive_msg_num + m->delay_msg_num;
    }
  }
  return true;
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Shared s;
  Config& cfg = s.cfg;
  CLI::App app{"cmq-bench: load generator for CMQ-compatible queues"};
  app.add_option("--endpoint", cfg.options.endpoint)
      ->envname("CMQ_ENDPOINT")
      ->capture_default_str();
  app.add_option("--secret-id", cfg.options.secret_id)->envname("CMQ_SECRET_ID");
  app.add_option("--secret-key", cfg.options.secret_key)->envname("CMQ_SECRET_KEY");
  app.add_option("--queue", cfg.queue, "created if missing")->capture_default_str();
  app.add_option("--workload", cfg.workload)
      ->check(CLI::IsMember({"send", "batch-send", "drain", "prefill", "produce-consume"}))
      ->capture_default_str();
  app.add_option("--clients", cfg.clients, "concurrent connections")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--size", cfg.size, "message body bytes")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--batch", cfg.batch, "messages per request, 1-16 (default 16 except send)")
      ->check(CLI::Range(1, 16));
  app.add_option("--duration", cfg.duration,
                 "seconds (default 10 for send/produce-consume; a cap for prefill/drain)");
  app.add_option("--messages", cfg.messages,
                 "prefill: messages to send; drain: backlog (default: read from the queue)");
  app.add_option("--wait", cfg.wait, "receive pollingWaitSeconds")
      ->check(CLI::Range(0, 30))
      ->capture_default_str();
  app.add_option("--threads", cfg.threads, "I/O threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_flag("--json", cfg.json, "print the summary as one JSON line");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  bool timed =
      cfg.workload == "send" || cfg.workload == "batch-send" || cfg.workload == "produce-consume";
  if (cfg.batch == 0) cfg.batch = cfg.workload == "send" ? 1 : 16;
  if (cfg.duration <= 0) cfg.duration = timed ? 10 : 1e7;
  if (cfg.workload == "prefill" && cfg.messages <= 0) {
    std::cerr << "prefill needs --messages N\n";
    return 2;
  }
  if (cfg.workload == "produce-consume" && cfg.clients < 2) cfg.clients = 2;

  if (!Prepare(s)) return 2;
  s.body.resize(static_cast<size_t>(cfg.size));
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (size_t i = 0; i < s.body.size(); ++i) s.body[i] = kChars[i % 36];
  s.send_action = cfg.batch > 1 ? "BatchSendMessage" : "SendMessage";
  s.send_params = SendParams(s, cfg.batch);
  s.send_encoded = cmq::EncodeForm(s.send_params);
  s.to_send = cfg.messages;

  int nthreads = std::min(cfg.threads, cfg.clients);
  std::vector<std::unique_ptr<boost::asio::io_context>> iocs;
  std::vector<Stats> stats(static_cast<size_t>(nthreads));
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < nthreads; ++t) iocs.push_back(std::make_unique<boost::asio::io_context>());
  for (int i = 0; i < cfg.clients; ++i) {
    auto conn = AsyncConnection::Create(*iocs[i % nthreads], cfg.options);
    if (!conn.ok()) {
      std::cerr << conn.error().ToString() << "\n";
      return 2;
    }
    bool consumer = cfg.workload == "drain" || (cfg.workload == "produce-consume" && i % 2 == 1);
    workers.push_back(
        std::make_unique<Worker>(s, stats[i % nthreads], std::move(*conn),
                                 consumer ? Worker::Role::kConsumer : Worker::Role::kProducer));
  }
  s.start = Clock::now();
  s.deadline = s.start + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(cfg.duration));
  for (auto& w : workers) w->Next();
  std::vector<std::thread> threads;
  for (int t = 1; t < nthreads; ++t) threads.emplace_back([&, t] { iocs[t]->run(); });
  iocs[0]->run();
  for (auto& th : threads) th.join();
  auto finished = Clock::now();

  Stats total;
  total.last_progress = s.start;
  for (const Stats& st : stats) {
    total.latency_us.Add(st.latency_us);
    total.messages += st.messages;
    total.produced += st.produced;
    total.requests += st.requests;
    total.errors += st.errors;
    total.last_progress = std::max(total.last_progress, st.last_progress);
  }
  // Timed workloads end at their last completion; counted ones at their last progress
  // (not at the final empty long polls).
  auto end = timed ? finished : total.last_progress;
  double seconds = std::max(1e-9, std::chrono::duration<double>(end - s.start).count());
  double rate = total.messages / seconds;
  double mbps = rate * cfg.size / 1e6;
  auto ms = [&](double p) { return total.latency_us.Percentile(p) / 1000.0; };
  if (cfg.json) {
    std::cout << R"({"workload":")" << cfg.workload << R"(","clients":)" << cfg.clients
              << R"(,"size":)" << cfg.size << R"(,"batch":)" << cfg.batch << R"(,"messages":)"
              << total.messages << R"(,"produced":)" << total.produced << R"(,"requests":)"
              << total.requests << R"(,"seconds":)" << Fixed(seconds, 3) << R"(,"msgs_per_s":)"
              << Fixed(rate, 1) << R"(,"mb_per_s":)" << Fixed(mbps, 2) << R"(,"p50_ms":)"
              << Fixed(ms(50), 3) << R"(,"p99_ms":)" << Fixed(ms(99), 3) << R"(,"p999_ms":)"
              << Fixed(ms(99.9), 3) << R"(,"errors":)" << total.errors << "}\n";
  } else {
    std::cout << "workload=" << cfg.workload << " clients=" << cfg.clients << " size=" << cfg.size
              << " batch=" << cfg.batch << " messages=" << total.messages
              << " seconds=" << Fixed(seconds, 2) << " msgs/s=" << Fixed(rate, 0)
              << " MB/s=" << Fixed(mbps, 1) << " p50=" << Fixed(ms(50), 3)
              << "ms p99=" << Fixed(ms(99), 3) << "ms p999=" << Fixed(ms(99.9), 3)
              << "ms requests=" << total.requests << " errors=" << total.errors << "\n";
  }
  bool incomplete =
      (cfg.workload == "drain" && s.consumed < s.target) ||
      (cfg.workload == "prefill" && total.messages < static_cast<uint64_t>(cfg.messages));
  return total.errors > 0 || incomplete ? 1 : 0;
}
