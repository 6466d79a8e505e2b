// Snapshots bound the log and the restart time. The log is also the body store, so it is
// compacted only below what both kept snapshots and every retained message still need
// (docs/architecture.md "Snapshots and log truncation").

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "cluster/node.h"

namespace cmq::cluster {

// The state is serialized on the strand (a pause linear in the retained messages: tens of
// ms per million), written by the snapshot thread, and then the disk thread drops the log
// segments nobody needs.
void Node::MaybeSnapshot() {
  if (!started_ || stopped_ || snapshot_in_progress_ || !failed_.ok() ||
      applied_bytes_since_snapshot_ < options_.snapshot_interval_bytes) {
    return;
  }
  snapshot_in_progress_ = true;
  applied_bytes_since_snapshot_ = 0;
  uint64_t index = applied_index_;
  uint64_t oldest_referenced = state_->OldestReferencedLogIndex();
  raft::ConfState conf = raft_->conf_state();
  raft::Payload data = raft::MakePayload(state_->Snapshot());
  boost::asio::post(snapshot_ctx_, [this, index, conf, data, oldest_referenced] {
    Status st = storage_->CreateSnapshot(index, conf, data);
    boost::asio::post(strand_ctx_, [this, index, oldest_referenced, st] {
      OnSnapshotSaved(index, oldest_referenced, st);
    });
  });
}

void Node::OnSnapshotSaved(uint64_t index, uint64_t oldest_referenced, Status status) {
  snapshot_in_progress_ = false;
  if (!status.ok()) {
    // The log is intact, so nothing is lost; the next interval tries again.
    spdlog::error("writing a snapshot at entry {} failed: {}", index, status.ToString());
    return;
  }
  ++stats_.snapshots;
  stats_.snapshot_index = index;
  kept_snapshots_.emplace_back(index, oldest_referenced);
  while (kept_snapshots_.size() > 2) kept_snapshots_.pop_front();
  if (stopped_ || kept_snapshots_.size() < 2) return;  // keep the log for the fallback
  const auto& [older_index, older_referenced] = kept_snapshots_.front();
  uint64_t before = std::min(older_index + 1, older_referenced);
  boost::asio::post(disk_ctx_, [this, before] {
    Status st = storage_->Compact(before);
    uint64_t first = storage_->LogFirstIndex();
    boost::asio::post(strand_ctx_, [this, st, first] {
      if (!st.ok()) spdlog::error("dropping old log segments failed: {}", st.ToString());
      stats_.log_first_index = first;
    });
  });
}

}  // namespace cmq::cluster
