// Streaming a large snapshot's retained log entries to a follower before the snapshot
// (cluster/retained_stream.h has the protocol, docs/cluster.md "Snapshots" the why).
//
// Leader: SendSnapshot found the run too large for one message and started a stream. It
// asks the follower what it has staged (a resumed stream sends only the rest), then reads
// chunks of about 1 MiB on the snapshot thread and sends them, at most kStreamWindow
// unanswered. The Raft core keeps asking for the snapshot (each heartbeat answer) and is
// told "not sent" until the follower has staged the whole run; then the snapshot goes in
// its staged form, naming the run. One stream at a time.
//
// Follower: takes chunks only from the leader of its current term, writes them into its
// staging log on the snapshot thread, and answers each with what it has staged.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "cluster/group_snapshot.h"
#include "cluster/node.h"
#include "cluster/retained_stream.h"
#include "common/assert.h"
#include "raft/codec.h"

namespace cmq::cluster {

constexpr uint64_t kStreamChunkBytes = 1ull << 20;
constexpr size_t kStreamWindow = 8;
// A stream whose follower says nothing for this long is abandoned (the core asks again).
constexpr auto kStreamSilenceLimit = std::chrono::seconds(30);
// Unanswered chunks for this long: lost with a broken connection, most likely.
constexpr auto kStreamAskAgainAfter = std::chrono::seconds(3);

void Node::StartRetainedStream(uint64_t to, uint64_t run_first, uint64_t target) {
  RetainedStream st;
  st.to = to;
  st.run_first = run_first;
  st.target = target;
  st.last_heard = std::chrono::steady_clock::now();
  stream_ = std::move(st);
  if (!AskStagedRun()) {
    stream_.reset();  // the peer is away: the core asks again, and we start again
    return;
  }
  ++stats_.retained_streams;
  spdlog::info("group {}: streaming log entries [{}, {}] to node {} before a snapshot",
               options_.group_id, run_first, target, to);
}

// A new epoch that begins with the question (a chunk without entries): its answer says
// where to go on from. Answers to the chunks of earlier epochs are ignored from now on.
bool Node::AskStagedRun() {
  RetainedStream& st = *stream_;
  st.epoch = ++stream_epoch_;
  st.next_send = 0;
  st.expected_ends.clear();
  st.last_asked = std::chrono::steady_clock::now();
  RetainedChunk question{raft_->hard_state().term, st.epoch, st.run_first, {}};
  if (!stream_send_ || !stream_send_(st.to, false, EncodeRetainedChunk(question))) return false;
  st.expected_ends.push_back(0);
  return true;
}

void Node::SendSnapshotThroughStream(raft::Message m) {
  RetainedStream& st = *stream_;
  const uint64_t s = m.snapshot->meta.index;
  auto oldest = PeekOldestReferenced(m.snapshot->data ? std::string_view(*m.snapshot->data) : "");
  // A snapshot from before the envelope does not say (0): the stream was started for it,
  // with the run the snapshot thread worked out from its state.
  uint64_t run_first = 0;
  if (oldest.ok()) run_first = *oldest == 0 ? st.run_first : std::min(*oldest, s + 1);
  if (run_first == 0 || run_first < st.run_first) {
    // The run starts below the stream's (or the snapshot is damaged): start over.
    stream_.reset();
    raft_->ReportSnapshot(m.to, false);
    return;
  }
  if (st.staged_next <= s) {  // still streaming; a newer snapshot extends the run
    st.target = std::max(st.target, s);
    PumpRetainedStream();
    raft_->ReportSnapshot(m.to, false);
    return;
  }
  // Staged: the snapshot names the run instead of carrying it.
  const uint64_t to = m.to;
  stream_.reset();
  snapshot_sending_ = true;
  boost::asio::post(snapshot_ctx_, [this, m = std::move(m), to, run_first]() mutable {
    auto decoded = DecodeGroupSnapshot(m.snapshot->data ? std::string_view(*m.snapshot->data) : "");
    bool sent = false;
    if (!decoded.ok()) {
      spdlog::error("cannot send a snapshot to node {}: {}", to, decoded.status().ToString());
    } else {
      m.snapshot->data = raft::MakePayload(
          EncodeStagedSnapshot(run_first, decoded->addresses, decoded->mq_state, run_first));
      spdlog::info("group {}: sending snapshot at {} to node {}, its log entries from {} staged",
                   options_.group_id, m.snapshot->meta.index, to, run_first);
      sent = SendSnapshotMessage(m);
    }
    boost::asio::post(strand_ctx_, [this, to, sent] {
      snapshot_sending_ = false;
      if (sent) ++stats_.snapshots_sent;
      if (stopped_) return;
      raft_->ReportSnapshot(to, sent);
      Drive();
    });
  });
}

void Node::PumpRetainedStream() {
  if (!stream_ || !is_leader_ || stopped_) return;
  RetainedStream& st = *stream_;
  if (stream_reading_ || st.next_send == 0 || st.next_send > st.target ||
      st.expected_ends.size() >= kStreamWindow) {
    return;
  }
  stream_reading_ = true;
  boost::asio::post(snapshot_ctx_, [this, to = st.to, epoch = st.epoch, run_first = st.run_first,
                                    from = st.next_send, target = st.target,
                                    term = raft_->hard_state().term] {
    RetainedChunk chunk{term, epoch, run_first, {}};
    uint64_t bytes = 0;
    Status status;
    for (uint64_t i = from; i <= target && bytes < kStreamChunkBytes; ++i) {
      auto e = storage_->ReadEntry(i);
      if (!e.ok()) {
        status = e.status();  // compacted meanwhile: a newer snapshot needs a new stream
        break;
      }
      bytes += e->data_size() + 16;
      chunk.entries.push_back(std::move(e).value());
    }
    const uint64_t end = from + chunk.entries.size();
    bool sent = status.ok() && stream_send_ && stream_send_(to, false, EncodeRetainedChunk(chunk));
    boost::asio::post(strand_ctx_, [this, epoch, end, sent, status] {
      stream_reading_ = false;
      if (!stream_ || stream_->epoch != epoch) return PumpRetainedStream();
      RetainedStream& st = *stream_;
      if (!status.ok()) {
        spdlog::warn("group {}: stream to node {} stopped: {}", options_.group_id, st.to,
                     status.ToString());
        stream_.reset();
        return;
      }
      if (!sent) return;  // the peer's queue is full or it is away: housekeeping retries
      st.expected_ends.push_back(end);
      st.next_send = end;
      PumpRetainedStream();
    });
  });
}

void Node::OnRetainedAck(uint64_t from, const RetainedAck& ack) {
  if (!stream_ || stream_->to != from || stream_->epoch != ack.epoch || !is_leader_) return;
  RetainedStream& st = *stream_;
  st.last_heard = std::chrono::steady_clock::now();
  // What the follower has that is of use: a run from at or below ours.
  const uint64_t staged_next = ack.staged_first <= st.run_first && ack.staged_next > st.run_first
                                   ? ack.staged_next
                                   : st.run_first;
  st.staged_next = std::max(st.staged_next, staged_next);
  const uint64_t expected = st.expected_ends.empty() ? 0 : st.expected_ends.front();
  if (!st.expected_ends.empty()) st.expected_ends.pop_front();
  if (expected == 0) {
    st.next_send = staged_next;  // the answer to the question: go on from there
    st.staged_next = staged_next;
  } else if (staged_next < expected) {
    // The follower did not take the chunk (its staging log was emptied, or ends
    // elsewhere): a new epoch, from where it stands.
    spdlog::info("group {}: node {} did not take entries up to {}; streaming again from {}",
                 options_.group_id, st.to, expected - 1, staged_next);
    st.epoch = ++stream_epoch_;
    st.expected_ends.clear();
    st.next_send = staged_next;
    st.staged_next = staged_next;
  }
  if (st.staged_next > st.target) {
    // Whole: the core's next request for the snapshot (a heartbeat answer away) sends it.
    spdlog::info("group {}: node {} has staged log entries [{}, {}]", options_.group_id, st.to,
                 st.run_first, st.staged_next - 1);
    return;
  }
  PumpRetainedStream();
}

// Housekeeping, leader: drop a stream nobody answers or nobody needs any more; ask again
// where a silent follower stands (a broken connection lost the chunks in flight).
void Node::CheckRetainedStream() {
  if (!stream_) return;
  RetainedStream& st = *stream_;
  const auto now = std::chrono::steady_clock::now();
  bool drop = !is_leader_ || now - st.last_heard > kStreamSilenceLimit;
  if (!drop) {
    auto status = raft_->GetStatus();
    auto it = status.progress.find(st.to);
    drop = it == status.progress.end() || it->second.match >= st.target;
  }
  if (drop) {
    spdlog::info("group {}: stream to node {} ended", options_.group_id, st.to);
    stream_.reset();
    return;
  }
  if (now - std::max(st.last_heard, st.last_asked) > kStreamAskAgainAfter &&
      !st.expected_ends.empty() && !stream_reading_) {
    AskStagedRun();  // refused: asked again at the next housekeeping
    return;
  }
  PumpRetainedStream();  // after a refused send
}

void Node::OnRetainedFrame(uint64_t from, bool ack, std::string payload) {
  if (ack) {
    auto decoded = DecodeRetainedAck(payload);
    if (!decoded.ok()) {
      spdlog::warn("group {}: dropping a malformed stream ack from node {}: {}", options_.group_id,
                   from, decoded.status().ToString());
      return;
    }
    boost::asio::post(strand_ctx_, [this, from, a = *decoded] {
      if (!stopped_) OnRetainedAck(from, a);
    });
    return;
  }
  auto chunk = DecodeRetainedChunk(payload);
  if (!chunk.ok()) {
    spdlog::warn("group {}: dropping a malformed stream chunk from node {}: {}", options_.group_id,
                 from, chunk.status().ToString());
    return;
  }
  boost::asio::post(strand_ctx_, [this, from, c = std::move(chunk).value()]() mutable {
    // Only from the leader of this term: a deposed leader's chunks could not be told apart
    // from the current one's stream.
    if (stopped_ || is_leader_ || c.term != raft_->hard_state().term ||
        raft_->soft_state().lead != from) {
      return;
    }
    last_chunk_at_ = std::chrono::steady_clock::now();
    boost::asio::post(snapshot_ctx_, [this, from, c = std::move(c)] {
      auto range = storage_->Stage(c.run_first, c.entries);
      if (!range.ok()) {
        // Unanswered: the leader gives the stream up and starts another later.
        spdlog::error("group {}: staging log entries failed: {}", options_.group_id,
                      range.status().ToString());
        return;
      }
      RetainedAck a{c.epoch, range->first, range->next};
      if (stream_send_) stream_send_(from, true, EncodeRetainedAck(a));
    });
  });
}

// Housekeeping: a staging log no stream has added to for a while is of no use any more
// (the replica caught up otherwise, or its leader gave up): its disk space is freed.
void Node::ExpireStaging() {
  const auto idle = std::chrono::milliseconds(options_.staging_idle_ms);
  if (std::chrono::steady_clock::now() - last_chunk_at_ < idle) return;
  const RaftStorage::StagedRange staged = storage_->Staged();
  if (staged.next <= staged.first || staging_clear_posted_) return;
  staging_clear_posted_ = true;
  boost::asio::post(snapshot_ctx_, [this, staged] {
    Status st = storage_->ClearStaging();
    if (!st.ok()) {
      spdlog::error("group {}: emptying the staging log failed: {}", options_.group_id,
                    st.ToString());
    } else {
      spdlog::info("group {}: emptied the staging log (entries [{}, {}], unused for {} s)",
                   options_.group_id, staged.first, staged.next - 1,
                   options_.staging_idle_ms / 1000);
    }
    boost::asio::post(strand_ctx_, [this] { staging_clear_posted_ = false; });
  });
}

// Follower, before stepping a snapshot: one in the staged form is stepped only if the
// staging log holds its run. Otherwise (this process restarted and emptied it) it is
// dropped: the leader's core times the snapshot out and streams again, the rest only.
bool Node::StagedSnapshotIsComplete(const raft::Message& m) {
  if (!m.snapshot || !m.snapshot->data || m.snapshot->data->empty() ||
      static_cast<uint8_t>((*m.snapshot->data)[0]) != kStagedSnapshotTag) {
    return true;
  }
  auto decoded = DecodeGroupSnapshot(*m.snapshot->data);
  if (!decoded.ok()) {
    spdlog::warn("group {}: dropping a malformed snapshot from node {}: {}", options_.group_id,
                 m.from, decoded.status().ToString());
    return false;
  }
  const raft::SnapshotMeta& meta = m.snapshot->meta;
  if (storage_->StagedCovers(decoded->staged_first, meta.index, meta.term)) return true;
  spdlog::warn(
      "group {}: dropping the snapshot at {} from node {}: its log entries from {} "
      "are not staged here",
      options_.group_id, meta.index, m.from, decoded->staged_first);
  return false;
}

}  // namespace cmq::cluster
