// cmqctl: a command-line client for CMQ queues, topics and subscriptions (docs/cli.md).
// Exit codes: 0 success, 1 server error (or "no message"), 2 usage or transport error.

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"

namespace {

using cmq::client::Client;
using cmq::client::Error;
using cmq::client::QueueAttributes;
using cmq::client::SubscriptionOptions;
using cmq::client::TopicAttributes;

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

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ",";
    out += item;
  }
  return out;
}

void PrintTopicMeta(const cmq::client::TopicMeta& m) {
  if (!m.topic_id.empty()) std::cout << "topicId " << m.topic_id << "\n";
  if (!m.topic_name.empty()) std::cout << "topicName " << m.topic_name << "\n";
  std::cout << "msgCount " << m.msg_count << "\n"
            << "maxMsgSize " << m.max_msg_size << "\n"
            << "msgRetentionSeconds " << m.msg_retention_seconds << "\n"
            << "createTime " << m.create_time << "\n"
            << "lastModifyTime " << m.last_modify_time << "\n"
            << "filterType " << m.filter_type << "\n";
}

void PrintSubscriptionMeta(const cmq::client::SubscriptionMeta& m) {
  if (!m.subscription_id.empty()) std::cout << "subscriptionId " << m.subscription_id << "\n";
  if (!m.subscription_name.empty()) {
    std::cout << "subscriptionName " << m.subscription_name << "\n";
  }
  std::cout << "topicOwner " << m.topic_owner << "\n"
            << "msgCount " << m.msg_count << "\n"
            << "protocol " << m.protocol << "\n"
            << "endpoint " << m.endpoint << "\n"
            << "notifyStrategy " << m.notify_strategy << "\n"
            << "notifyContentFormat " << m.notify_content_format << "\n"
            << "createTime " << m.create_time << "\n"
            << "lastModifyTime " << m.last_modify_time << "\n"
            << "filterTag " << Join(m.filter_tags) << "\n"
            << "bindingKey " << Join(m.binding_keys) << "\n";
}

// Asks any node; the leader answers (the request is forwarded to it) when there is one.
int ClusterStatus(const Globals& g, Client& c) {
  auto r = c.Call("ClusterStatus", {});
  if (!r.ok()) return Fail(r.error());
  if (g.json) {
    std::cout << c.last_response() << "\n";
    return 0;
  }
  const nlohmann::json& j = *r;
  for (const auto& grp : j.value("groups", nlohmann::json::array())) {
    const uint64_t last = grp.value("lastIndex", 0ull);
    std::cout << "group " << grp.value("groupId", 0ull) << ": leader "
              << (grp.value("leaderId", 0ull) == 0 ? std::string("none")
                                                   : std::to_string(grp.value("leaderId", 0ull)))
              << ", term " << grp.value("term", 0ull) << ", commit index "
              << grp.value("commitIndex", 0ull) << ", last index " << last << " (as node "
              << grp.value("reportedBy", j.value("nodeId", 0ull)) << " sees it)\n";
    for (const auto& rep : grp.value("replicas", nlohmann::json::array())) {
      std::cout << "  node " << rep.value("nodeId", 0ull);
      if (rep.value("learner", false)) std::cout << " (learner)";
      if (rep.contains("matchIndex")) {
        const uint64_t lag = rep.value("lag", 0ull);
        std::cout << ": " << rep.value("state", std::string()) << ", match "
                  << rep.value("matchIndex", 0ull) << ", "
                  << (lag == 0 ? std::string("up to date")
                               : "lagging by " + std::to_string(lag) + " entries");
      }
      if (rep.contains("stream")) {
        const nlohmann::json& st = rep["stream"];
        std::cout << ", receiving the snapshot at " << st.value("snapshotIndex", 0ull)
                  << ": staged " << st.value("stagedEntries", 0ull) << " of "
                  << st.value("totalEntries", 0ull) << " log entries";
      }
      std::cout << "\n";
    }
  }
  return 0;
}

// The lag of replica `id` in `group` as its leader reports it; nullopt if unknown (no
// leader answered, or the replica is not a member).
std::optional<uint64_t> ReplicaLag(Client& c, uint32_t group, uint64_t id) {
  auto r = c.Call("ClusterStatus", {});
  if (!r.ok()) return std::nullopt;
  for (const auto& grp : r->value("groups", nlohmann::json::array())) {
    if (grp.value("groupId", 0u) != group) continue;
    for (const auto& rep : grp.value("replicas", nlohmann::json::array())) {
      if (rep.value("nodeId", 0ull) == id && rep.contains("lag")) return rep.value("lag", 0ull);
    }
  }
  return std::nullopt;
}

// A membership action, retried while leadership moves (6000 "... retry").
cmq::client::Result<nlohmann::json> CallRetrying(Client& c, std::string_view action,
                                                 const cmq::FormParams& params) {
  for (int attempt = 0;; ++attempt) {
    auto r = c.Call(action, params);
    if (r.ok() || attempt == 20 || r.error().message.find("retry") == std::string::npos) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

// The groups an action is for: `group` alone, or every group of the cluster (0).
std::vector<uint32_t> GroupsOf(Client& c, uint32_t group) {
  if (group != 0) return {group};
  std::vector<uint32_t> all;
  auto r = c.Call("ClusterStatus", {});
  if (r.ok()) {
    for (const auto& grp : r->value("groups", nlohmann::json::array())) {
      all.push_back(grp.value("groupId", 0u));
    }
  }
  if (all.empty()) all.push_back(1);
  return all;
}

int AddNode(const Globals& g, Client& c, uint32_t group, uint64_t id, const std::string& address,
            int64_t timeout_s) {
  const std::string node = std::to_string(id);
  const std::string gid = std::to_string(group);
  auto added =
      CallRetrying(c, "AddNode", {{"nodeId", node}, {"address", address}, {"groupId", gid}});
  if (!added.ok()) return Fail(added.error());
  std::cout << "group " << group << ": node " << id
            << " added as a learner; waiting for it to catch up\n";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (true) {
    auto lag = ReplicaLag(c, group, id);
    if (lag && *lag == 0) break;
    if (std::chrono::steady_clock::now() > deadline) {
      std::cerr << "node " << id << " did not catch up within " << timeout_s
                << " s (is it running with --join?); it stays a learner: run add-node "
                   "again or remove-node\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  auto promoted = CallRetrying(c, "PromoteNode", {{"nodeId", node}, {"groupId", gid}});
  if (!promoted.ok()) return Fail(promoted.error());
  if (g.json) std::cout << c.last_response() << "\n";
  std::cout << "group " << group << ": node " << id << " is a voter\n";
  return 0;
}

int RemoveNode(Client& c, uint32_t group, uint64_t id) {
  auto r = CallRetrying(c, "RemoveNode",
                        {{"nodeId", std::to_string(id)}, {"groupId", std::to_string(group)}});
  if (!r.ok()) return Fail(r.error());
  std::cout << "group " << group << ": node " << id << " removed\n";
  return 0;
}

std::string ReadBody(std::string body) {
  if (body == "-") {
    body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  return body;
}

}  // namespace

int main(int argc, char** argv) {
  Globals g;
  CLI::App app{"cmqctl: command-line client for CMQ-compatible queues"};
  app.require_subcommand(1);
  app.add_option("--endpoint", g.options.endpoint, "http://host:port or https://host:port")
      ->envname("CMQ_ENDPOINT")
      ->capture_default_str();
  app.add_option("--ca-file", g.options.tls_ca_file,
                 "https: PEM file of the certificate authorities to trust (default: the "
                 "system's)")
      ->envname("CMQ_CA_FILE");
  bool insecure = false;
  app.add_flag("--insecure", insecure,
               "https: do not check the server's certificate (self-signed test servers only)");
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

  // Topics and subscriptions (spec §11).
  std::string topic, subscription, protocol, endpoint;
  std::optional<int64_t> topic_max_msg_size;
  std::optional<int> filter_type;
  std::vector<std::string> tags, binding_keys;
  std::optional<std::string> routing_key, strategy, format;
  auto* topic_cmd = app.add_subcommand("topic", "manage topics");
  topic_cmd->require_subcommand(1);
  auto* topic_create = topic_cmd->add_subcommand("create", "create a topic; prints its topicId");
  topic_create->add_option("TOPIC", topic)->required();
  topic_create->add_option("--max-msg-size", topic_max_msg_size, "maxMsgSize (bytes)");
  topic_create->add_option("--filter-type", filter_type, "1 = tags (default), 2 = routing keys")
      ->check(CLI::IsMember({1, 2}));
  auto* topic_list = topic_cmd->add_subcommand("list", "list topics");
  topic_list->add_option("--search", search, "substring of the name");
  topic_list->add_option("--offset", offset);
  topic_list->add_option("--limit", limit, "page size (max 50)");
  auto* topic_attrs = topic_cmd->add_subcommand("attributes", "print a topic's attributes");
  topic_attrs->add_option("TOPIC", topic)->required();
  auto* topic_set = topic_cmd->add_subcommand("set-attributes", "change a topic's maxMsgSize");
  topic_set->add_option("TOPIC", topic)->required();
  topic_set->add_option("--max-msg-size", topic_max_msg_size, "maxMsgSize (bytes)")->required();
  auto* topic_delete = topic_cmd->add_subcommand("delete", "delete a topic (no subscriptions)");
  topic_delete->add_option("TOPIC", topic)->required();
  auto* publish = app.add_subcommand("publish", "publish a message; prints its msgId");
  publish->add_option("TOPIC", topic)->required();
  publish->add_option("BODY", body, "message body; '-' reads stdin")->required();
  publish->add_option("--tag", tags, "msgTag (repeatable, at most 5)");
  publish->add_option("--routing-key", routing_key, "routingKey (filterType 2 topics)");
  auto* subscribe = app.add_subcommand("subscribe", "subscribe; prints the subscriptionId");
  subscribe->add_option("TOPIC", topic)->required();
  subscribe->add_option("NAME", subscription)->required();
  subscribe->add_option("--protocol", protocol, "queue or http")
      ->required()
      ->check(CLI::IsMember({"queue", "http"}));
  subscribe->add_option("--endpoint", endpoint, "a queue name or an http:// URL")->required();
  subscribe->add_option("--tag", tags, "filterTag (repeatable, at most 5)");
  subscribe->add_option("--binding-key", binding_keys, "bindingKey (repeatable, at most 5)");
  subscribe->add_option("--strategy", strategy, "notifyStrategy")
      ->check(CLI::IsMember({"BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY"}));
  subscribe->add_option("--format", format, "notifyContentFormat")
      ->check(CLI::IsMember({"JSON", "SIMPLIFIED"}));
  auto* subs = app.add_subcommand("subscriptions", "list a topic's subscriptions");
  subs->add_option("TOPIC", topic)->required();
  subs->add_option("--search", search, "substring of the name");
  subs->add_option("--offset", offset);
  subs->add_option("--limit", limit, "page size (max 50)");
  auto* sub_attrs = app.add_subcommand("subscription", "print a subscription's attributes");
  sub_attrs->add_option("TOPIC", topic)->required();
  sub_attrs->add_option("NAME", subscription)->required();
  auto* unsubscribe = app.add_subcommand("unsubscribe", "delete a subscription");
  unsubscribe->add_option("TOPIC", topic)->required();
  unsubscribe->add_option("NAME", subscription)->required();
  auto* clear_tags = app.add_subcommand("clear-tags", "remove a subscription's filter tags");
  clear_tags->add_option("TOPIC", topic)->required();
  clear_tags->add_option("NAME", subscription)->required();

  auto* cluster_cmd = app.add_subcommand("cluster", "the cluster (docs/cluster.md)");
  cluster_cmd->require_subcommand(1);
  auto* cluster_status = cluster_cmd->add_subcommand(
      "status", "each group's leader, term, commit index and lagging replicas");
  uint64_t transfer_to = 0;
  auto* cluster_transfer =
      cluster_cmd->add_subcommand("transfer", "make node NODE_ID the leader of a group");
  cluster_transfer->add_option("NODE_ID", transfer_to)->required();
  uint64_t member = 0;
  std::string member_address;
  int64_t catch_up_seconds = 300;
  auto* add_node = cluster_cmd->add_subcommand(
      "add-node",
      "add node NODE_ID (started with --join) as a learner, wait until it caught "
      "up, then make it a voter");
  add_node->add_option("NODE_ID", member)->required();
  add_node->add_option("ADDRESS", member_address, "HOST:PORT the other nodes reach it on")
      ->required();
  add_node->add_option("--timeout", catch_up_seconds, "seconds to wait for it to catch up");
  auto* remove_node = cluster_cmd->add_subcommand("remove-node", "remove node NODE_ID");
  remove_node->add_option("NODE_ID", member)->required();
  // Membership and leadership are per data group; add-node and remove-node act on every
  // group unless --group names one (to move one group's replica: add-node --group G on the
  // new node, then remove-node --group G on the old one).
  uint32_t member_group = 0;
  for (CLI::App* sub : {add_node, remove_node}) {
    sub->add_option("--group", member_group, "only this data group (default: every group)");
  }
  uint32_t transfer_group = 1;
  cluster_transfer->add_option("--group", transfer_group, "the data group (default 1)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  g.options.tls_verify = !insecure;

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
    body = ReadBody(std::move(body));
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
  auto print_id = [](const std::string& id) { std::cout << id << "\n"; };
  if (*topic_create) {
    TopicAttributes a;
    a.max_msg_size = topic_max_msg_size;
    a.filter_type = filter_type;
    return Report(g, c, c.CreateTopic(topic, a), print_id);
  }
  if (*topic_list) {
    return Report(g, c, c.ListTopic(search, offset, limit), [](const auto& l) {
      std::cout << "totalCount " << l.total_count << "\n";
      for (const auto& t : l.topics) std::cout << t.topic_id << "\t" << t.topic_name << "\n";
    });
  }
  if (*topic_attrs) return Report(g, c, c.GetTopicAttributes(topic), PrintTopicMeta);
  if (*topic_set) {
    TopicAttributes a;
    a.max_msg_size = topic_max_msg_size;
    return ReportVoid(g, c, c.SetTopicAttributes(topic, a));
  }
  if (*topic_delete) return ReportVoid(g, c, c.DeleteTopic(topic));
  if (*publish) {
    body = ReadBody(std::move(body));
    std::optional<std::string_view> key;
    if (routing_key) key = *routing_key;
    return Report(g, c, c.PublishMessage(topic, body, tags, key),
                  [](uint64_t id) { std::cout << id << "\n"; });
  }
  if (*subscribe) {
    SubscriptionOptions o;
    o.notify_strategy = strategy;
    o.notify_content_format = format;
    o.filter_tags = tags;
    o.binding_keys = binding_keys;
    return Report(g, c, c.Subscribe(topic, subscription, protocol, endpoint, o), print_id);
  }
  if (*subs) {
    return Report(g, c, c.ListSubscriptionByTopic(topic, search, offset, limit), [](const auto& l) {
      std::cout << "totalCount " << l.total_count << "\n";
      for (const auto& s : l.subscriptions) {
        std::cout << s.subscription_id << "\t" << s.subscription_name << "\t" << s.protocol << "\t"
                  << s.endpoint << "\n";
      }
    });
  }
  if (*sub_attrs) {
    return Report(g, c, c.GetSubscriptionAttributes(topic, subscription), PrintSubscriptionMeta);
  }
  if (*cluster_status) return ClusterStatus(g, c);
  if (*add_node) {
    for (uint32_t group : GroupsOf(c, member_group)) {
      if (int rc = AddNode(g, c, group, member, member_address, catch_up_seconds); rc != 0) {
        return rc;
      }
    }
    return 0;
  }
  if (*remove_node) {
    for (uint32_t group : GroupsOf(c, member_group)) {
      if (int rc = RemoveNode(c, group, member); rc != 0) return rc;
    }
    return 0;
  }
  if (*cluster_transfer) {
    auto r = c.Call("TransferLeadership", {{"nodeId", std::to_string(transfer_to)},
                                           {"groupId", std::to_string(transfer_group)}});
    if (!r.ok()) return Fail(r.error());
    if (g.json) std::cout << c.last_response() << "\n";
    return 0;
  }
  if (*unsubscribe) return ReportVoid(g, c, c.Unsubscribe(topic, subscription));
  if (*clear_tags) return ReportVoid(g, c, c.ClearSubscriptionFilterTags(topic, subscription));
  return 2;
}
