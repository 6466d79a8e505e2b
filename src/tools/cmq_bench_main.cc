// cmq-bench: load generator for CMQ-compatible servers (docs/bench.md). All connections run
// callback-style on one io_context per --threads thread; each connection carries one
// request at a time over HTTP/1.1 keep-alive. Responses are scanned, not parsed. The push
// workload also runs a small HTTP endpoint (its own thread) that the server pushes to.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
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
  // publish and push
  std::string topic = "bench-topic";
  int subscriptions = 1;
  std::string format = "JSON";
  double push_wait = 300;
  bool keep = false;

  bool topic_workload() const { return workload == "publish" || workload == "push"; }
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
  bool topic = s.cfg.topic_workload();
  FormParams p{{topic ? "topicName" : "queueName", topic ? s.cfg.topic : s.cfg.queue}};
  if (n == 1 && s.cfg.batch <= 1) {
    p.emplace_back("msgBody", s.body);
  } else {
    for (int i = 1; i <= n; ++i) p.emplace_back("msgBody." + std::to_string(i), s.body);
  }
  if (topic) {
    // As the Python SDK: an empty routingKey (ignored on a filterType 1 topic; without
    // it the server first reads the topic's filterType).
    p.emplace_back("routingKey", "");
  } else {
    p.emplace_back("delaySeconds", "0");
  }
  return p;
}

namespace http = boost::beast::http;

// A tiny HTTP/1.1 endpoint on 127.0.0.1 for the push workload: answers 200 to every
// request, counts the POSTs and the distinct (target, x-cmq-message-id) pairs (each
// subscription pushes to a target of its own), on its own thread.
class PushSink {
 public:
  PushSink() : acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    Accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~PushSink() {
    ioc_.stop();
    thread_.join();
  }
  PushSink(const PushSink&) = delete;
  PushSink& operator=(const PushSink&) = delete;

  std::string url(int subscription) const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/push/" +
           std::to_string(subscription);
  }
  uint64_t posts() const { return posts_.load(); }
  uint64_t distinct() const { return distinct_.load(); }
  uint64_t connections() const { return connections_.load(); }
  // When the last POST arrived (epoch of Clock::now()).
  Clock::time_point last_post() const { return Clock::time_point(Clock::duration(last_.load())); }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(PushSink& sink, boost::asio::ip::tcp::socket socket)
        : sink(sink), socket(std::move(socket)) {}
    void Read() {
      parser.emplace();
      parser->body_limit(std::numeric_limits<uint64_t>::max());
      http::async_read(socket, buffer, *parser,
                       [self = shared_from_this()](boost::system::error_code ec, size_t) {
                         if (!ec) self->Answer();
                       });
    }
    void Answer() {
      const auto& req = parser->get();
      sink.Record(req);
      res = {};
      res.result(http::status::ok);
      res.version(req.version());
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::async_write(
          socket, res, [self = shared_from_this()](boost::system::error_code ec, size_t) {
            if (!ec && self->res.keep_alive()) return self->Read();
            boost::system::error_code ignored;
            self->socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
          });
    }
    PushSink& sink;
    boost::asio::ip::tcp::socket socket;
    boost::beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
    http::response<http::empty_body> res;
  };

  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, boost::asio::ip::tcp::socket s) {
      if (ec) return;
      ++connections_;
      std::make_shared<Session>(*this, std::move(s))->Read();
      Accept();
    });
  }

  void Record(const http::request<http::string_body>& req) {
    if (req.method() != http::verb::post) return;
    ++posts_;
    auto id = req["x-cmq-message-id"];
    std::string key(req.target());
    key.append(" ").append(id.data(), id.size());
    if (id.empty() || ids_.insert(std::move(key)).second) ++distinct_;
    last_ = Clock::now().time_since_epoch().count();
  }

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::unordered_set<std::string> ids_;  // sink thread only
  std::atomic<uint64_t> posts_{0}, distinct_{0}, connections_{0};
  std::atomic<Clock::rep> last_{0};
};

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
// queue; push: N subscriptions with protocol http to push_url), reusing what exists.
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
  CLI::App app{"cmq-bench: load generator for CMQ-compatible queues and topics"};
  app.add_option("--endpoint", cfg.options.endpoint)
      ->envname("CMQ_ENDPOINT")
      ->capture_default_str();
  app.add_option("--secret-id", cfg.options.secret_id)->envname("CMQ_SECRET_ID");
  app.add_option("--secret-key", cfg.options.secret_key)->envname("CMQ_SECRET_KEY");
  app.add_option("--queue", cfg.queue, "created if missing")->capture_default_str();
  app.add_option("--workload", cfg.workload)
      ->check(CLI::IsMember(
          {"send", "batch-send", "drain", "prefill", "produce-consume", "publish", "push"}))
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
  app.add_option("--topic", cfg.topic, "publish/push: the topic (created if missing)")
      ->capture_default_str();
  app.add_option("--subscriptions", cfg.subscriptions,
                 "publish: queues subscribed to the topic; push: HTTP subscriptions")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--format", cfg.format, "push: notifyContentFormat")
      ->check(CLI::IsMember({"JSON", "SIMPLIFIED"}))
      ->capture_default_str();
  app.add_option("--push-wait", cfg.push_wait,
                 "push: seconds to wait after publishing for every message to be pushed")
      ->capture_default_str();
  app.add_flag("--keep", cfg.keep,
               "publish/push: keep the topic, subscriptions and queues (default: deleted)");
  app.add_flag("--json", cfg.json, "print the summary as one JSON line");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  bool timed = cfg.workload == "send" || cfg.workload == "batch-send" ||
               cfg.workload == "produce-consume" || cfg.topic_workload();
  if (cfg.batch == 0) cfg.batch = cfg.workload == "send" || cfg.topic_workload() ? 1 : 16;
  if (cfg.duration <= 0) cfg.duration = timed ? 10 : 1e7;
  if (cfg.workload == "prefill" && cfg.messages <= 0) {
    std::cerr << "prefill needs --messages N\n";
    return 2;
  }
  if (cfg.workload == "produce-consume" && cfg.clients < 2) cfg.clients = 2;

  std::unique_ptr<PushSink> sink;
  std::optional<int64_t> copies_before;
  if (cfg.workload == "push") sink = std::make_unique<PushSink>();
  if (cfg.topic_workload()) {
    if (!PrepareTopic(cfg, sink.get())) return 2;
    if (cfg.workload == "publish" && !(copies_before = QueuedCopies(cfg))) return 2;
  } else if (!Prepare(s)) {
    return 2;
  }
  s.body.resize(static_cast<size_t>(cfg.size));
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (size_t i = 0; i < s.body.size(); ++i) s.body[i] = kChars[i % 36];
  if (cfg.topic_workload()) {
    s.send_action = cfg.batch > 1 ? "BatchPublishMessage" : "PublishMessage";
  } else {
    s.send_action = cfg.batch > 1 ? "BatchSendMessage" : "SendMessage";
  }
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

  // Topic figures, appended to the summary as (name, value) pairs.
  std::vector<std::pair<std::string, std::string>> extra;
  bool incomplete_push = false;
  if (cfg.workload == "publish") {
    extra.emplace_back("subscriptions", std::to_string(cfg.subscriptions));
    if (auto after = QueuedCopies(cfg)) {
      int64_t copies = *after - *copies_before;
      extra.emplace_back("copies", std::to_string(copies));
      extra.emplace_back("copies_per_s", Fixed(copies / seconds, 1));
    }
  } else if (cfg.workload == "push") {
    // Every message acknowledged by a publish must reach the endpoint once per
    // subscription (others may too).
    auto publish_end = finished;
    uint64_t expected = total.messages * static_cast<uint64_t>(cfg.subscriptions);
    auto give_up = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(cfg.push_wait));
    while (sink->distinct() < expected && Clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    uint64_t posts = sink->posts();
    incomplete_push = sink->distinct() < expected;
    auto last = std::max(sink->last_post(), s.start);
    double push_seconds = std::max(1e-9, std::chrono::duration<double>(last - s.start).count());
    double lag = std::chrono::duration<double>(last - publish_end).count();
    extra.emplace_back("subscriptions", std::to_string(cfg.subscriptions));
    extra.emplace_back("pushes", std::to_string(posts));
    extra.emplace_back("pushed_messages", std::to_string(sink->distinct()));
    extra.emplace_back("push_connections", std::to_string(sink->connections()));
    extra.emplace_back("pushes_per_s", Fixed(posts / push_seconds, 1));
    extra.emplace_back("push_seconds", Fixed(push_seconds, 3));
    extra.emplace_back("push_lag_s", incomplete_push ? std::string("-1") : Fixed(lag, 3));
    if (incomplete_push) {
      std::cerr << "push: " << sink->distinct() << " of " << expected
                << " pushes arrived within --push-wait " << cfg.push_wait << " s\n";
    }
  }
  if (cfg.topic_workload() && !cfg.keep) CleanUpTopic(cfg);

  if (cfg.json) {
    std::cout << R"({"workload":")" << cfg.workload << R"(","clients":)" << cfg.clients
              << R"(,"size":)" << cfg.size << R"(,"batch":)" << cfg.batch << R"(,"messages":)"
              << total.messages << R"(,"produced":)" << total.produced << R"(,"requests":)"
              << total.requests << R"(,"seconds":)" << Fixed(seconds, 3) << R"(,"msgs_per_s":)"
              << Fixed(rate, 1) << R"(,"mb_per_s":)" << Fixed(mbps, 2) << R"(,"p50_ms":)"
              << Fixed(ms(50), 3) << R"(,"p99_ms":)" << Fixed(ms(99), 3) << R"(,"p999_ms":)"
              << Fixed(ms(99.9), 3) << R"(,"errors":)" << total.errors;
    for (const auto& [k, v] : extra) std::cout << R"(,")" << k << R"(":)" << v;
    std::cout << "}\n";
  } else {
    std::cout << "workload=" << cfg.workload << " clients=" << cfg.clients << " size=" << cfg.size
              << " batch=" << cfg.batch << " messages=" << total.messages
              << " seconds=" << Fixed(seconds, 2) << " msgs/s=" << Fixed(rate, 0)
              << " MB/s=" << Fixed(mbps, 1) << " p50=" << Fixed(ms(50), 3)
              << "ms p99=" << Fixed(ms(99), 3) << "ms p999=" << Fixed(ms(99.9), 3)
              << "ms requests=" << total.requests << " errors=" << total.errors;
    for (const auto& [k, v] : extra) {
      std::string key = k;
      if (key.ends_with("_per_s")) key = key.substr(0, key.size() - 6) + "/s";
      std::cout << " " << key << "=" << v;
    }
    std::cout << "\n";
  }
  bool incomplete =
      (cfg.workload == "drain" && s.consumed < s.target) ||
      (cfg.workload == "prefill" && total.messages < static_cast<uint64_t>(cfg.messages));
  return total.errors > 0 || incomplete || incomplete_push ? 1 : 0;
}
