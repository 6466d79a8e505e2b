// Snapshots bound the log and the restart time. The log is also the body store, so it is
// compacted only below what both kept snapshots and every retained message still need
// (docs/architecture.md "Snapshots and log truncation").

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "cluster/group_snapshot.h"
#include "cluster/node.h"
#include "cluster/node_internal.h"
#include "common/assert.h"
#include "raft/codec.h"
#include "raft/constants.h"

namespace cmq::cluster {

// Moving bodies forward (docs/queue-model.md "Moving old bodies forward"). A queue is moved
// whole, in one command, only if it is small: a large backlog is data the log keeps anyway.
// One round after each snapshot; a queue with a send on its way is left for a later round
// at housekeeping (the send would be applied first and make the move a no-op), and so is a
// queue whose move found it changed all the same (a topic's copy). At most 32 MiB of copies
// per snapshot interval (256 MiB of entries by default), 16 MiB per round.
constexpr size_t kMoveMaxMessagesPerQueue = 4096;
constexpr uint64_t kMoveMaxBytesPerQueue = 4ull << 20;
constexpr uint64_t kMoveMaxBytesPerRound = 16ull << 20;
constexpr uint64_t kMoveMaxBytesPerInterval = 32ull << 20;

// The state is serialized on the strand (a pause linear in the retained messages: tens of
// ms per million), written by the snapshot thread, and then the disk thread drops the log
// segments nobody needs.
void Node::MaybeSnapshot() {
  if (!started_ || stopped_ || snapshot_in_progress_ || !failed_.ok() ||
      applied_bytes_since_snapshot_ < options_.snapshot_interval_bytes) {
    return;
  }
  // A leader may apply entries a quorum holds before its own disk does
  // (RawNode::TakeCommittedEntries); a snapshot waits until its log holds them too.
  if (applied_index_ > raft_->raft().log().StableLastIndex()) return;
  snapshot_in_progress_ = true;
  applied_bytes_since_snapshot_ = 0;
  uint64_t index = applied_index_;
  uint64_t oldest_referenced = state_->OldestReferencedLogIndex();
  raft::ConfState conf = raft_->conf_state();
  raft::Payload data =
      raft::MakePayload(EncodeLocalSnapshot(oldest_referenced, addresses_, state_->Snapshot()));
  boost::asio::post(snapshot_ctx_, [this, index, conf, data, oldest_referenced] {
    Status st;
    {
      std::lock_guard lock(snapshot_file_mu_);
      st = storage_->CreateSnapshot(index, conf, data);
    }
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
  // Bodies older than the older snapshot hold the log back: a message nobody consumes
  // would keep every later segment for as long as the queue retains it (up to 15 days).
  if (older_referenced < older_index + 1 && is_leader_) {
    move_below_ = older_index + 1;
    move_bytes_left_ = kMoveMaxBytesPerInterval;
    move_missed_ = false;
    MoveBodiesPinningLogBelow(move_below_);
  }
  boost::asio::post(disk_ctx_, [this, before] {
    // One segment per hold of the write lock: a follower persists on its group's thread
    // under that lock, and removing a gigabyte of segments at once (after a large backlog
    // was consumed or deleted) kept it from answering heartbeats for long enough that the
    // leader, hearing no quorum, stepped down.
    Status st;
    std::vector<std::string> detached;
    while (st.ok()) {
      std::lock_guard lock(storage_write_mu_);
      const uint64_t first = storage_->LogFirstIndex();
      if (first >= before) break;
      uint64_t step = storage_->FirstSegmentEnd();
      // The newest segment (or an empty one) goes only with everything: one call for it.
      if (step <= first || step > before) step = before;
      auto files = storage_->CompactDetached(step);
      if (!files.ok()) {
        st = files.status();
        break;
      }
      detached.insert(detached.end(), files->begin(), files->end());
      if (step == before) break;
    }
    uint64_t first = storage_->LogFirstIndex();
    boost::asio::post(strand_ctx_, [this, st, first] {
      if (!st.ok()) spdlog::error("dropping old log segments failed: {}", st.ToString());
      stats_.log_first_index = first;
    });
    if (detached.empty()) return;
    // Freeing the files' blocks takes tens of ms per segment: not here, where the next
    // log write waits, but on the snapshot thread. Files a crash leaves behind come back as
    // log entries below the snapshot, and the next compaction drops them again.
    boost::asio::post(snapshot_ctx_, [this, detached = std::move(detached)] {
      Status removed = storage_->RemoveDetached(detached);
      if (!removed.ok()) spdlog::warn("removing old log segments failed: {}", removed.ToString());
    });
  });
}

void Node::RetryBodyMoves() {
  if (!is_leader_ || !move_missed_ || move_bytes_left_ == 0 || !failed_.ok()) return;
  move_missed_ = false;
  MoveBodiesPinningLogBelow(move_below_);
}

void Node::MoveBodiesPinningLogBelow(uint64_t below) {
  const uint64_t max_bytes = std::min(kMoveMaxBytesPerRound, move_bytes_left_);
  uint64_t round_bytes = 0;
  for (auto& queue :
       state_->BodiesPinningLogBelow(below, kMoveMaxMessagesPerQueue, kMoveMaxBytesPerQueue)) {
    if (sends_in_flight_.contains(internal::QueueKey(queue.queue_name))) {
      // A send on its way would be applied before the move and make it a no-op: later.
      move_missed_ = true;
      continue;
    }
    uint64_t queue_bytes = 0;
    for (const mq::BodyLocation& where : queue.bodies) queue_bytes += where.length;
    if (round_bytes + queue_bytes > max_bytes) {  // a later round, or the next interval
      move_missed_ = true;
      return;
    }
    round_bytes += queue_bytes;
    std::vector<std::string> bodies;
    bodies.reserve(queue.bodies.size());
    for (const mq::BodyLocation& where : queue.bodies) {
      auto body = ReadBody(where);
      if (!body.ok()) {
        spdlog::error("group {}: reading a body to move forward failed: {}", options_.group_id,
                      body.status().ToString());
        return;
      }
      bodies.push_back(std::move(body).value());
    }
    mq::Command cmd;
    cmd.type = mq::CommandType::kMoveBodies;
    cmd.queue_name = queue.queue_name;
    cmd.moves.swap(queue.moves);
    cmd.bodies.assign(bodies.begin(), bodies.end());
    Proposal p;
    mq::EncodeCommand(cmd, p.encoded);
    // Called on the strand. Not moved: a message was sent to the queue between the
    // proposal and the move (a busy queue), so housekeeping tries again; or leadership
    // changed, and the next round (or the next leader) tries.
    p.done = [this, name = cmd.queue_name](CommandResult r) {
      if (r.apply.status.ok() && r.apply.msg_ids.empty()) move_missed_ = true;
      if (!r.apply.status.ok()) {
        spdlog::debug("group {}: moving the bodies of queue {}: {}", options_.group_id, name,
                      r.apply.status.ToString());
      }
    };
    move_bytes_left_ -= std::min<uint64_t>(move_bytes_left_, queue_bytes);
    Enqueue(std::move(p));
  }
}

// A follower behind the leader's log gets the newest snapshot, with the log entries that
// hold the bodies its state refers to (cluster/group_snapshot.h): inside the message when
// they take at most snapshot_inline_bytes, else streamed into its staging log first
// (cluster/retained_stream.h, node_retained_stream.cc). Reading those entries can take a
// while, so the message is built on the snapshot thread; one at a time.
void Node::SendSnapshot(raft::Message m) {
  const uint64_t to = m.to;
  if (snapshot_sending_ || !raft_send_) {
    raft_->ReportSnapshot(to, false);  // the core asks again later
    return;
  }
  if (stream_ && stream_->to == to) return SendSnapshotThroughStream(std::move(m));
  if (stream_) {  // one stream at a time: this follower waits its turn
    raft_->ReportSnapshot(to, false);
    return;
  }
  snapshot_sending_ = true;
  boost::asio::post(snapshot_ctx_, [this, m = std::move(m), to]() mutable {
    Status st = Status::Ok();
    bool stream = false;
    uint64_t oldest = 0;
    const raft::Snapshot& snap = *m.snapshot;
    auto decoded = DecodeGroupSnapshot(snap.data ? std::string_view(*snap.data) : "");
    if (!decoded.ok()) {
      st = decoded.status();
    } else {
      oldest = decoded->oldest_referenced;
      if (oldest == 0) {  // a snapshot from before the envelope: ask the state itself
        auto state = mq::StateMachine::Restore(decoded->mq_state, options_.group_count);
        oldest = state.ok() ? (*state)->OldestReferencedLogIndex() : 1;
      }
      const uint64_t s = snap.meta.index;
      oldest = std::min(oldest, s + 1);
      std::vector<raft::Entry> retained;
      uint64_t bytes = 0;
      for (uint64_t i = oldest; i <= s && st.ok() && !stream; ++i) {
        auto e = storage_->ReadEntry(i);
        if (!e.ok() && !decoded->retained.empty() && i >= decoded->retained.front().index) {
          e = decoded->retained[i - decoded->retained.front().index];  // installed with it
        }
        if (!e.ok()) {
          st = e.status();
          break;
        }
        bytes += e->data_size() + 16;
        stream = bytes > options_.snapshot_inline_bytes;
        retained.push_back(std::move(e).value());
      }
      if (st.ok() && !stream) {
        m.snapshot->data = raft::MakePayload(
            EncodeWireSnapshot(oldest, decoded->addresses, decoded->mq_state, retained));
        spdlog::info("group {}: sending snapshot at {} with {} log entries ({} bytes) to node {}",
                     options_.group_id, s, retained.size(), m.snapshot->data->size(), to);
      }
    }
    bool sent = st.ok() && !stream && SendSnapshotMessage(m);
    if (!st.ok()) spdlog::error("cannot send a snapshot to node {}: {}", to, st.ToString());
    const uint64_t index = snap.meta.index;
    boost::asio::post(strand_ctx_, [this, to, sent, stream, oldest, index] {
      snapshot_sending_ = false;
      if (sent) ++stats_.snapshots_sent;
      if (stopped_) return;
      // Too large to carry: the entries go first, then the snapshot names them.
      if (stream && is_leader_ && !stream_) StartRetainedStream(to, oldest, index);
      raft_->ReportSnapshot(to, sent);
      Drive();
    });
  });
}

// Snapshot thread. A message over the codec's bound would be dropped by the receiver
// every time it is sent: say so here instead.
bool Node::SendSnapshotMessage(const raft::Message& m) {
  std::string encoded = raft::EncodeMessage(m);
  if (encoded.size() > raft::kMaxEncodedMessageBytes) {
    spdlog::error(
        "group {}: cannot send the snapshot at {} to node {}: it takes {} bytes, over the {} a "
        "message may (lower --snapshot-inline-bytes; the state itself is too large if it "
        "alone is over)",
        options_.group_id, m.snapshot->meta.index, m.to, encoded.size(),
        raft::kMaxEncodedMessageBytes);
    return false;
  }
  return raft_send_(m.to, std::move(encoded));
}

// Disk thread: the snapshot file keeps the wire form, retained entries included, so that a
// crash in the middle of writing them can write them again on restart (Recover).
Status Node::InstallSnapshot(const raft::Snapshot& snapshot) {
  auto decoded = DecodeGroupSnapshot(snapshot.data ? std::string_view(*snapshot.data) : "");
  if (!decoded.ok()) return decoded.status();
  std::lock_guard lock(snapshot_file_mu_);  // not while our own snapshot is being written
  if (decoded->staged_first != 0) {
    return storage_->ApplyStagedSnapshot(snapshot, decoded->staged_first);
  }
  return storage_->ApplySnapshot(snapshot, decoded->retained);
}

// Strand, once the snapshot is durable: the state machine becomes the snapshot's.
void Node::RestoreFromSnapshot(const raft::Snapshot& snapshot) {
  auto decoded = DecodeGroupSnapshot(snapshot.data ? std::string_view(*snapshot.data) : "");
  CMQ_ASSERT(decoded.ok(), "an installed snapshot does not decode");
  auto restored = mq::StateMachine::Restore(decoded->mq_state, options_.group_count);
  CMQ_ASSERT(restored.ok(), "an installed snapshot does not restore");
  state_ = std::move(restored).value();
  const uint64_t index = snapshot.meta.index;
  FailInLog(index, Status(ErrorCode::kUnavailable, "replica was replaced by a snapshot; retry"));
  addresses_ = decoded->addresses;
  conf_changed_ = true;  // the snapshot's configuration: the listener hears of it
  for (auto it = conf_waiters_.begin(); it != conf_waiters_.end() && it->first <= index;) {
    auto done = std::move(it->second.done);
    it = conf_waiters_.erase(it);
    done(Status(ErrorCode::kUnavailable, "replica was replaced by a snapshot; retry"));
  }
  cache_.Clear();
  applied_index_ = index;
  applied_term_ = snapshot.meta.term;
  applied_bytes_since_snapshot_ = 0;
  ++stats_.snapshots_installed;
  stats_.snapshot_index = index;
  kept_snapshots_.emplace_back(index, std::min(decoded->oldest_referenced, index + 1));
  while (kept_snapshots_.size() > 2) kept_snapshots_.pop_front();
  stats_.log_first_index = storage_->LogFirstIndex();
  const uint64_t retained =
      decoded->staged_first != 0 ? index + 1 - decoded->staged_first : decoded->retained.size();
  spdlog::info("group {}: installed a snapshot at {} ({} retained log entries{})",
               options_.group_id, index, retained,
               decoded->staged_first != 0 ? ", streamed before it" : "");
}

}  // namespace cmq::cluster
