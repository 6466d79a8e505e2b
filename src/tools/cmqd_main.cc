// cmqd: one OpenCMQ node. Opens (and recovers) the log under --data, serves the CMQ HTTP
// API 2.0 on --http, and logs a line containing "ready" once it serves. Alone, or as one
// node of a cluster (--node-id, --peers: docs/cluster.md): then it replicates through Raft
// with the others and forwards requests to the leader. SIGTERM/SIGINT shut it down
// cleanly: the listener closes, in-flight writes finish, the log is closed.

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>
#include <vector>

#include "api/config.h"
#include "api/dispatcher.h"
#include "api/forwarding.h"
#include "api/group_fanout.h"
#include "api/http_server.h"
#include "api/tcp_server.h"
#include "cluster/group_router.h"
#include "cluster/leader_balancer.h"
#include "cluster/node.h"
#include "cluster/peer_network.h"
#include "common/clock.h"
#include "common/thread_name.h"
#include "storage/file_system.h"

namespace {

bool IsLoopbackHost(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// The number of data groups is fixed when a node's data is created (a queue's group is a
// function of its name and this number): it is kept in <data>/GROUPS and checked on every
// start. Data written before groups existed holds one group.
cmq::Result<uint32_t> ResolveGroupCount(const std::string& data_dir, uint32_t requested,
                                        bool cluster) {
  namespace fs = std::filesystem;
  const fs::path file = fs::path(data_dir) / "GROUPS";
  std::error_code ec;
  uint32_t count = 0;
  if (fs::exists(file, ec)) {
    std::ifstream in(file);
    long long n = 0;
    if (!(in >> n) || n < 1 || n > 64) {
      return cmq::Status(cmq::ErrorCode::kCorruption, file.string() + " is not a group count");
    }
    count = static_cast<uint32_t>(n);
  } else if (fs::exists(fs::path(data_dir) / "group-1", ec)) {
    count = 1;
  }
  if (count != 0) {
    if (requested != 0 && requested != count) {
      return cmq::Status(cmq::ErrorCode::kInvalidArgument,
                         "the data in " + data_dir + " was created with " + std::to_string(count) +
                             " data groups, not " + std::to_string(requested));
    }
  } else {
    count = requested != 0 ? requested : (cluster ? 3 : 1);
  }
  if (!cluster && count != 1) {
    return cmq::Status(cmq::ErrorCode::kInvalidArgument,
                       "a standalone node has one data group (--groups is for clusters)");
  }
  fs::create_directories(data_dir, ec);
  std::ofstream out(file, std::ios::trunc);
  out << count << "\n";
  out.flush();
  if (!out) {
    return cmq::Status(cmq::ErrorCode::kIoError, "cannot write " + file.string());
  }
  return count;
}

// Checks the listen address of `flag` (HOST:PORT; false, logged, if it is not one). With
// no account configured, requests are not authenticated, so a host other than loopback is
// replaced by 127.0.0.1 (warning that `what` binds there). host gets the host it binds.
bool CheckListenAddress(const char* flag, const char* what, bool no_accounts, std::string& address,
                        std::string& host) {
  uint16_t port = 0;
  if (!cmq::api::SplitHostPort(address, host, port)) {
    spdlog::critical("{}: expected HOST:PORT, got '{}'", flag, address);
    return false;
  }
  if (no_accounts && !IsLoopbackHost(host)) {
    spdlog::warn("no account configured: {} binds to 127.0.0.1 instead of {}", what, host);
    address = "127.0.0.1:" + std::to_string(port);
    host = "127.0.0.1";
  }
  return true;
}

int Run(int argc, char** argv) {
  CLI::App app{"cmqd: an OpenCMQ node (CMQ HTTP API 2.0)"};
  std::string http, data, config_path;
  app.add_option("--http", http, "HOST:PORT to serve HTTP on (default 127.0.0.1:8080)");
  std::string https, tls_cert, tls_key;
  app.add_option("--https", https,
                 "HOST:PORT to serve the same API over HTTPS on (default: off; needs "
                 "--tls-cert and --tls-key)");
  app.add_option("--tls-cert", tls_cert, "PEM file of the HTTPS certificate chain");
  app.add_option("--tls-key", tls_key, "PEM file of the HTTPS private key");
  std::string peer_tls_cert, peer_tls_key, peer_tls_ca;
  app.add_option("--peer-tls-cert", peer_tls_cert,
                 "PEM file of this node's certificate for TLS between nodes (with "
                 "--peer-tls-key and --peer-tls-ca)");
  app.add_option("--peer-tls-key", peer_tls_key, "PEM file of that certificate's private key");
  app.add_option("--peer-tls-ca", peer_tls_ca,
                 "PEM file of the CA that signs every node's certificate: other nodes must show "
                 "one it signed");
  app.add_option("--data", data, "data directory (default ./data)");
  app.add_option("--config", config_path, "JSON config file (docs/config.md)");
  uint64_t node_id = 0;
  std::string peers, listen;
  app.add_option("--node-id", node_id, "this node's id in the cluster (with --peers)");
  app.add_option("--peers", peers,
                 "every node's node-to-node address: 1=HOST:PORT,2=HOST:PORT,3=HOST:PORT");
  app.add_option("--listen", listen,
                 "HOST:PORT to accept other nodes on (default: this node's --peers entry)");
  bool join = false;
  app.add_flag("--join", join,
               "join a running cluster: with an empty --data, wait to be added (cmqctl cluster "
               "add-node) instead of starting a new group");
  uint32_t groups = 0;
  app.add_option("--groups", groups,
                 "data groups of a new cluster (default 3; fixed once the cluster exists)")
      ->check(CLI::Range(1, 64));
  std::string tcp;
  std::vector<std::string> tcp_route;
  app.add_option("--tcp", tcp,
                 "HOST:PORT to serve the CMQ TCP protocol on (the official TCP SDK; default: "
                 "off)");
  app.add_option("--tcp-route", tcp_route,
                 "what QueryQueueRoute answers, HOST:PORT[,HOST:PORT...] (default: --tcp; in a "
                 "cluster, every node's TCP address)")
      ->delimiter(',');
  bool no_leader_balance = false;
  app.add_flag("--no-leader-balance", no_leader_balance,
               "do not hand group leadership to each group's preferred node");
  uint64_t snapshot_interval_bytes = 0, log_segment_bytes = 0;
  app.add_option("--snapshot-interval-bytes", snapshot_interval_bytes,
                 "take a snapshot after this many bytes applied (default 256 MiB)");
  app.add_option("--log-segment-bytes", log_segment_bytes, "log segment size (default 64 MiB)")
      ->check(CLI::Range(uint64_t{64} << 10, uint64_t{1} << 30));
  std::optional<uint64_t> snapshot_inline_bytes;
  app.add_option("--snapshot-inline-bytes", snapshot_inline_bytes,
                 "a snapshot carries the log entries it needs up to this many bytes; more are "
                 "streamed to the follower first (default 64 MiB)");
  CLI11_PARSE(app, argc, argv);

  cmq::api::ServerConfig config;
  if (!config_path.empty()) {
    auto loaded = cmq::api::LoadServerConfig(config_path);
    if (!loaded.ok()) {
      spdlog::critical("config: {}", loaded.status().ToString());
      return 2;
    }
    config = std::move(loaded).value();
  }
  if (!http.empty()) config.http = http;
  if (!https.empty()) config.https = https;
  if (!tls_cert.empty()) config.tls_cert_file = tls_cert;
  if (!tls_key.empty()) config.tls_key_file = tls_key;
  if (!peer_tls_cert.empty()) config.peer_tls_cert_file = peer_tls_cert;
  if (!peer_tls_key.empty()) config.peer_tls_key_file = peer_tls_key;
  if (!peer_tls_ca.empty()) config.peer_tls_ca_file = peer_tls_ca;
  if (!data.empty()) config.data_dir = data;
  if (node_id != 0) config.node_id = node_id;
  if (!peers.empty()) config.peers = peers;
  if (!listen.empty()) config.listen = listen;
  if (groups != 0) config.groups = groups;
  if (no_leader_balance) config.balance_leaders = false;
  if (!tcp.empty()) config.tcp = tcp;
  if (!tcp_route.empty()) config.tcp_route = tcp_route;

  std::string host;
  uint16_t port = 0;
  if (!cmq::api::SplitHostPort(config.http, host, port)) {
    spdlog::critical("--http: expected HOST:PORT, got '{}'", config.http);
    return 2;
  }
  if (config.accounts.empty()) {
    if (!IsLoopbackHost(host)) {
      spdlog::warn(
          "no account configured: signatures are not checked, so cmqd binds to "
          "127.0.0.1 instead of {} (configure accounts to serve other hosts)",
          host);
      config.http = "127.0.0.1:" + std::to_string(port);
    } else {
      spdlog::warn(
          "no account configured: requests are not authenticated; serving loopback "
          "only");
    }
  }

  std::shared_ptr<boost::asio::ssl::context> tls;
  if (!config.https.empty()) {
    std::string https_host;
    if (!CheckListenAddress("--https", "HTTPS", config.accounts.empty(), config.https,
                            https_host)) {
      return 2;
    }
    if (config.tls_cert_file.empty() || config.tls_key_file.empty()) {
      spdlog::critical(
          "--https needs --tls-cert and --tls-key (or tls_cert_file and "
          "tls_key_file in the config file)");
      return 2;
    }
    auto context = cmq::api::MakeServerTlsContext(config.tls_cert_file, config.tls_key_file);
    if (!context.ok()) {
      spdlog::critical("--https: {}", context.status().message());
      return 2;
    }
    tls = std::move(context).value();
  }

  if (!config.tcp.empty()) {
    std::string tcp_host;
    if (!CheckListenAddress("--tcp", "the TCP protocol", config.accounts.empty(), config.tcp,
                            tcp_host)) {
      return 2;
    }
    if (config.tcp_route.empty() &&
        (tcp_host == "0.0.0.0" || tcp_host == "::" || tcp_host == "[::]" || tcp_host.empty())) {
      spdlog::warn(
          "--tcp binds every address: set --tcp-route to the addresses TCP clients should "
          "connect to (QueryQueueRoute answers {} until then)",
          config.tcp);
    }
  }

  // Cluster mode: the transport is up before the node opens, so nothing it sends is lost
  // for want of a connection (the transport queues until peers connect).
  const bool cluster_mode = config.node_id != 0 || !config.peers.empty();
  auto group_count = ResolveGroupCount(config.data_dir, config.groups, cluster_mode);
  if (!group_count.ok()) {
    spdlog::critical("{}", group_count.status().message());
    return 2;
  }
  cmq::cluster::NodeOptions node_options;
  node_options.data_dir = config.data_dir;
  node_options.group_count = *group_count;
  if (snapshot_interval_bytes != 0) node_options.snapshot_interval_bytes = snapshot_interval_bytes;
  if (log_segment_bytes != 0) node_options.log_segment_bytes = log_segment_bytes;
  if (snapshot_inline_bytes) node_options.snapshot_inline_bytes = *snapshot_inline_bytes;
  std::unique_ptr<cmq::cluster::PeerNetwork> network;
  if (cluster_mode) {
    auto peer_list = cmq::api::ParsePeerList(config.peers);
    if (!peer_list.ok()) {
      spdlog::critical("--peers: {}", peer_list.status().message());
      return 2;
    }
    auto self = peer_list->find(config.node_id);
    if (config.node_id == 0 || self == peer_list->end()) {
      spdlog::critical("--node-id {} must be one of the ids in --peers", config.node_id);
      return 2;
    }
    cmq::cluster::PeerNetworkOptions net_options;
    // Nodes that disagree on the group count would place queues differently: the count is
    // folded into the id the handshake compares, so they refuse each other.
    net_options.transport.cluster_id =
        node_options.group_count == 1
            ? config.cluster_id
            : config.cluster_id ^ (uint64_t{node_options.group_count} << 56);
    net_options.transport.node_id = config.node_id;
    net_options.transport.direct_writes = config.peer_direct_writes;
    net_options.transport.tls_cert_file = config.peer_tls_cert_file;
    net_options.transport.tls_key_file = config.peer_tls_key_file;
    net_options.transport.tls_ca_file = config.peer_tls_ca_file;
    net_options.transport.listen_host = self->second.first;
    net_options.transport.listen_port = self->second.second;
    if (!config.listen.empty()) {
      if (!cmq::api::SplitHostPort(config.listen, net_options.transport.listen_host,
                                   net_options.transport.listen_port)) {
        spdlog::critical("--listen: expected HOST:PORT, got '{}'", config.listen);
        return 2;
      }
    }
    for (const auto& [id, address] : *peer_list) {
      node_options.voters.push_back(id);
      if (id != config.node_id) {
        net_options.transport.peers[id] =
            cmq::transport::PeerAddress{address.first, address.second};
      }
    }
    node_options.node_id = config.node_id;
    node_options.join = join;
    auto started = cmq::cluster::PeerNetwork::Start(net_options);
    if (!started.ok()) {
      // A port in use, or the peer TLS files (both name the cause).
      spdlog::critical("cannot start the node-to-node transport on {}:{}: {}",
                       net_options.transport.listen_host, net_options.transport.listen_port,
                       started.status().ToString());
      return 1;
    }
    network = std::move(started).value();
    spdlog::info("node {} of a {}-node cluster; other nodes connect on {}:{}", config.node_id,
                 peer_list->size(), net_options.transport.listen_host, network->listen_port());
  }

  auto fs = cmq::storage::NewPosixFileSystem();
  cmq::SystemClock clock;
  std::vector<std::unique_ptr<cmq::cluster::Node>> nodes;
  for (uint32_t g = 1; g <= node_options.group_count; ++g) {
    cmq::cluster::NodeOptions options = node_options;
    options.group_id = g;
    auto opened = cmq::cluster::Node::Open(fs.get(), &clock, options);
    if (!opened.ok()) {
      spdlog::critical("cannot open group {} in the data directory {}: {}", g, config.data_dir,
                       opened.status().ToString());
      if (network) network->Stop();
      return 1;
    }
    nodes.push_back(std::move(opened).value());
    spdlog::info("group {}: recovered {} log entries from {}", g, nodes.back()->recovered_entries(),
                 config.data_dir);
  }
  std::vector<cmq::cluster::Node*> node_ptrs;
  for (auto& n : nodes) node_ptrs.push_back(n.get());
  cmq::cluster::GroupRouter router(node_ptrs);

  boost::asio::io_context ioc;
  cmq::api::Dispatcher dispatcher(
      network ? static_cast<cmq::cluster::QueueService&>(router) : *nodes.front(), config, clock);
  std::unique_ptr<cmq::api::ForwardingHandler> forwarding;
  std::unique_ptr<cmq::cluster::LeaderBalancer> balancer;
  if (network) {
    forwarding = std::make_unique<cmq::api::ForwardingHandler>(dispatcher, router, *network, clock);
    // A topic's copy for a queue of another group goes there as a SendMessage, through
    // whichever node leads that group (built once: it runs for every such copy).
    cmq::api::GroupAccess route;
    route.count = router.group_count();
    route.run = [fwd = forwarding.get()](uint32_t g, cmq::api::HttpRequest r,
                                         cmq::api::ResponseCallback cb) {
      fwd->RunInGroup(g, std::move(r), std::move(cb));
    };
    for (cmq::cluster::Node* n : node_ptrs) {
      network->Attach(n, n->group_id());
      n->SetRemoteEnqueue([&router, route](std::string queue, std::string body,
                                           std::function<void(cmq::Status)> done) {
        const uint32_t g = router.GroupOfName(queue);
        cmq::api::EnqueueInGroup(route, g, std::move(queue), std::move(body), std::move(done));
      });
    }
    if (config.balance_leaders && node_ptrs.size() > 1) {
      balancer = std::make_unique<cmq::cluster::LeaderBalancer>(node_ptrs, *network);
    }
  }
  // Check-backs of transaction messages go to the producer's connection, if it is on this
  // node (each replica asks its own connections); a group's leader also passes them to the
  // nodes with no replica of the group, which ask theirs. Set once the TCP listener runs;
  // the listener outlives the nodes' threads (stop_all joins them first).
  std::atomic<cmq::api::TcpServer*> check_backs{nullptr};
  auto ask_here = [&check_backs](const cmq::mq::TransactionCheck& check) {
    if (auto* tcp = check_backs.load(std::memory_order_acquire)) {
      tcp->AskProducer(check.producer, check.queue_name, check.msg_id);
    }
  };
  if (network) network->SetCheckBackHandler(ask_here);
  for (auto& n : nodes) {
    n->SetTransactionCheckListener(
        [ask_here, node = n.get(), net = network.get()](const cmq::mq::TransactionCheck& check) {
          ask_here(check);
          if (net && node->leader_id() == node->node_id()) {
            net->SendCheckBackToNonMembers(node->group_id(), check);
          }
        });
  }
  for (auto& n : nodes) n->Start();
  if (balancer) balancer->Start();
  auto stop_all = [&] {
    if (balancer) balancer->Stop();
    // The network first: no forwarded request or Raft message reaches a node any more.
    if (network) network->Stop();
    for (auto& n : nodes) n->Stop();
  };

  cmq::api::HttpServer server(ioc, config.http,
                              forwarding ? forwarding->AsHandler() : dispatcher.AsHandler(),
                              cmq::api::HttpServerOptions::FromConfig(config));
  if (cmq::Status st = server.Start(); !st.ok()) {
    spdlog::critical("cannot serve HTTP on {}: {}", config.http, st.ToString());
    stop_all();
    return 1;
  }
  std::unique_ptr<cmq::api::HttpServer> https_server;
  if (tls) {
    cmq::api::HttpServerOptions https_options = cmq::api::HttpServerOptions::FromConfig(config);
    https_options.tls = tls;
    https_server = std::make_unique<cmq::api::HttpServer>(
        ioc, config.https, forwarding ? forwarding->AsHandler() : dispatcher.AsHandler(),
        https_options);
    if (cmq::Status st = https_server->Start(); !st.ok()) {
      spdlog::critical("cannot serve HTTPS on {}: {}", config.https, st.ToString());
      server.Stop();
      stop_all();
      return 1;
    }
  }
  std::unique_ptr<cmq::api::TcpServer> tcp_server;
  if (!config.tcp.empty()) {
    tcp_server = std::make_unique<cmq::api::TcpServer>(
        ioc, config.tcp, forwarding ? forwarding->AsHandler() : dispatcher.AsHandler(), config,
        clock, cmq::api::TcpServerOptions::FromConfig(config));
    if (cmq::Status st = tcp_server->Start(); !st.ok()) {
      spdlog::critical("cannot serve the TCP protocol on {}: {}", config.tcp, st.ToString());
      server.Stop();
      if (https_server) https_server->Stop();
      stop_all();
      return 1;
    }
    check_backs.store(tcp_server.get(), std::memory_order_release);
  }
  std::string bound_host;
  uint16_t ignored = 0;
  cmq::api::SplitHostPort(config.http, bound_host, ignored);
  std::string listeners_note;
  if (https_server) {
    std::string https_host;
    cmq::api::SplitHostPort(config.https, https_host, ignored);
    listeners_note = fmt::format(", HTTPS on {}:{}", https_host, https_server->port());
  }
  if (tcp_server) {
    std::string tcp_host;
    cmq::api::SplitHostPort(config.tcp, tcp_host, ignored);
    listeners_note +=
        fmt::format(" and the CMQ TCP protocol on {}:{}", tcp_host, tcp_server->port());
  }
  spdlog::info("cmqd ready: serving the CMQ HTTP API on {}:{}{} (data in {}, {} data group{})",
               bound_host, server.port(), listeners_note, config.data_dir, nodes.size(),
               nodes.size() == 1 ? "" : "s");

  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    spdlog::info("signal {}: shutting down", sig);
    server.Stop();
    if (https_server) https_server->Stop();
    if (tcp_server) tcp_server->Stop();
  });

  unsigned threads = config.io_threads != 0 ? config.io_threads
                                            : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) {
    pool.emplace_back([&ioc, i] {
      cmq::SetThreadName("io-" + std::to_string(i));
      ioc.run();
    });
  }
  ioc.run();  // the main thread keeps the process's name (cmqd), which ps and pkill show
  for (auto& t : pool) t.join();
  stop_all();
  spdlog::info("cmqd stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return Run(argc, argv);
}
