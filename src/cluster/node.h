#pragma once
// A cmqd node serving one replicated group (today: a single-voter group over the local
// log). It drives the consensus core in the order persist → advance → apply, forms one log
// entry from all proposals that arrive while the disk is busy (group commit: one fdatasync
// for many requests), answers each request with the result of its own apply, and parks
// long-poll receives until a message becomes visible or their wait ends.
//
// Threads: one strand thread owns the core, the state machine and the waiters; one disk
// thread appends and fsyncs. Public methods are thread-safe.

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cluster/consensus.h"
#include "cluster/long_poll.h"
#include "cluster/payload_cache.h"
#include "cluster/proposal.h"
#include "cluster/queue_service.h"
#include "common/clock.h"
#include "mq/state_machine.h"
#include "storage/log.h"
#include "storage/snapshot_store.h"

namespace cmq::cluster {

struct NodeOptions {
  std::string data_dir = "./data";
  uint32_t group_id = 1;
  uint64_t max_entry_bytes = 8ull << 20;       // one log entry carries at most this much
  uint64_t payload_cache_bytes = 64ull << 20;  // recent entries kept in memory for reads
  int64_t housekeeping_interval_ms = 1000;     // how often expired messages are dropped
  int64_t poll_tick_ms = 10;                   // how often parked receives re-check
  // Take a snapshot of the state machine after this many payload bytes were applied since
  // the last one, then drop log segments nobody needs (docs/architecture.md "Snapshots").
  uint64_t snapshot_interval_bytes = 256ull << 20;
  uint64_t log_segment_bytes = 64ull << 20;
};

struct NodeStats {
  uint64_t entries_written = 0;
  uint64_t commands_applied = 0;
  uint64_t syncs = 0;
  uint64_t snapshots = 0;
  uint64_t snapshot_index = 0;   // last entry covered by the newest snapshot
  uint64_t log_first_index = 0;  // after the last truncation
};

class Node final : public QueueService {
 public:
  // Opens the log under options.data_dir and rebuilds the state by replaying it.
  static Result<std::unique_ptr<Node>> Open(storage::FileSystem* fs, const Clock* clock,
                                            NodeOptions options);
  ~Node() override;

  // Starts the strand and disk threads. Stop() fails pending requests with kUnavailable and
  // joins the threads; it is called by the destructor too.
  void Start();
  void Stop();

  void Submit(const mq::Command& cmd, CommandCallback done) override;
  void Receive(const mq::Command& cmd, std::optional<int64_t> wait_seconds,
               CommandCallback done) override;
  void GetQueue(std::string queue_name, std::function<void(Result<mq::QueueInfo>)> done) override;
  void ListQueues(std::string search_word, uint64_t offset, uint64_t limit,
                  std::function<void(mq::QueueListing)> done) override;

  uint64_t recovered_entries() const { return recovered_entries_; }
  NodeStats stats();  // thread-safe snapshot (taken on the strand)

 private:
  Node(storage::FileSystem* fs, const Clock* clock, NodeOptions options,
       std::unique_ptr<storage::Log> log);
  Status Recover();
  void MaybeSnapshot();
  void OnSnapshotSaved(uint64_t index, uint64_t oldest_referenced, Status status);

  // Strand-only.
  void Enqueue(Proposal p);
  void Drive();
  void OnPersisted(Ready ready, Status status);
  void ApplyCommitted(const std::vector<Entry>& committed);
  void Finish(Proposal& p, mq::ApplyResult result);
  std::vector<std::string> ReadBodies(const std::vector<mq::ReceivedMessage>& messages);
  void StartReceive(Proposal p);
  void WakeWaiters(const std::string& queue_key, size_t max_to_wake);
  void OnPollTick();
  void OnHousekeeping();
  void FailAll(const Status& status);

  storage::FileSystem* fs_;
  const Clock* clock_;
  NodeOptions options_;
  std::unique_ptr<storage::Log> log_;
  std::unique_ptr<mq::StateMachine> state_;
  storage::SnapshotStore snapshots_;
  std::unique_ptr<ConsensusCore> core_;
  PayloadCache cache_;
  LongPollWaiters waiters_;

  boost::asio::io_context strand_ctx_;
  boost::asio::io_context disk_ctx_;
  boost::asio::io_context snapshot_ctx_;  // writes snapshot files off the strand and disk
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::unique_ptr<WorkGuard> strand_work_;
  std::unique_ptr<WorkGuard> disk_work_;
  std::unique_ptr<WorkGuard> snapshot_work_;
  std::thread snapshot_thread_;
  std::thread strand_thread_;
  std::thread disk_thread_;
  boost::asio::steady_timer poll_timer_;
  boost::asio::steady_timer housekeeping_timer_;

  // Strand-only state.
  std::vector<Proposal> pending_;                               // not yet in an entry
  std::unordered_map<uint64_t, std::vector<Proposal>> in_log_;  // by entry index
  bool disk_busy_ = false;
  bool stopped_ = false;
  Status failed_;  // sticky: the log failed, writes are refused
  NodeStats stats_;
  uint64_t recovered_entries_ = 0;
  uint64_t applied_bytes_since_snapshot_ = 0;
  bool snapshot_in_progress_ = false;
  // The snapshots kept on disk, oldest first, with the oldest log index their state still
  // needed: the log is truncated below what the oldest kept one needs.
  std::deque<std::pair<uint64_t, uint64_t>> kept_snapshots_;
  bool started_ = false;
  std::atomic<bool> stop_requested_{false};
};

}  // namespace cmq::cluster
