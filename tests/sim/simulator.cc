#include "sim/simulator.h"

#include "raft/codec.h"
#include "raft/describe.h"

namespace cmq::sim {

Simulator::Simulator(const SimOptions& options)
    : options_(options),
      random_(options.seed),
      trace_(options.print_trace, options.hash_trace),
      network_(&random_, &trace_) {}

Simulator::~Simulator() = default;

// Fault rates and timings vary per seed, so that seeds explore calm and stormy clusters.
void Simulator::Setup() {
  const bool calm = random_.Below(8) == 0;
  const double storm = calm ? 0.0 : random_.Unit();
  plan_.crash = storm * (random_.Chance(0.2) ? 0.02 : 0.004);
  plan_.partition = random_.Unit() * 0.01 * (calm ? 0 : 1);
  plan_.heal = 0.02;
  plan_.transfer = random_.Unit() * 0.004;
  plan_.conf_change = random_.Unit() * (random_.Chance(0.3) ? 0.02 : 0.004) * (calm ? 0 : 1);
  // Half the seeds keep every clock in step; only those check leases (the lease assumes
  // clocks drift by at most kLeaseSafetyTicks per election timeout).
  plan_.tick_skip = random_.Chance(0.5) ? 0 : random_.Unit() * 0.1;
  plan_.down_ticks_max = random_.Between(10, 150);
  plan_.disk.fail_write_probability = storm * random_.Unit() * 0.002;
  plan_.disk.fail_sync_probability = storm * random_.Unit() * 0.002;
  plan_.disk.no_space_probability = storm * random_.Unit() * 0.001;
  plan_.network.drop_probability = calm ? 0 : random_.Unit() * 0.15;
  plan_.network.duplicate_probability = calm ? 0 : random_.Unit() * 0.05;
  plan_.network.delay_min_ticks = random_.Between(0, 1);
  plan_.network.delay_max_ticks = plan_.network.delay_min_ticks + random_.Between(0, 6);
  network_.set_options(plan_.network);

  params_.election_tick = static_cast<int>(random_.Between(8, 15));
  params_.heartbeat_tick = static_cast<int>(random_.Between(1, 3));
  params_.max_msg_bytes = random_.Between(256, 8192);
  params_.max_inflight_msgs = random_.Between(1, 32);
  params_.segment_bytes = random_.Between(1024, 16384);
  params_.snapshot_interval_entries = random_.Between(10, 120);
  // One seed in four announces commits at once (not a draw: the seeds' other choices stay).
  params_.announce_commit_at_once = options_.seed % 4 == 0;

  WorkloadOptions workload;
  workload.clients = static_cast<int>(random_.Between(1, 4));
  workload.timeout_ticks = random_.Between(20, 60);
  workload.send_weight = 0.3 + random_.Unit() * 0.3;
  workload_ = std::make_unique<Workload>(workload, &random_, &trace_, &checker_);

  SIM_TRACE(trace_,
            "seed {} nodes {}: crash {:.4f} partition {:.4f} transfer {:.4f} conf {:.4f} "
            "drop {:.3f} dup {:.3f} delay {}..{} election {} heartbeat {} inflight {} "
            "snapshot every {} commit announced {}",
            options_.seed, options_.nodes, plan_.crash, plan_.partition, plan_.transfer,
            plan_.conf_change, plan_.network.drop_probability, plan_.network.duplicate_probability,
            plan_.network.delay_min_ticks, plan_.network.delay_max_ticks, params_.election_tick,
            params_.heartbeat_tick, params_.max_inflight_msgs, params_.snapshot_interval_entries,
            params_.announce_commit_at_once ? "at once" : "lazily");

  raft::ConfState cs;
  for (int i = 1; i <= options_.nodes; ++i) cs.voters.insert(static_cast<raft::NodeId>(i));
  for (raft::NodeId id : cs.voters) {
    nodes_.push_back(std::make_unique<SimNode>(id, params_, &random_, &trace_, &checker_));
    restart_at_.push_back(0);
    Status st = nodes_.back()->Bootstrap(cs);
    if (st.ok()) st = nodes_.back()->Start(random_.Next());
    if (!st.ok()) checker_.Fail(fmt::format("node {} does not start: {}", id, st.ToString()));
  }
}

SeedResult Simulator::Run() {
  SeedResult result;
  Setup();
  for (uint64_t i = 0; i < options_.steps && !checker_.failed(); ++i) Step(true, true);
  if (!checker_.failed()) {
    SIM_TRACE(trace_, "heal: network, disks, membership");
    network_.HealAll();
    network_.set_options(NetworkOptions{0, 0, 1, 2});
    for (auto& n : nodes_) n->disk().ClearFaults();
    if (Settle(3000) && Drain(4000) && Settle(3000)) FinalChecks();
  }
  result.ok = !checker_.failed();
  result.failure = checker_.failure();
  result.step = now_;
  result.trace_hash = trace_.hash();
  uint64_t taken = 0, installed = 0;
  for (auto& n : nodes_) {
    taken += n->snapshots_taken();
    installed += n->snapshots_installed();
  }
  result.summary = fmt::format(
      "steps {} msgs {} dropped {} crashes {} partitions {} transfers {} conf changes {} "
      "snapshots {} installed {} lease checks {} requests {} acked {} sends acked {} received {}",
      now_, network_.sent(), network_.dropped(), crashes_, partitions_, transfers_, conf_changes_,
      taken, installed, lease_checks_, workload_->requests(), workload_->acked_requests(),
      checker_.acked_sends(), checker_.received());
  return result;
}

void Simulator::Step(bool faults, bool clients) {
  ++now_;
  trace_.set_step(now_);
  if (faults) InjectFaults();
  RestartDue();
  Deliver();
  for (auto& n : nodes_) {
    if (!n->up()) continue;
    if (faults && random_.Chance(plan_.tick_skip)) continue;
    n->raw().Tick();
    Process(*n);
  }
  if (!clients) return;
  if (SimNode* leader = Leader(); leader != nullptr && random_.Chance(0.02)) {
    mq::Command housekeeping;
    housekeeping.type = mq::CommandType::kHousekeeping;
    std::string encoded;
    mq::EncodeCommand(housekeeping, encoded);
    (void)leader->Submit(ClientCall{0, 0}, std::move(encoded));
  }
  workload_->Step(now_, nodes_, !faults);
  for (auto& n : nodes_) {
    if (!n->up()) continue;
    n->Flush(NowMs());
    Process(*n);
  }
  if (plan_.tick_skip == 0) CheckLeases();
}

// Lease reads (RawNode::CanServeReadLocally): a leader that may answer reads from its own
// state must know of every committed entry; otherwise a newer leader committed without it
// and its reads would be stale.
void Simulator::CheckLeases() {
  if (checker_.committed().empty()) return;
  const raft::Index newest = checker_.committed().rbegin()->first;
  for (auto& n : nodes_) {
    // A leader that may choose receives from its applied state must have applied every
    // committed entry, or it may deliver what a newer leader's receive or delete took.
    if (n->up() && n->ChoosesReceives() && n->applied_index() < newest) {
      checker_.Fail(
          fmt::format("choose: node {} (term {}) may choose receives from its "
                      "applied state but applied only up to {} of {} committed",
                      n->id(), n->raw().raft().term(), n->applied_index(), newest));
    }
    if (!n->up() || !n->raw().CanServeReadLocally()) continue;
    ++lease_checks_;
    if (n->raw().raft().log().committed() < newest) {
      checker_.Fail(
          fmt::format("lease: node {} (term {}) may serve reads locally but its commit "
                      "index {} is behind the committed entry {}",
                      n->id(), n->raw().raft().term(), n->raw().raft().log().committed(), newest));
    }
  }
}

void Simulator::Process(SimNode& node) {
  if (!node.up()) return;
  Status st = node.Process(&network_, now_);
  for (const Reply& reply : node.TakeReplies()) workload_->OnReply(reply);
  if (!st.ok()) Crash(node, "storage failed: " + st.ToString());
}

void Simulator::Deliver() {
  std::vector<Delivery> lost;
  std::vector<Delivery> due = network_.TakeDue(now_, &lost);
  for (const Delivery& d : lost) {
    SimNode& from = Node(d.from);
    if (!from.up()) continue;
    if (d.type == raft::MessageType::kSnap) {
      from.raw().ReportSnapshot(d.to, false);
    } else if (random_.Chance(0.1)) {
      from.raw().ReportUnreachable(d.to);
    }
  }
  for (const Delivery& d : due) {
    SimNode& to = Node(d.to);
    SimNode& from = Node(d.from);
    if (!to.up()) {
      if (d.type == raft::MessageType::kSnap && from.up()) from.raw().ReportSnapshot(d.to, false);
      continue;
    }
    auto m = raft::DecodeMessage(d.bytes);
    if (!m.ok()) {
      checker_.Fail("codec: a message does not decode: " + m.status().ToString());
      return;
    }
    SIM_TRACE(trace_, "deliver {}", raft::DescribeMessage(*m));
    (void)to.raw().Step(*m);
    Process(to);
    if (d.type == raft::MessageType::kSnap && from.up()) {
      from.raw().ReportSnapshot(d.to, true);
      Process(from);
    }
  }
}

void Simulator::Crash(SimNode& node, const std::string& why) {
  if (!node.up()) return;
  ++crashes_;
  SIM_TRACE(trace_, "crash node {}: {}", node.id(), why);
  node.Stop();
  node.disk().Crash();
  restart_at_[node.id() - 1] = now_ + random_.Between(1, plan_.down_ticks_max);
}

void Simulator::RestartDue() {
  for (auto& n : nodes_) {
    uint64_t& at = restart_at_[n->id() - 1];
    if (at != 0 && now_ >= at) Restart(*n);
  }
}

void Simulator::Restart(SimNode& node) {
  restart_at_[node.id() - 1] = 0;
  node.disk().ClearFaults();
  Status st = node.Start(random_.Next());
  if (!st.ok()) {
    checker_.Fail(
        fmt::format("node {} cannot restart from its disk: {}", node.id(), st.ToString()));
    return;
  }
  Process(node);
}

SimNode* Simulator::Leader() {
  SimNode* best = nullptr;
  for (auto& n : nodes_) {
    if (n->is_leader() && (best == nullptr || n->raw().raft().term() > best->raw().raft().term())) {
      best = n.get();
    }
  }
  return best;
}

}  // namespace cmq::sim
