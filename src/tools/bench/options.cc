#include "tools/bench/options.h"

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

namespace cmq::bench {

client::ClientOptions Config::OptionsFor(int slot) const {
  client::ClientOptions o = options;
  o.endpoint = endpoints[static_cast<size_t>(slot) % endpoints.size()];
  return o;
}

client::TcpOptions Config::TcpOptionsFor(int slot) const {
  return client::TcpOptionsFrom(options,
                                tcp_addresses[static_cast<size_t>(slot) % tcp_addresses.size()]);
}

namespace {

// --protocol/--tcp; false (message printed) on a usage error.
bool FinishTcp(Config* cfg, bool clients_given) {
  if (!cfg->tcp()) {
    if (!cfg->tcp_addresses.empty()) {
      std::cerr << "--tcp: only with --protocol tcp\n";
      return false;
    }
    return true;
  }
  if (!cfg->peer_workload()) {
    std::cerr << "--protocol tcp: only for the peer workloads (pub, sync, cons, e2e, e2erate)\n";
    return false;
  }
  if (cfg->tcp_addresses.empty()) {
    std::cerr << "--protocol tcp: give the TCP listener(s) with --tcp HOST:PORT\n";
    return false;
  }
  for (const auto& a : cfg->tcp_addresses) {
    if (auto ep = client::ParseTcpAddress(a); !ep.ok()) {
      std::cerr << "--tcp: " << ep.error().ToString() << "\n";
      return false;
    }
  }
  // Over TCP a window is not a number of connections: --clients says how many carry it.
  if (clients_given) cfg->tcp_connections = cfg->clients;
  return true;
}

// Fills in what depends on the workload; false (message printed) on a usage error.
bool Finish(Config* cfg, bool clients_given, bool inflight_given) {
  if (cfg->endpoints.empty()) {
    std::cerr << "--endpoint: at least one endpoint\n";
    return false;
  }
  for (const auto& e : cfg->endpoints) {
    // Checked here so that opening a connection later cannot fail.
    if (auto ep = client::ParseEndpoint(e); !ep.ok()) {
      std::cerr << "--endpoint: " << ep.error().ToString() << "\n";
      return false;
    }
  }
  cfg->options.endpoint = cfg->endpoints.front();
  for (int pid : cfg->server_pids) {
    if (!std::ifstream("/proc/" + std::to_string(pid) + "/stat")) {
      std::cerr << "--server-pids: no process " << pid << "\n";
      return false;
    }
  }
  const std::string& w = cfg->workload;
  if (!FinishTcp(cfg, clients_given)) return false;
  if (cfg->peer_workload()) {
    if (clients_given && !cfg->tcp()) {
      std::cerr << "--clients: " << w
                << " opens --inflight/--batch senders and --prefetch/--batch receivers\n";
      return false;
    }
    if (w == "sync") {
      if (inflight_given && cfg->inflight != 1) {
        std::cerr << "--inflight: sync has one message in flight (use pub)\n";
        return false;
      }
      cfg->inflight = 1;
    }
    // cons: --batch is the receive batch; the others send single messages by default, as
    // the peers publish them, and receive up to 16 at a time.
    if (w == "cons") {
      if (cfg->batch) cfg->receive_batch = cfg->batch;
      cfg->batch = cfg->receive_batch;
    } else if (cfg->batch == 0) {
      cfg->batch = 1;
    }
    if (w == "sync" && cfg->batch > 1) {
      std::cerr << "--batch: sync sends one message at a time\n";
      return false;
    }
    if (w == "e2erate" && cfg->rate <= 0) cfg->rate = 2000;
    if ((w == "e2e" || w == "e2erate") && cfg->size < 20) {
      std::cerr << "--size: " << w << " writes a 19-digit send time into each body (>= 20)\n";
      return false;
    }
  } else if (cfg->batch == 0) {
    cfg->batch = w == "send" || cfg->topic_workload() ? 1 : 16;
  }
  if (cfg->duration <= 0) cfg->duration = cfg->timed() ? 10 : 1e7;
  if (w == "prefill" && cfg->messages <= 0) {
    std::cerr << "prefill needs --messages N\n";
    return false;
  }
  if (w == "produce-consume" && cfg->clients < 2) cfg->clients = 2;
  return true;
}

}  // namespace

std::optional<int> ParseCommandLine(int argc, char** argv, Config* cfg) {
  CLI::App app{"cmq-bench: load generator for CMQ-compatible queues and topics"};
  app.add_option("--endpoint", cfg->endpoints,
                 "server URL; several (repeated or comma-separated): connections are spread "
                 "over them")
      ->delimiter(',')
      ->envname("CMQ_ENDPOINT")
      ->capture_default_str();
  app.add_option("--protocol", cfg->protocol,
                 "how the peer workloads move messages: http, or tcp (the CMQ TCP protocol, "
                 "pipelined; set-up stays on HTTP)")
      ->check(CLI::IsMember({"http", "tcp"}))
      ->capture_default_str();
  app.add_option("--tcp", cfg->tcp_addresses,
                 "--protocol tcp: TCP listener HOST:PORT; several (repeated or comma-separated): "
                 "connections are spread over them")
      ->delimiter(',');
  app.add_option("--secret-id", cfg->options.secret_id)->envname("CMQ_SECRET_ID");
  app.add_option("--secret-key", cfg->options.secret_key)->envname("CMQ_SECRET_KEY");
  app.add_option("--queue", cfg->queue, "created if missing")->capture_default_str();
  app.add_option("--workload", cfg->workload)
      ->check(CLI::IsMember({"send", "batch-send", "drain", "prefill", "produce-consume", "publish",
                             "push", "pub", "sync", "cons", "e2e", "e2erate"}))
      ->capture_default_str();
  auto* clients = app.add_option("--clients", cfg->clients,
                                 "concurrent connections (--protocol tcp: per role, default 4)")
                      ->check(CLI::Range(1, 10000))
                      ->capture_default_str();
  app.add_option("--size", cfg->size, "message body bytes")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--batch", cfg->batch,
                 "messages per request, 1-16 (default 16 except send, publish, push, pub, sync, "
                 "e2e, e2erate)")
      ->check(CLI::Range(1, 16));
  app.add_option("--duration", cfg->duration,
                 "seconds (default 10 for timed workloads; a cap for prefill/drain/cons)");
  app.add_option("--messages", cfg->messages,
                 "prefill: messages to send; drain: backlog (default: read from the queue); "
                 "pub/sync/e2e/e2erate: a cap on messages sent");
  app.add_option("--wait", cfg->wait, "receive pollingWaitSeconds")
      ->check(CLI::Range(0, 30))
      ->capture_default_str();
  app.add_option("--threads", cfg->threads, "I/O threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--topic", cfg->topic, "publish/push: the topic (created if missing)")
      ->capture_default_str();
  app.add_option("--subscriptions", cfg->subscriptions,
                 "publish: queues subscribed to the topic; push: HTTP subscriptions")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--format", cfg->format, "push: notifyContentFormat")
      ->check(CLI::IsMember({"JSON", "SIMPLIFIED"}))
      ->capture_default_str();
  app.add_option("--push-wait", cfg->push_wait,
                 "push: seconds to wait after publishing for every message to be pushed")
      ->capture_default_str();
  app.add_flag("--keep", cfg->keep,
               "publish/push: keep the topic, subscriptions and queues (default: deleted)");
  auto* inflight =
      app.add_option("--inflight", cfg->inflight,
                     "pub/e2e/e2erate: messages sent and not yet acknowledged (senders = "
                     "inflight / batch)")
          ->check(CLI::Range(1, 10000))
          ->capture_default_str();
  app.add_option("--prefetch", cfg->prefetch,
                 "cons/e2e/e2erate: messages received and not yet deleted (receivers = "
                 "prefetch / 16)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--backlog", cfg->backlog, "cons: messages in the queue before draining")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--rate", cfg->rate,
                 "pub/e2e/e2erate: messages/s over all senders (e2erate default 2000)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--fresh", cfg->fresh,
               "pub/sync/cons/e2e/e2erate: delete and recreate the queue first");
  app.add_option("--server-pids", cfg->server_pids,
                 "server processes whose CPU time per message is reported (comma-separated)")
      ->delimiter(',');
  auto* json = app.add_option("--json", cfg->json_file,
                              "print the summary as one JSON line instead of text; --json FILE: "
                              "print text and append the JSON line to FILE")
                   ->expected(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  cfg->json_stdout = json->count() > 0 && cfg->json_file.empty();
  if (!Finish(cfg, clients->count() > 0, inflight->count() > 0)) return 2;
  return std::nullopt;
}

}  // namespace cmq::bench
