#include "unit/raft/interaction_env.h"

#include <sstream>

#include "common/assert.h"
#include "raft/describe.h"

namespace cmq::raft::testing {
namespace {

NodeId ToId(const std::string& s) {
  return std::stoull(s);
}

std::set<NodeId> ToIds(const std::vector<std::string>& v) {
  std::set<NodeId> out;
  for (const auto& s : v) out.insert(ToId(s));
  return out;
}

std::string Indent(const std::string& s) {
  return "  " + s + "\n";
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

InteractionEnv::Node& InteractionEnv::Get(NodeId id) {
  auto it = nodes_.find(id);
  CMQ_ASSERT(it != nodes_.end(), "scenario names an unknown node");
  return it->second;
}

std::string InteractionEnv::Handle(const TestCase& tc) {
  auto pos = tc.Positional();
  auto id_at = [&](size_t i) { return ToId(pos.at(i)); };
  const std::string& c = tc.command;
  if (c == "add-nodes") return AddNodes(tc);
  if (c == "campaign") {
    Get(id_at(0)).raw->Campaign();
    return "ok";
  }
  if (c == "propose") {
    auto r = Get(id_at(0)).raw->Propose(MakePayload(pos.at(1)));
    return r.ok() ? "ok index=" + std::to_string(*r) : "error: " + r.status().message();
  }
  if (c == "propose-conf-change") return ProposeConfChange(id_at(0), tc);
  if (c == "transfer-leadership") {
    Status st = Get(ToId(tc.Value("from", "0"))).raw->TransferLeadership(ToId(tc.Value("to", "0")));
    return st.ok() ? "ok" : "error: " + st.message();
  }
  if (c == "report-unreachable") {
    Get(id_at(0)).raw->ReportUnreachable(id_at(1));
    return "ok";
  }
  if (c == "report-snapshot") {
    Get(id_at(0)).raw->ReportSnapshot(id_at(1), pos.size() < 3 || pos[2] == "ok");
    return "ok";
  }
  if (c == "tick") return Tick(id_at(0), pos.size() > 1 ? std::stoi(pos[1]) : 1);
  if (c == "tick-heartbeat") {
    return Tick(id_at(0), Get(id_at(0)).raw->raft().config().heartbeat_tick);
  }
  if (c == "tick-election") return TickElection(id_at(0));
  if (c == "process-ready") {
    std::string out;
    for (const auto& s : pos) out += ProcessReady(ToId(s));
    return out;
  }
  if (c == "deliver-msgs") return DeliverMsgs(tc);
  if (c == "stabilize") return Stabilize(ToIds(pos));
  if (c == "partition") return Partition(tc);
  if (c == "heal") {
    partition_group_.clear();
    return "ok";
  }
  if (c == "status") return StatusOf(id_at(0));
  if (c == "raft-log") return RaftLog(id_at(0));
  if (c == "raft-state") return RaftState();
  if (c == "compact") return Compact(id_at(0), std::stoull(pos.at(1)));
  if (c == "can-serve-read") return Get(id_at(0)).raw->CanServeReadLocally() ? "true" : "false";
  if (c == "app-state") return "applied=[" + Join(Get(id_at(0)).applied) + "]";
  return "unknown command: " + c;
}

std::string InteractionEnv::AddNodes(const TestCase& tc) {
  const int n = std::stoi(tc.Positional().at(0));
  ConfState cs{ToIds(tc.Values("voters")), ToIds(tc.Values("learners"))};
  // A configuration is bootstrapped as a snapshot at index 1 (see Raft's constructor);
  // nodes created without one start empty and wait for the leader's snapshot.
  const bool empty = cs.voters.empty() && cs.learners.empty();
  const Index index = std::stoull(tc.Value("index", empty ? "0" : "1"));
  std::string out;
  for (int i = 0; i < n; ++i) {
    NodeId id = nodes_.empty() ? 1 : nodes_.rbegin()->first + 1;
    Node node;
    node.storage = std::make_unique<MemoryStorage>();
    Snapshot snap{SnapshotMeta{index, index > 0 ? 1u : 0u, cs}, nullptr};
    CMQ_ASSERT(node.storage->ApplySnapshot(snap).ok(), "bootstrap snapshot");
    if (index > 0) node.storage->SetHardState(HardState{1, kNoNode, index});
    Config cfg;
    cfg.id = id;
    cfg.seed = std::stoull(tc.Value("seed", "0")) * 1000 + id;
    cfg.pre_vote = tc.Value("prevote", "true") == "true";
    cfg.check_quorum = tc.Value("checkquorum", "true") == "true";
    // The scripts were written with the commit announced at once (as etcd's raft does), so
    // each step shows the followers commit; lazy_commit.txt covers the default.
    cfg.announce_commit_at_once = tc.Value("announcecommit", "true") == "true";
    cfg.election_tick = std::stoi(tc.Value("election", "10"));
    cfg.heartbeat_tick = std::stoi(tc.Value("heartbeat", "1"));
    cfg.max_inflight_msgs = std::stoull(tc.Value("max-inflight", "256"));
    cfg.max_msg_bytes = std::stoull(tc.Value("max-msg-bytes", "1048576"));
    cfg.max_uncommitted_bytes = std::stoull(tc.Value("max-uncommitted", "67108864"));
    node.raw = std::make_unique<RawNode>(cfg, node.storage.get());
    out += "node " + std::to_string(id) + ": " + DescribeConfState(cs) +
           " first=" + std::to_string(node.storage->FirstIndex()) +
           " last=" + std::to_string(node.storage->LastIndex()) + "\n";
    nodes_.emplace(id, std::move(node));
  }
  return out;
}

std::string InteractionEnv::ProcessReady(NodeId id) {
  Node& node = Get(id);
  std::string out = "> " + std::to_string(id) + " handling Ready\n";
  if (!node.raw->HasReady()) return out + "  <empty>\n";
  Ready rd = node.raw->GetReady();
  const ConfState before = node.raw->conf_state();
  if (rd.soft_state) out += Indent(DescribeSoftState(*rd.soft_state));
  if (rd.hard_state) out += Indent(DescribeHardState(*rd.hard_state));
  if (rd.snapshot) out += Indent("Snapshot " + DescribeSnapshotMeta(rd.snapshot->meta));
  if (!rd.entries.empty()) {
    out += Indent("Entries:");
    for (const Entry& e : rd.entries) out += Indent("  " + DescribeEntry(e));
  }
  if (!rd.committed_entries.empty()) {
    out += Indent("CommittedEntries:");
    for (const Entry& e : rd.committed_entries) out += Indent("  " + DescribeEntry(e));
  }
  if (!rd.messages.empty()) {
    out += Indent("Messages:");
    for (const Message& m : rd.messages) out += Indent("  " + DescribeMessage(m));
  }
  if (rd.must_sync) out += Indent("MustSync");
  // 1. persist  2. send  3. apply  4. advance (ready.h).
  if (rd.snapshot) {
    CMQ_ASSERT(node.storage->ApplySnapshot(*rd.snapshot).ok(), "storage refused a snapshot");
  }
  node.storage->Append(rd.entries);
  if (rd.hard_state) node.storage->SetHardState(*rd.hard_state);
  for (Message& m : rd.messages) network_.push_back(std::move(m));
  if (rd.snapshot) {
    node.applied.clear();
    std::string data = rd.snapshot->data ? *rd.snapshot->data : "";
    std::stringstream ss(data);
    std::string item;
    while (std::getline(ss, item, ',')) node.applied.push_back(item);
  }
  for (const Entry& e : rd.committed_entries) {
    if (e.type == EntryType::kNormal && e.data_size() > 0) node.applied.emplace_back(e.data_view());
  }
  node.raw->Advance(rd);
  if (node.raw->conf_state() != before) {
    out += Indent("ConfState " + DescribeConfState(node.raw->conf_state()));
  }
  return out;
}

bool InteractionEnv::Cut(NodeId a, NodeId b) const {
  if (partition_group_.empty()) return false;
  auto ga = partition_group_.find(a), gb = partition_group_.find(b);
  int pa = ga == partition_group_.end() ? -1 : ga->second;
  int pb = gb == partition_group_.end() ? -1 : gb->second;
  return pa != pb;
}

std::string InteractionEnv::Deliver(const std::function<bool(const Message&)>& want,
                                    const std::set<NodeId>& drop_to, bool* delivered_any) {
  std::vector<Message> selected, kept;
  for (Message& m : network_) (want(m) ? selected : kept).push_back(std::move(m));
  network_ = std::move(kept);
  std::string out;
  for (const Message& m : selected) {
    if (drop_to.count(m.to)) {
      out += "dropped: " + DescribeMessage(m) + "\n";
    } else if (Cut(m.from, m.to)) {
      out += "dropped (partition): " + DescribeMessage(m) + "\n";
    } else if (nodes_.count(m.to) == 0) {
      out += "dropped (no such node): " + DescribeMessage(m) + "\n";
    } else {
      out += DescribeMessage(m) + "\n";
      ::cmq::Status st = Get(m.to).raw->Step(m);
      if (!st.ok()) out += Indent("step error: " + st.message());
    }
    if (delivered_any) *delivered_any = true;
  }
  return out;
}

std::string InteractionEnv::DeliverMsgs(const TestCase& tc) {
  std::set<NodeId> to = ToIds(tc.Positional());
  std::set<NodeId> drop = ToIds(tc.Values("drop"));
  const std::string from = tc.Value("from", "");
  const std::string type = tc.Value("type", "");
  auto want = [&](const Message& m) {
    if (!to.empty() && !to.count(m.to) && !drop.count(m.to)) return false;
    if (to.empty() && !drop.empty() && !drop.count(m.to)) return false;
    if (!from.empty() && m.from != ToId(from)) return false;
    if (!type.empty() && MessageTypeName(m.type) != type) return false;
    return true;
  };
  std::string out = Deliver(want, drop, nullptr);
  return out.empty() ? "no messages" : out;
}

std::string InteractionEnv::Stabilize(const std::set<NodeId>& only) {
  std::string out;
  auto included = [&](NodeId id) { return only.empty() || only.count(id) > 0; };
  for (int round = 0; round < 1000; ++round) {
    bool progress = false;
    for (auto& [id, node] : nodes_) {
      if (included(id) && node.raw->HasReady()) {
        out += ProcessReady(id);
        progress = true;
      }
    }
    for (auto& [id, node] : nodes_) {
      if (!included(id)) continue;
      NodeId to = id;
      std::string log =
          Deliver([&](const Message& m) { return m.to == to && included(m.from); }, {}, &progress);
      if (!log.empty()) out += "> " + std::to_string(id) + " receiving messages\n" + log;
    }
    if (!progress) return out;
  }
  return out + "did not stabilize after 1000 rounds\n";
}

std::string InteractionEnv::Partition(const TestCase& tc) {
  partition_group_.clear();
  int group = 0;
  for (const auto& s : tc.Positional()) {
    if (s == "/") {
      ++group;
    } else {
      partition_group_[ToId(s)] = group;
    }
  }
  return "ok";
}

std::string InteractionEnv::Tick(NodeId id, int n) {
  Node& node = Get(id);
  for (int i = 0; i < n; ++i) node.raw->Tick();
  return "ok";
}

std::string InteractionEnv::TickElection(NodeId id) {
  // Ticks until the node's role or term changes or (not a leader) it sends something, at
  // most 2 * election_tick times (the largest randomized timeout); prints how many ticks.
  Node& node = Get(id);
  const bool leader = node.raw->soft_state().role == Role::kLeader;
  const size_t queued = node.raw->raft().messages().size();
  const int limit = 2 * node.raw->raft().config().election_tick;
  const SoftState ss = node.raw->soft_state();
  const Term term = node.raw->hard_state().term;
  for (int i = 1; i <= limit; ++i) {
    node.raw->Tick();
    if (node.raw->soft_state() != ss || node.raw->hard_state().term != term ||
        (!leader && node.raw->raft().messages().size() > queued)) {
      return "ticks=" + std::to_string(i) + " " + DescribeSoftState(node.raw->soft_state());
    }
  }
  return "ticks=" + std::to_string(limit) + " no change";
}

std::string InteractionEnv::ProposeConfChange(NodeId id, const TestCase& tc) {
  ConfChange cc;
  if (tc.Has("add")) {
    cc = {ConfChangeType::kAddVoter, ToId(tc.Value("add", "0"))};
  } else if (tc.Has("remove")) {
    cc = {ConfChangeType::kRemoveNode, ToId(tc.Value("remove", "0"))};
  } else if (tc.Has("add-learner")) {
    cc = {ConfChangeType::kAddLearner, ToId(tc.Value("add-learner", "0"))};
  } else if (tc.Has("promote")) {
    cc = {ConfChangeType::kPromoteLearner, ToId(tc.Value("promote", "0"))};
  }
  auto r = Get(id).raw->ProposeConfChange(cc);
  return r.ok() ? "ok index=" + std::to_string(*r) : "error: " + r.status().message();
}

std::string InteractionEnv::StatusOf(NodeId id) {
  NodeStatus st = Get(id).raw->GetStatus();
  std::string out = DescribeSoftState(st.soft_state) + " " + DescribeHardState(st.hard_state) +
                    " Applied:" + std::to_string(st.applied) +
                    " Last:" + std::to_string(st.last_index) + "\n" +
                    DescribeConfState(st.conf_state) + "\n";
  for (const auto& [pid, pr] : st.progress) {
    out += std::to_string(pid) + ": " + std::string(ProgressStateName(pr.state)) +
           " match=" + std::to_string(pr.match) + " next=" + std::to_string(pr.next) +
           (pr.learner ? " learner" : "") +
           (pr.inflight ? " inflight=" + std::to_string(pr.inflight) : "") + "\n";
  }
  return out;
}

std::string InteractionEnv::RaftLog(NodeId id) {
  const MemoryStorage& s = *Get(id).storage;
  std::string out =
      "first=" + std::to_string(s.FirstIndex()) + " last=" + std::to_string(s.LastIndex()) + "\n";
  if (s.LastIndex() < s.FirstIndex()) return out + "log is empty";
  auto entries = s.Entries(s.FirstIndex(), s.LastIndex() + 1, UINT64_MAX);
  for (const Entry& e : *entries) out += DescribeEntry(e) + "\n";
  return out;
}

std::string InteractionEnv::RaftState() {
  std::string out;
  for (auto& [id, node] : nodes_) {
    const NodeStatus st = node.raw->GetStatus();
    std::string kind = st.conf_state.voters.count(id)     ? "Voter"
                       : st.conf_state.learners.count(id) ? "Learner"
                                                          : "NonMember";
    out += std::to_string(id) + ": " + std::string(RoleName(st.soft_state.role)) + " (" + kind +
           ") Term:" + std::to_string(st.hard_state.term) +
           " Lead:" + std::to_string(st.soft_state.lead) +
           " Commit:" + std::to_string(st.hard_state.commit) + "\n";
  }
  return out;
}

std::string InteractionEnv::Compact(NodeId id, Index index) {
  Node& node = Get(id);
  auto snap =
      node.storage->CreateSnapshot(index, node.raw->conf_state(), MakePayload(Join(node.applied)));
  if (!snap.ok()) return "error: " + snap.status().message();
  ::cmq::Status st = node.storage->Compact(index);
  if (!st.ok()) return "error: " + st.message();
  return RaftLog(id);
}

}  // namespace cmq::raft::testing
