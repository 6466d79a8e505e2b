// Measures the Raft core's own cost (docs/raft.md "Benchmark"): entries per second through a
// 3-node group of RawNodes over MemoryStorage, all in this one thread, with no disk, no
// codec and no network: a Ready's messages go straight to the peers' Step. Each round the
// leader proposes B entries of S bytes (one shared payload buffer), then every node's
// Ready is handled in the contract order until the group is quiet; rounds repeat until the
// leader has seen N of them committed. The MemoryStorages are snapshotted and compacted
// every kCompactEvery entries, so memory stays bounded. The default Config is used (an
// inflight window of 256 appends); three extra lines use a window of 4, which makes the
// leader coalesce a batch into fewer, larger appends. A last line gives the cost of the
// message codec (encode + decode of a MsgApp of 64 x 1 KiB entries), which the transport
// pays on top.
//
// Usage: raft_bench [--entries N] [--quick]
//   --entries N  entries committed per configuration (default 1,000,000; 1/4 of that for a
//                batch of 1, which is bound by round trips rather than per-entry work)
//   --quick      N = 20,000: a smoke run
// Run from an optimized build (RelWithDebInfo or Release).
#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "raft/codec.h"
#include "raft/config.h"
#include "raft/constants.h"
#include "raft/memory_storage.h"
#include "raft/message.h"
#include "raft/raw_node.h"
#include "raft/ready.h"
#include "raft/types.h"

namespace {

using cmq::raft::Config;
using cmq::raft::ConfState;
using cmq::raft::Entry;
using cmq::raft::EntryType;
using cmq::raft::HardState;
using cmq::raft::Index;
using cmq::raft::MemoryStorage;
using cmq::raft::Message;
using cmq::raft::MessageType;
using cmq::raft::NodeId;
using cmq::raft::Payload;
using cmq::raft::RawNode;
using cmq::raft::Ready;
using cmq::raft::Role;
using cmq::raft::Snapshot;

constexpr size_t kNodes = 3;
constexpr NodeId kLeader = 1;
// Snapshot + compact every node's storage after this many committed entries.
constexpr uint64_t kCompactEvery = 16384;

[[noreturn]] void Die(const char* what, const cmq::Status& st) {
  std::fprintf(stderr, "raft_bench: %s: %s\n", what, st.ToString().c_str());
  std::exit(1);
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "raft_bench: %s\n", what);
  std::exit(1);
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Three nodes in one thread. Every Ready is handled per ready.h: persist (MemoryStorage),
// send (the peer's Step, at once), apply (count), Advance.
class Cluster {
 public:
  explicit Cluster(size_t max_inflight_msgs) {
    ConfState cs;
    for (NodeId id = 1; id <= kNodes; ++id) cs.voters.insert(id);
    // Bootstrap: the first configuration is a snapshot at index 1 (docs/raft.md).
    Snapshot boot;
    boot.meta.index = 1;
    boot.meta.term = 1;
    boot.meta.conf_state = cs;
    for (size_t i = 0; i < kNodes; ++i) {
      storages_[i] = std::make_unique<MemoryStorage>();
      cmq::Status st = storages_[i]->ApplySnapshot(boot);
      if (!st.ok()) Die("bootstrap snapshot", st);
      storages_[i]->SetHardState(HardState{1, cmq::raft::kNoNode, 1});
    }
    for (size_t i = 0; i < kNodes; ++i) {
      Config config;
      config.id = i + 1;
      config.seed = i + 1;
      config.max_inflight_msgs = max_inflight_msgs;
      auto node = RawNode::Create(config, storages_[i].get());
      if (!node.ok()) Die("RawNode::Create", node.status());
      nodes_[i] = std::move(*node);
    }
  }

  // Campaign on node 1 and deliver until it leads (pre-vote, vote, the empty entry).
  void ElectLeader() {
    leader().Campaign();
    for (int i = 0; i < 100 && leader().raft().role() != Role::kLeader; ++i) Pump();
    if (leader().raft().role() != Role::kLeader) Die("node 1 did not become leader");
    Pump();  // commit the leader's empty entry everywhere
  }

  void Propose(const Payload& payload) {
    auto index = leader().Propose(payload);
    if (!index.ok()) Die("Propose", index.status());
  }

  // Handles Readys on every node until none has one. Returns the Readys handled.
  uint64_t Pump() {
    uint64_t readys = 0;
    bool any = true;
    while (any) {
      any = false;
      for (size_t i = 0; i < kNodes; ++i) {
        if (!nodes_[i]->HasReady()) continue;
        any = true;
        ++readys;
        HandleReady(i);
      }
    }
    return readys;
  }

  // Snapshots each node's storage at its applied index and drops the log below it.
  void Compact() {
    for (size_t i = 0; i < kNodes; ++i) {
      MemoryStorage& s = *storages_[i];
      Index at = std::min(applied_[i], s.LastIndex());
      if (at < s.FirstIndex()) continue;  // nothing new to drop
      auto snap = s.CreateSnapshot(at, nodes_[i]->conf_state(), nullptr);
      if (!snap.ok()) Die("CreateSnapshot", snap.status());
      cmq::Status st = s.Compact(at);
      if (!st.ok()) Die("Compact", st);
    }
  }

  // Non-empty entries the leader has seen committed (the proposals; not its empty entry).
  uint64_t leader_committed() const { return leader_committed_; }
  uint64_t messages() const { return messages_; }

 private:
  RawNode& leader() { return *nodes_[kLeader - 1]; }

  void HandleReady(size_t i) {
    RawNode& node = *nodes_[i];
    MemoryStorage& storage = *storages_[i];
    Ready rd = node.GetReady();
    // 1. Persist (no fsync: there is no disk).
    if (rd.snapshot) {
      cmq::Status st = storage.ApplySnapshot(*rd.snapshot);
      if (!st.ok()) Die("ApplySnapshot", st);
    }
    storage.Append(rd.entries);
    if (rd.hard_state) storage.SetHardState(*rd.hard_state);
    // 2. Send: straight into the peer's Step.
    for (const Message& m : rd.messages) {
      cmq::Status st = nodes_[m.to - 1]->Step(m);
      if (!st.ok()) Die("Step", st);
    }
    messages_ += rd.messages.size();
    // 3. Apply: count the proposals the leader sees committed.
    if (!rd.committed_entries.empty()) {
      if (i == kLeader - 1) {
        for (const Entry& e : rd.committed_entries) {
          if (e.type == EntryType::kNormal && e.data) ++leader_committed_;
        }
      }
      applied_[i] = rd.committed_entries.back().index;
    } else if (rd.snapshot) {
      applied_[i] = rd.snapshot->meta.index;
    }
    // 4. Advance.
    node.Advance(rd);
  }

  std::array<std::unique_ptr<MemoryStorage>, kNodes> storages_;
  std::array<std::unique_ptr<RawNode>, kNodes> nodes_;
  std::array<Index, kNodes> applied_{};
  uint64_t leader_committed_ = 0;
  uint64_t messages_ = 0;
};

struct Figures {
  double wall_s = 0;
  double cpu_s = 0;
  uint64_t entries = 0;
  uint64_t readys = 0;
  uint64_t messages = 0;
};

// Commits `n` entries of `size` bytes in rounds of `batch` proposals (after a warm-up of
// n / 10 that is not timed) on a fresh cluster.
Figures RunThroughput(size_t batch, size_t size, uint64_t n, size_t window) {
  Cluster c(window);
  c.ElectLeader();
  const Payload payload = cmq::raft::MakePayload(std::string(size, 'x'));
  uint64_t readys = 0;
  uint64_t next_compact = kCompactEvery;
  auto run = [&](uint64_t target) {
    while (c.leader_committed() < target) {
      for (size_t j = 0; j < batch; ++j) c.Propose(payload);
      readys += c.Pump();
      if (c.leader_committed() >= next_compact) {
        c.Compact();
        next_compact = c.leader_committed() + kCompactEvery;
      }
    }
  };
  run(std::max<uint64_t>(n / 10, batch));
  const uint64_t start_entries = c.leader_committed();
  const uint64_t start_msgs = c.messages();
  readys = 0;
  const double w0 = WallSeconds();
  const double c0 = ThreadCpuSeconds();
  run(start_entries + n);
  Figures f;
  f.cpu_s = ThreadCpuSeconds() - c0;
  f.wall_s = WallSeconds() - w0;
  f.entries = c.leader_committed() - start_entries;
  f.readys = readys;
  f.messages = c.messages() - start_msgs;
  return f;
}

void PrintThroughput(size_t batch, size_t size, size_t window, const Figures& f) {
  const double e = static_cast<double>(f.entries);
  std::printf(
      "raft 3 nodes  window %3zu  batch %4zu  entry %5zu B  %10.0f entries/s  %8.1f MB/s"
      "  %7.1f ns/entry  (cpu %7.1f ns/entry, %.2f readys + %.2f msgs per entry)\n",
      window, batch, size, e / f.wall_s, e * static_cast<double>(size) / f.wall_s / 1e6,
      f.wall_s * 1e9 / e, f.cpu_s * 1e9 / e, static_cast<double>(f.readys) / e,
      static_cast<double>(f.messages) / e);
  std::fflush(stdout);
}

// The transport's cost per entry: encode + decode of a MsgApp of 64 x 1 KiB entries.
void RunCodec(uint64_t n) {
  constexpr size_t kEntries = 64;
  constexpr size_t kSize = 1024;
  const Payload payload = cmq::raft::MakePayload(std::string(kSize, 'x'));
  Message m;
  m.type = MessageType::kApp;
  m.from = 1;
  m.to = 2;
  m.term = 7;
  m.log_term = 7;
  m.index = 1'000'000;
  m.commit = 999'990;
  for (size_t i = 0; i < kEntries; ++i) {
    m.entries.push_back(Entry{7, m.index + 1 + i, EntryType::kNormal, payload});
  }
  const uint64_t rounds = std::max<uint64_t>(n / kEntries, 16);
  std::string buf;
  double enc_s = 0;
  double dec_s = 0;
  uint64_t check = 0;
  for (int pass = 0; pass < 2; ++pass) {  // pass 0 warms up
    enc_s = dec_s = 0;
    for (uint64_t r = 0; r < rounds; ++r) {
      const double t0 = ThreadCpuSeconds();
      buf.clear();
      cmq::raft::EncodeMessage(m, buf);
      const double t1 = ThreadCpuSeconds();
      auto decoded = cmq::raft::DecodeMessage(buf);
      const double t2 = ThreadCpuSeconds();
      if (!decoded.ok()) Die("DecodeMessage", decoded.status());
      check += decoded->entries.size();
      enc_s += t1 - t0;
      dec_s += t2 - t1;
    }
  }
  if (check != 2 * rounds * kEntries) Die("codec lost entries");
  const double per = 1e9 / static_cast<double>(rounds * kEntries);
  const double total = enc_s + dec_s;
  std::printf(
      "codec MsgApp %zu x %zu B  encode %6.1f + decode %6.1f = %6.1f ns/entry  (%.0f MB/s)\n",
      kEntries, kSize, enc_s * per, dec_s * per, total * per,
      static_cast<double>(rounds * kEntries * kSize) / total / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t entries = 1'000'000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--entries") == 0 && i + 1 < argc) {
      char* end = nullptr;
      entries = std::strtoull(argv[++i], &end, 10);
      if (end == argv[i] || *end != '\0' || entries == 0) Die("--entries wants a positive count");
    } else if (std::strcmp(argv[i], "--quick") == 0) {
      entries = 20'000;
    } else {
      std::fprintf(stderr, "usage: %s [--entries N] [--quick]\n", argv[0]);
      return 2;
    }
  }
  std::printf(
      "raft core, 3 in-memory nodes in one thread, no disk/codec/network; "
      "%llu entries per line (batch 1: %llu)\n",
      static_cast<unsigned long long>(entries),
      static_cast<unsigned long long>(std::max<uint64_t>(entries / 4, 1)));
  const double t0 = WallSeconds();
  // The defaults (window = kDefaultMaxInflightMsgs): the headline figures.
  const size_t window = cmq::raft::kDefaultMaxInflightMsgs;
  for (size_t size : {size_t{16}, size_t{1024}}) {
    for (size_t batch : {size_t{1}, size_t{16}, size_t{64}, size_t{256}}) {
      const uint64_t n = batch == 1 ? std::max<uint64_t>(entries / 4, 1) : entries;
      PrintThroughput(batch, size, window, RunThroughput(batch, size, n, window));
    }
  }
  // Not the default: a window of 4 appends in flight makes the leader hold back the rest
  // of a batch and send it in one MsgApp, which shows how much of the cost is per message.
  for (size_t batch : {size_t{16}, size_t{64}, size_t{256}}) {
    PrintThroughput(batch, 1024, 4, RunThroughput(batch, 1024, entries, 4));
  }
  RunCodec(entries);
  std::printf("total %.1f s\n", WallSeconds() - t0);
  return 0;
}
