// cmqctl: a command-line client for CMQ queues (docs/cli.md).
// Exit codes: 0 success, 1 server error (or "no message"), 2 usage or transport error.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"

namespace {

using cmq::client::Client;
using cmq::client::Error;
using cmq::client::QueueAttributes;

struct Globals {
  cmq::client::ClientOptions options;
  bool json = false;
};

struct AttrFlags {
  std::optional<int64_t> visibility_timeout, polling_wait, max_msg_size, retention, rewind,
      max_heap;

  void AddTo(CLI::App* cmd) {
    cmd->add_option("--visibility-timeout", visibility_timeout, "visibilityTimeout (s)");
    cmd->add_option("--polling-wait", polling_wait, "pollingWaitSeconds (s)");
    cmd->add_option("--max-msg-size", max_msg_size, "maxMsgSize (bytes)");
    cmd->add_option("--retention", retention, "msgRetentionSeconds (s)");
    cmd->add_option("--rewind", rewind, "rewindSeconds (s)");
    cmd->add_option("--max-heap", max_heap, "maxMsgHeapNum");
  }
  QueueAttributes Attrs() const {
    QueueAttributes a;
    a.visibility_timeout = visibility_timeout;
    a.polling_wait_seconds = polling_wait;
    a.max_msg_size = max_msg_size;
    a.msg_retention_seconds = retention;
    a.rewind_seconds = rewind;
    a.max_msg_heap_num = max_heap;
    return a;
  }
};

// Prints the error and returns the exit code for it.
int Fail(const Error& e) {
  if (e.is_server()) {
    std::cerr << "error " << e.code << ": " << e.message << " (requestId " << e.request_id << ")\n";
    return 1;
  }
  std::cerr << e.ToString() << "\n";
  return 2;
}

// For results whose value we print ourselves unless --json.
template <typename T, typename Print>
int Report(const Globals& g, Client& c, const cmq::client::Result<T>& r, Print print) {
  if (!r.ok()) return Fail(r.error());
  if (g.json) {
    std::cout << c.last_response() << "\n";
  } else {
    print(r.value());
  }
  return 0;
}

int ReportVoid(const Globals& g, Client& c, const cmq::client::Result<void>& r) {
  if (!r.ok()) return Fail(r.error());
  if (g.json) std::cout << c.last_response() << "\n";
  return 0;
}

void PrintMessage(const cmq::client::Message& m) {
  std::cout << m.msg_id << "\t" << m.receipt_handle << "\t" << m.dequeue_count << "\t" << m.body
            << "\n";
}

int Receive(const Globals& g, Client& c, const std::string& queue, std::optional<int> wait,
            int count, bool del) {
  std::vector<cmq::client::Message> msgs;
  if (count <= 1) {
    auto r = c.ReceiveMessage(queue, wait);
    if (!r.ok()) {
      if (r.error().is_no_message()) {
        if (g.json) std::cout << c.last_response() << "\n";
        std::cerr << "no message\n";
        return 1;
      }
      return Fail(r.error());
    }
    msgs.push_back(std::move(*r));
  } else {
    auto r = c.BatchReceiveMessage(queue, count, wait);
    if (!r.ok()) {
      if (r.error().is_no_message()) {
        if (g.json) std::cout << c.last_response() << "\n";
        std::cerr << "no message\n";
        return 1;
      }
      return Fail(r.error());
    }
    msgs = std::move(*r);
  }
  if (g.json) {
    std::cout << c.last_response() << "\n";
  } else {
    for (const auto& m : msgs) PrintMessage(m);
  }
  if (!del) return 0;
  std::vector<uint64_t> handles;
  for (const auto& m : msgs) handles.push_back(m.receipt_handle);
  auto d = c.BatchDeleteMessage(queue, handles);
  if (!d.ok()) return Fail(d.error());
  for (const auto& e : *d) {
    std::cerr << "delete " << e.receipt_handle << ": error " << e.code << ": " << e.message << "\n";
  }
  return d->empty() ? 0 : 1;
}

int DeleteHandles(const Globals& g, Client& c, const std::string& queue,
                  const std::vector<uint64_t>& handles) {
  if (handles.size() == 1) return ReportVoid(g, c, c.DeleteMessage(queue, handles[0]));
  int rc = 0;
  for (size_t i = 0; i < handles.size(); i += 16) {
    std::span<const uint64_t> chunk(handles.data() + i, std::min<size_t>(16, handles.size() - i));
    auto d = c.BatchDeleteMessage(queue, chunk);
    if (!d.ok()) return Fail(d.error());
    if (g.json) std::cout << c.last_response() << "\n";
    for (const auto& e : *d) {
      std::cerr << "delete " << e.receipt_handle << ": error " << e.code << ": " << e.message
                << "\n";
      rc = 1;
    }
  }
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  Globals g;
  CLI::App app{"cmqctl: command-line client for CMQ-compatible queues"};
  app.require_subcommand(1);
  app.add_option("--endpoint", g.options.endpoint, "http://host:port")
      ->envname("CMQ_ENDPOINT")
      ->capture_default_str();
  app.add_option("--path", g.options.path, "request path")->capture_default_str();
  app.add_option("--secret-id", g.options.secret_id, "SecretId")->envname("CMQ_SECRET_ID");
  app.add_option("--secret-key", g.options.secret_key, "SecretKey (empty: do not sign)")
      ->envname("CMQ_SECRET_KEY");
  app.add_option("--signature-method", g.options.signature_method, "HmacSHA256 or HmacSHA1")
      ->capture_default_str();
  app.add_flag("--json", g.json, "print the server's raw JSON");

  std::string queue, body = "-", search;
  int offset = -1, limit = -1, delay = 0, count = 1;
  std::optional<int> wait;
  std::optional<int64_t> at_time, seconds_ago;
  bool del = false;
  std::vector<uint64_t> handles;
  AttrFlags create_flags, set_flags;

  auto* create = app.add_subcommand("create", "create a queue; prints its queueId");
  create->add_option("QUEUE", queue)->required();
  create_flags.AddTo(create);
  auto* list = app.add_subcommand("list", "list queues");
  list->add_option("--search", search, "substring of the name");
  list->add_option("--offset", offset);
  list->add_option("--limit", limit, "page size (max 50)");
  auto* attrs = app.add_subcommand("attributes", "print a queue's attributes");
  attrs->add_option("QUEUE", queue)->required();
  auto* set = app.add_subcommand("set-attributes", "change a queue's attributes");
  set->add_option("QUEUE", queue)->required();
  set_flags.AddTo(set);
  auto* delq = app.add_subcommand("delete-queue", "delete a queue");
  delq->add_option("QUEUE", queue)->required();
  auto* send = app.add_subcommand("send", "send a message; prints its msgId");
  send->add_option("QUEUE", queue)->required();
  send->add_option("BODY", body, "message body; '-' reads stdin")->required();
  send->add_option("--delay", delay, "delaySeconds");
  auto* recv = app.add_subcommand(
      "receive", "receive; prints msgId, receiptHandle, dequeueCount, body (tab-separated)");
  recv->add_option("QUEUE", queue)->required();
  recv->add_option("--wait", wait, "pollingWaitSeconds (default: the queue's)");
  recv->add_option("--count", count, "messages (1-16; >1 uses BatchReceiveMessage)")
      ->check(CLI::Range(1, 16));
  recv->add_flag("--delete", del, "delete what was received");
  auto* delm = app.add_subcommand("delete", "delete messages by receipt handle");
  delm->add_option("QUEUE", queue)->required();
  delm->add_option("HANDLE", handles)->required();
  auto* rewind = app.add_subcommand("rewind", "serve again messages enqueued since a time");
  rewind->add_option("QUEUE", queue)->required();
  auto* t = rewind->add_option("--time", at_time, "startConsumeTime (Unix seconds)");
  rewind->add_option("--seconds-ago", seconds_ago, "startConsumeTime = now - N")->excludes(t);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  Client c(g.options);
  if (*create) {
    return Report(g, c, c.CreateQueue(queue, create_flags.Attrs()),
                  [](const std::string& id) { std::cout << id << "\n"; });
  }
  if (*list) {
    return Report(g, c, c.ListQueue(search, offset, limit), [](const auto& l) {
      std::cout << "totalCount " << l.total_count << "\n";
      for (const auto& q : l.queues) std::cout << q.queue_id << "\t" << q.queue_name << "\n";
    });
  }
  if (*attrs) {
    auto r = c.Call("GetQueueAttributes", {{"queueName", queue}});
    if (!r.ok()) return Fail(r.error());
    if (g.json) {
      std::cout << c.last_response() << "\n";
      return 0;
    }
    for (const auto& [k, v] : r->items()) {
      if (k == "code" || k == "message" || k == "requestId") continue;
      std::cout << k << " " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
    }
    return 0;
  }
  if (*set) return ReportVoid(g, c, c.SetQueueAttributes(queue, set_flags.Attrs()));
  if (*delq) return ReportVoid(g, c, c.DeleteQueue(queue));
  if (*send) {
    if (body == "-") {
      body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    return Report(g, c, c.SendMessage(queue, body, delay),
                  [](uint64_t id) { std::cout << id << "\n"; });
  }
  if (*recv) return Receive(g, c, queue, wait, count, del);
  if (*delm) return DeleteHandles(g, c, queue, handles);
  if (*rewind) {
    if (!at_time && !seconds_ago) {
      std::cerr << "rewind: give --time UNIX_SECONDS or --seconds-ago N\n";
      return 2;
    }
    int64_t start = at_time ? *at_time : static_cast<int64_t>(std::time(nullptr)) - *seconds_ago;
    return ReportVoid(g, c, c.RewindQueue(queue, start));
  }
  return 2;
}
