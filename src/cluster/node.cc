#include "cluster/node.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cctype>
#include <chrono>

#include "cluster/single_voter_core.h"
#include "common/assert.h"
#include "mq/entry.h"
#include "mq/limits.h"

namespace cmq::cluster {
namespace {

std::string QueueKey(std::string_view name) {
  std::string key(name);
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

Status Unavailable(std::string why) {
  return Status(ErrorCode::kUnavailable, std::move(why));
}

}  // namespace

Result<std::unique_ptr<Node>> Node::Open(storage::FileSystem* fs, const Clock* clock,
                                         NodeOptions options) {
  CMQ_RETURN_IF_ERROR(fs->CreateDir(options.data_dir));
  storage::LogOptions log_options;
  log_options.dir = options.data_dir + "/group-" + std::to_string(options.group_id);
  log_options.segment_bytes = options.log_segment_bytes;
  auto log = storage::Log::Open(fs, log_options);
  if (!log.ok()) return log.status();
  std::unique_ptr<Node> node(new Node(fs, clock, std::move(options), std::move(log).value()));
  CMQ_RETURN_IF_ERROR(node->Recover());
  return node;
}

Node::Node(storage::FileSystem* fs, const Clock* clock, NodeOptions options,
           std::unique_ptr<storage::Log> log)
    : fs_(fs),
      clock_(clock),
      options_(std::move(options)),
      log_(std::move(log)),
      state_(std::make_unique<mq::StateMachine>(options_.group_id)),
      snapshots_(fs,
                 options_.data_dir + "/group-" + std::to_string(options_.group_id) + ".snapshots"),
      cache_(options_.payload_cache_bytes),
      poll_timer_(strand_ctx_),
      housekeeping_timer_(strand_ctx_) {}

Node::~Node() {
  Stop();
}

// Rebuilds the state machine: the newest intact snapshot, then every later entry of the
// log in order. Every entry in the log was durable, so (for a single voter) committed;
// commands that failed the first time fail the same way again, deterministically.
Status Node::Recover() {
  CMQ_RETURN_IF_ERROR(snapshots_.Open());
  std::vector<std::string> skipped;
  auto snapshot = snapshots_.LoadNewest(&skipped);
  if (!snapshot.ok()) return snapshot.status();
  for (const std::string& why : skipped) spdlog::warn("skipped a damaged snapshot: {}", why);
  uint64_t snapshot_index = 0;
  if (snapshot->has_value()) {
    const storage::Snapshot& snap = **snapshot;
    auto restored = mq::StateMachine::Restore(snap.data);
    if (!restored.ok()) return restored.status();
    state_ = std::move(restored).value();
    snapshot_index = snap.meta.index;
    CMQ_ASSERT(state_->last_applied_index() == snapshot_index,
               "snapshot file index and state index differ");
    stats_.snapshot_index = snapshot_index;
  }
  uint64_t first = log_->FirstIndex();
  uint64_t last = log_->LastIndex();
  if (last > snapshot_index && first > snapshot_index + 1) {
    return Status(ErrorCode::kCorruption, "the log starts at entry " + std::to_string(first) +
                                              " but the newest usable snapshot covers only up to " +
                                              std::to_string(snapshot_index));
  }
  for (uint64_t index = std::max(first, snapshot_index + 1); index <= last; ++index) {
    auto entry = log_->Read(index);
    if (!entry.ok()) return entry.status();
    auto decoded = mq::DecodeEntry(entry->payload);
    if (!decoded.ok()) {
      return Status(ErrorCode::kCorruption,
                    "log entry " + std::to_string(index) + ": " + decoded.status().ToString());
    }
    mq::ApplyContext ctx{decoded->now_ms, index, entry->payload};
    for (const mq::Command& cmd : decoded->commands) state_->Apply(cmd, ctx);
    stats_.commands_applied += decoded->commands.size();
    applied_bytes_since_snapshot_ += entry->payload.size();
    ++recovered_entries_;
  }
  stats_.log_first_index = first;
  uint64_t term = std::max<uint64_t>(1, log_->LoadHardState().term);
  core_ = std::make_unique<SingleVoterCore>(term, std::max(last, snapshot_index));
  return Status::Ok();
}

void Node::Start() {
  CMQ_ASSERT(!started_, "Node started twice");
  started_ = true;
  strand_work_ = std::make_unique<WorkGuard>(strand_ctx_.get_executor());
  disk_work_ = std::make_unique<WorkGuard>(disk_ctx_.get_executor());
  snapshot_work_ = std::make_unique<WorkGuard>(snapshot_ctx_.get_executor());
  disk_thread_ = std::thread([this] { disk_ctx_.run(); });
  snapshot_thread_ = std::thread([this] { snapshot_ctx_.run(); });
  strand_thread_ = std::thread([this] { strand_ctx_.run(); });
  boost::asio::post(strand_ctx_, [this] {
    OnPollTick();
    OnHousekeeping();
  });
}

void Node::Stop() {
  if (!started_ || stop_requested_.exchange(true)) return;
  boost::asio::post(strand_ctx_, [this] {
    stopped_ = true;
    poll_timer_.cancel();
    housekeeping_timer_.cancel();
    Status st = Unavailable("server is shutting down");
    for (Proposal& p : pending_) Finish(p, mq::ApplyResult{st, {}, {}, {}, {}});
    pending_.clear();
    for (Proposal& p : waiters_.TakeAll()) Finish(p, mq::ApplyResult{st, {}, {}, {}, {}});
    snapshot_work_.reset();  // likewise for snapshots: MaybeSnapshot() checks stopped_
  });
  snapshot_thread_.join();  // a snapshot being written completes; its truncation is skipped
  boost::asio::post(strand_ctx_, [this] {
    disk_work_.reset();  // no disk job can be posted after this: Drive() checks stopped_
  });
  disk_thread_.join();  // the in-flight write (if any) completes and posts OnPersisted
  boost::asio::post(strand_ctx_, [this] {
    FailAll(Unavailable("server is shutting down"));
    strand_work_.reset();
  });
  strand_thread_.join();
}

void Node::Submit(const mq::Command& cmd, CommandCallback done) {
  CMQ_ASSERT(cmd.type != mq::CommandType::kReceiveMessages, "receives go through Receive()");
  Proposal p;
  mq::EncodeCommand(cmd, p.encoded);
  p.done = std::move(done);
  if (stop_requested_) {
    p.done(
        CommandResult{mq::ApplyResult{Unavailable("server is shutting down"), {}, {}, {}, {}}, {}});
    return;
  }
  boost::asio::post(strand_ctx_, [this, p = std::move(p)]() mutable { Enqueue(std::move(p)); });
}

void Node::Receive(const mq::Command& cmd, std::optional<int64_t> wait_seconds,
                   CommandCallback done) {
  CMQ_ASSERT(cmd.type == mq::CommandType::kReceiveMessages, "Receive() takes receives only");
  Proposal p;
  mq::EncodeCommand(cmd, p.encoded);
  p.done = std::move(done);
  p.is_receive = true;
  p.queue_key = QueueKey(cmd.queue_name);
  if (stop_requested_) {
    p.done(
        CommandResult{mq::ApplyResult{Unavailable("server is shutting down"), {}, {}, {}, {}}, {}});
    return;
  }
  boost::asio::post(strand_ctx_,
                    [this, p = std::move(p), wait_seconds, name = cmd.queue_name]() mutable {
                      int64_t wait_s = 0;
                      if (wait_seconds) {
                        wait_s = *wait_seconds;
                      } else if (auto attrs = state_->GetAttributes(name)) {
                        wait_s = attrs->polling_wait_seconds;
                      }
                      p.deadline_ms = clock_->NowMs() + wait_s * 1000;
                      StartReceive(std::move(p));
                    });
}

void Node::GetQueue(std::string queue_name, std::function<void(Result<mq::QueueInfo>)> done) {
  boost::asio::post(strand_ctx_, [this, name = std::move(queue_name), done = std::move(done)] {
    done(state_->GetQueue(name, clock_->NowMs()));
  });
}

void Node::ListQueues(std::string search_word, uint64_t offset, uint64_t limit,
                      std::function<void(mq::QueueListing)> done) {
  boost::asio::post(strand_ctx_,
                    [this, search = std::move(search_word), offset, limit, done = std::move(done)] {
                      done(state_->ListQueues(search, offset, limit));
                    });
}

NodeStats Node::stats() {
  std::promise<NodeStats> promise;
  auto future = promise.get_future();
  boost::asio::post(strand_ctx_, [this, &promise] { promise.set_value(stats_); });
  return future.get();
}

// A receive runs as a command only if the leader's applied state shows a visible message
// now; otherwise it parks without touching the log. A receive that was proposed but found
// nothing when applied (another consumer got there first) parks again.
void Node::StartReceive(Proposal p) {
  int64_t now = clock_->NowMs();
  if (!failed_.ok() || stopped_) {
    Finish(p, mq::ApplyResult{
                  failed_.ok() ? Unavailable("server is shutting down") : failed_, {}, {}, {}, {}});
    return;
  }
  if (!state_->QueueExists(p.queue_key)) {
    Finish(p, mq::ApplyResult{Status(ErrorCode::kQueueNotExist, ""), {}, {}, {}, {}});
    return;
  }
  if (state_->HasVisibleMessage(p.queue_key, now)) {
    Enqueue(std::move(p));
  } else if (now >= p.deadline_ms) {
    Finish(p, mq::ApplyResult{Status(ErrorCode::kNoMessage, ""), {}, {}, {}, {}});
  } else {
    waiters_.Park(std::move(p));
  }
}

void Node::Enqueue(Proposal p) {
  if (stopped_) {
    Finish(p, mq::ApplyResult{Unavailable("server is shutting down"), {}, {}, {}, {}});
    return;
  }
  if (!failed_.ok()) {
    Finish(p, mq::ApplyResult{failed_, {}, {}, {}, {}});
    return;
  }
  pending_.push_back(std::move(p));
  Drive();
}

// The group-commit loop: everything that arrived while the disk was busy becomes one entry,
// persisted with one fsync. Order per etcd's contract: persist, advance, then apply.
void Node::Drive() {
  if (stopped_ || disk_busy_ || !failed_.ok()) return;
  if (!pending_.empty()) {
    size_t count = 0;
    uint64_t bytes = 0;
    while (count < pending_.size() &&
           (count == 0 || bytes + pending_[count].encoded.size() <= options_.max_entry_bytes)) {
      bytes += pending_[count].encoded.size();
      ++count;
    }
    auto payload = std::make_shared<std::string>();
    payload->reserve(bytes + 32);
    mq::EncodeEntryHeader(*payload, clock_->NowMs(), static_cast<uint32_t>(count));
    for (size_t i = 0; i < count; ++i) payload->append(pending_[i].encoded);
    uint64_t index = core_->Propose(payload);
    cache_.Add(index, payload);
    auto& slot = in_log_[index];
    slot.reserve(count);
    for (size_t i = 0; i < count; ++i) slot.push_back(std::move(pending_[i]));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(count));
  }
  if (!core_->HasReady()) return;
  Ready ready = core_->GetReady();
  std::vector<Entry> committed = std::move(ready.committed);
  ready.committed.clear();
  if (!ready.entries_to_persist.empty()) {
    disk_busy_ = true;
    boost::asio::post(disk_ctx_, [this, ready = std::move(ready)]() mutable {
      Status st;
      for (const Entry& e : ready.entries_to_persist) {
        st = log_->Append(e.term, e.index, *e.payload);
        if (!st.ok()) break;
      }
      if (st.ok() && ready.must_sync) st = log_->Sync();
      boost::asio::post(strand_ctx_, [this, ready = std::move(ready), st]() mutable {
        OnPersisted(std::move(ready), st);
      });
    });
  } else {
    core_->Advance(ready);
  }
  ApplyCommitted(committed);
}

void Node::OnPersisted(Ready ready, Status status) {
  disk_busy_ = false;
  if (!status.ok()) {
    // A failed write or fsync is fatal to the write path (the disk's state is unknown):
    // refuse every later write, answer everything in flight with the error.
    spdlog::error("log write failed, refusing writes from now on: {}", status.ToString());
    failed_ = Status(ErrorCode::kLogFailed, status.ToString());
    FailAll(failed_);
    return;
  }
  ++stats_.syncs;
  stats_.entries_written += ready.entries_to_persist.size();
  core_->Advance(ready);
  if (stopped_) {
    if (core_->HasReady()) ApplyCommitted(core_->GetReady().committed);
    return;
  }
  Drive();
}

void Node::ApplyCommitted(const std::vector<Entry>& committed) {
  std::map<std::string, size_t> woken;  // queue key -> messages made visible
  for (const Entry& e : committed) {
    auto decoded = mq::DecodeEntry(*e.payload);
    CMQ_ASSERT(decoded.ok(), "an entry this node encoded does not decode");
    auto proposals_it = in_log_.find(e.index);
    std::vector<Proposal>* proposals =
        proposals_it == in_log_.end() ? nullptr : &proposals_it->second;
    CMQ_ASSERT(proposals == nullptr || proposals->size() == decoded->commands.size(),
               "entry commands and waiting proposals differ in number");
    mq::ApplyContext ctx{decoded->now_ms, e.index, *e.payload};
    for (size_t i = 0; i < decoded->commands.size(); ++i) {
      const mq::Command& cmd = decoded->commands[i];
      mq::ApplyResult result = state_->Apply(cmd, ctx);
      ++stats_.commands_applied;
      if (result.status.ok() && (cmd.type == mq::CommandType::kSendMessages ||
                                 cmd.type == mq::CommandType::kRewindQueue ||
                                 cmd.type == mq::CommandType::kDeleteQueue)) {
        size_t n =
            cmd.type == mq::CommandType::kSendMessages ? result.msg_ids.size() : waiters_.size();
        woken[QueueKey(cmd.queue_name)] += n;
      }
      if (proposals != nullptr) {
        Proposal& p = (*proposals)[i];
        if (p.is_receive && result.status.code() == ErrorCode::kNoMessage &&
            clock_->NowMs() < p.deadline_ms && !stopped_) {
          waiters_.Park(std::move(p));
        } else {
          Finish(p, std::move(result));
        }
      }
    }
    if (proposals_it != in_log_.end()) in_log_.erase(proposals_it);
    applied_bytes_since_snapshot_ += e.payload->size();
  }
  for (const auto& [key, n] : woken) WakeWaiters(key, n);
  MaybeSnapshot();
}

// Snapshots bound the log and the restart time. The state is serialized on the strand (a
// pause linear in the retained messages: tens of ms per million), written by the snapshot
// thread, and then the disk thread drops the log segments that neither the older kept
// snapshot nor any retained message needs.
void Node::MaybeSnapshot() {
  if (stopped_ || snapshot_in_progress_ || !failed_.ok() ||
      applied_bytes_since_snapshot_ < options_.snapshot_interval_bytes) {
    return;
  }
  snapshot_in_progress_ = true;
  applied_bytes_since_snapshot_ = 0;
  uint64_t index = state_->last_applied_index();
  uint64_t oldest_referenced = state_->OldestReferencedLogIndex();
  storage::SnapshotMeta meta{index, log_->TermAt(index)};
  auto data = std::make_shared<std::string>(state_->Snapshot());
  boost::asio::post(snapshot_ctx_, [this, meta, data, oldest_referenced] {
    Status st = snapshots_.Save(meta, *data);
    boost::asio::post(strand_ctx_, [this, meta, oldest_referenced, st] {
      OnSnapshotSaved(meta.index, oldest_referenced, st);
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
    Status st = log_->TruncatePrefix(before);
    uint64_t first = log_->FirstIndex();
    boost::asio::post(strand_ctx_, [this, st, first] {
      if (!st.ok()) spdlog::error("dropping old log segments failed: {}", st.ToString());
      stats_.log_first_index = first;
    });
  });
}

void Node::Finish(Proposal& p, mq::ApplyResult result) {
  if (!p.done) return;
  CommandResult out;
  if (p.is_receive && result.status.ok()) {
    out.bodies = ReadBodies(result.messages);
    if (out.bodies.size() != result.messages.size()) {
      result.status = Status(ErrorCode::kIoError, "could not read message bodies from the log");
      result.messages.clear();
      out.bodies.clear();
    }
  }
  out.apply = std::move(result);
  auto done = std::move(p.done);
  p.done = nullptr;
  done(std::move(out));
}

// Bodies come from the in-memory cache of recent entries, or from the log by range. An
// empty vector means a read failed (logged).
std::vector<std::string> Node::ReadBodies(const std::vector<mq::ReceivedMessage>& messages) {
  std::vector<std::string> bodies;
  bodies.reserve(messages.size());
  for (const mq::ReceivedMessage& m : messages) {
    if (const std::string* payload = cache_.Find(m.body.log_index)) {
      CMQ_ASSERT(uint64_t{m.body.offset} + m.body.length <= payload->size(),
                 "body location outside its entry");
      bodies.emplace_back(payload->data() + m.body.offset, m.body.length);
      continue;
    }
    auto body = log_->ReadPayloadRange(m.body.log_index, m.body.offset, m.body.length);
    if (!body.ok()) {
      spdlog::error("reading body of message {} failed: {}", m.msg_id, body.status().ToString());
      return {};
    }
    bodies.push_back(std::move(body).value());
  }
  return bodies;
}

void Node::WakeWaiters(const std::string& queue_key, size_t max_to_wake) {
  if (max_to_wake == 0) return;
  for (Proposal& p : waiters_.Take(queue_key, max_to_wake)) StartReceive(std::move(p));
}

void Node::OnPollTick() {
  if (stopped_) return;
  int64_t now = clock_->NowMs();
  for (Proposal& p : waiters_.TakeExpired(now)) {
    Finish(p, mq::ApplyResult{Status(ErrorCode::kNoMessage, ""), {}, {}, {}, {}});
  }
  for (const std::string& key : waiters_.Queues()) {
    if (!state_->QueueExists(key) || state_->HasVisibleMessage(key, now)) {
      WakeWaiters(key, mq::kMaxBatch);
    }
  }
  poll_timer_.expires_after(std::chrono::milliseconds(options_.poll_tick_ms));
  poll_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) OnPollTick();
  });
}

void Node::OnHousekeeping() {
  if (stopped_) return;
  if (failed_.ok() && state_->message_count() > 0) {
    mq::Command cmd;
    cmd.type = mq::CommandType::kHousekeeping;
    Proposal p;
    mq::EncodeCommand(cmd, p.encoded);
    Enqueue(std::move(p));
  }
  housekeeping_timer_.expires_after(std::chrono::milliseconds(options_.housekeeping_interval_ms));
  housekeeping_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) OnHousekeeping();
  });
}

void Node::FailAll(const Status& status) {
  for (auto& [index, proposals] : in_log_) {
    for (Proposal& p : proposals) Finish(p, mq::ApplyResult{status, {}, {}, {}, {}});
  }
  in_log_.clear();
  for (Proposal& p : pending_) Finish(p, mq::ApplyResult{status, {}, {}, {}, {}});
  pending_.clear();
  for (Proposal& p : waiters_.TakeAll()) Finish(p, mq::ApplyResult{status, {}, {}, {}, {}});
}

}  // namespace cmq::cluster
