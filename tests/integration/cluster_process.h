#pragma once
// A 3-node cmqd cluster of real processes on loopback, for the cluster tests: free ports
// for HTTP and for the nodes' own connections, one data directory per node (kept across
// restarts), and helpers to ask who leads and to wait until every replica caught up.

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cmqd_process.h"
#include "http_client.h"
#include "test_support/free_port.h"

namespace cmq::testing {

class ClusterProcesses {
 public:
  // `nodes` form the group; `spares` more (ids nodes+1...) are started with --join, to be
  // added at run time (they know every node's address; the group learns theirs from
  // AddNode).
  // with_tcp: every node also serves the CMQ TCP protocol (tcp_port), and QueryQueueRoute
  // answers all of their addresses.
  explicit ClusterProcesses(int nodes = 3, std::vector<std::string> extra_args = {}, int spares = 0,
                            bool with_tcp = false)
      : dir_(MakeTempDir("cmq-cluster")) {
    std::string peers, all_peers, tcp_route;
    for (int i = 1; i <= nodes + spares; ++i) {
      std::string address = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
      peer_addresses_.push_back(address);
      if (with_tcp) {
        tcp_ports_.push_back(FreeLoopbackPort());
        tcp_route += std::string(tcp_route.empty() ? "" : ",") +
                     "127.0.0.1:" + std::to_string(tcp_ports_.back());
      }
      std::string entry = std::to_string(i) + "=" + address;
      if (i <= nodes) peers += (peers.empty() ? "" : ",") + entry;
      all_peers += (all_peers.empty() ? "" : ",") + entry;
    }
    for (int i = 1; i <= nodes + spares; ++i) {
      std::vector<std::string> args = {"--node-id", std::to_string(i), "--peers",
                                       i <= nodes ? peers : all_peers};
      if (i > nodes) args.push_back("--join");
      if (with_tcp) {
        args.insert(
            args.end(),
            {"--tcp", "127.0.0.1:" + std::to_string(tcp_ports_.at(static_cast<size_t>(i - 1))),
             "--tcp-route", tcp_route});
      }
      args.insert(args.end(), extra_args.begin(), extra_args.end());
      nodes_.push_back(
          std::make_unique<CmqdProcess>(dir_ + "/n" + std::to_string(i), std::move(args)));
    }
    group_size_ = nodes;
  }

  // Starts the group's nodes (not the spares).
  void StartAll() {
    for (int i = 0; i < group_size_; ++i) nodes_[static_cast<size_t>(i)]->Start();
  }
  // The node-to-node address of node `id`.
  const std::string& peer_address(int id) const {
    return peer_addresses_.at(static_cast<size_t>(id - 1));
  }
  int size() const { return static_cast<int>(nodes_.size()); }
  // Node ids are 1-based, as in --node-id.
  CmqdProcess& node(int id) { return *nodes_.at(static_cast<size_t>(id - 1)); }
  int port(int id) { return node(id).port(); }
  // Node `id`'s CMQ TCP protocol port (with_tcp only).
  int tcp_port(int id) const { return tcp_ports_.at(static_cast<size_t>(id - 1)); }

  // The group status as node `id` answers it (forwarded to the leader when there is one).
  nlohmann::json Status(int id) {
    HttpClient c(port(id));
    return c.Call("ClusterStatus", {});
  }

  // The status of `group` in a ClusterStatus answer (null if absent).
  static nlohmann::json GroupOf(const nlohmann::json& status, int group) {
    for (const auto& g : status.value("groups", nlohmann::json::array())) {
      if (g.value("groupId", 0) == group) return g;
    }
    return nullptr;
  }

  // Waits until the running node `ask` reports a leader of `group` that answered for it;
  // returns its id (0: timeout).
  int WaitForLeader(int ask, std::chrono::milliseconds timeout = std::chrono::seconds(15),
                    int group = 1) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        nlohmann::json g = GroupOf(Status(ask), group);
        if (!g.is_null() && g["role"] == "leader") return g["leaderId"].get<int>();
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  }
  int WaitForGroupLeader(int ask, int group) {
    return WaitForLeader(ask, std::chrono::seconds(15), group);
  }

  // Waits until the leader of every group (or of `group` alone) reports every replica in
  // the replicate state with nothing to catch up on.
  bool WaitAllCaughtUp(int ask, std::chrono::milliseconds timeout = std::chrono::seconds(30),
                       int group = 0) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        nlohmann::json s = Status(ask);
        bool all = s["code"] == 0 && !s["groups"].empty();
        for (const auto& g : s["groups"]) {
          if (group != 0 && g["groupId"] != group) continue;
          all = all && g["role"] == "leader";
          for (const auto& r : g["replicas"]) all = all && r.contains("lag") && r["lag"] == 0;
        }
        if (all) return true;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

 private:
  std::string dir_;
  std::vector<std::unique_ptr<CmqdProcess>> nodes_;
  std::vector<std::string> peer_addresses_;
  std::vector<int> tcp_ports_;
  int group_size_ = 0;
};

// An action through node `via`, retried (for up to 10 s) on 6000 "... retry" and on lost
// answers: what a client does during an election, a failover or a leadership transfer.
inline nlohmann::json CallRetrying(ClusterProcesses& c, int via, const std::string& action,
                                   FormParams params) {
  nlohmann::json r;
  for (int attempt = 0; attempt < 100; ++attempt) {
    try {
      HttpClient client(c.port(via));
      r = client.Call(action, params);
      if (r["code"] != 6000) return r;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return r;
}

}  // namespace cmq::testing
