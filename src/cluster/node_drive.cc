// The group-commit loop: proposals → Raft → persist (disk thread) → advance → apply →
// answer. Every proposal that arrives while the disk is busy joins the next log entry, so
// one fdatasync covers many requests.

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cctype>
#include <chrono>

#include "cluster/node.h"
#include "cluster/node_internal.h"
#include "common/assert.h"
#include "mq/entry.h"
#include "raft/codec.h"

namespace cmq::cluster {

// A write and fsync slower than this is logged: half the shortest election timeout.
constexpr int64_t kSlowPersistMs = 200;
// Check-backs of entries older than this are not asked (a replica catching up on its log):
// the check was due long ago, and a later one follows.
constexpr int64_t kStaleCheckMs = 30'000;

using internal::ErrorResult;
using internal::LeadershipChanged;
using internal::QueueKey;

void Node::Enqueue(Proposal p) {
  if (p.is_send) ++sends_in_flight_[p.queue_key];  // until Finish, whichever way it ends
  if (stopped_) {
    Finish(p, ErrorResult(Status(ErrorCode::kUnavailable, "server is shutting down")));
    return;
  }
  if (!failed_.ok()) {
    Finish(p, ErrorResult(failed_));
    return;
  }
  pending_.push_back(std::move(p));
  Drive();
}

// Persists one Ready in the order its contract requires (raft/ready.h): snapshot, entries,
// fsync, then the hard state (so the durable commit index never passes the durable log).
Status Node::PersistReady(const raft::Ready& rd) {
  const auto start = std::chrono::steady_clock::now();
  if (rd.snapshot) CMQ_RETURN_IF_ERROR(InstallSnapshot(*rd.snapshot));
  if (!rd.entries.empty()) CMQ_RETURN_IF_ERROR(storage_->Append(rd.entries));
  if (rd.must_sync || !rd.entries.empty()) CMQ_RETURN_IF_ERROR(storage_->Sync());
  if (rd.hard_state) CMQ_RETURN_IF_ERROR(storage_->SetHardState(*rd.hard_state));
  // While this runs the group sends nothing new but heartbeats (Node::OnRaftTick), and
  // answers no proposal: say so, to tell a slow disk apart.
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  if (ms >= kSlowPersistMs) {
    spdlog::warn("group {}: writing and syncing {} log entries took {} ms (slow disk?)",
                 options_.group_id, rd.entries.size(), ms);
  }
  return Status::Ok();
}

// Forms one log entry of the pending proposals (as many as max_entry_bytes allows) and
// proposes it. Drive calls it when the disk is free (group commit: what arrived while it
// was busy shares one entry); a chosen receive calls it at once (Node::ProposeChosen).
void Node::ProposePending() {
  if (pending_.empty()) return;
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
  auto index = raft_->Propose(payload);
  if (!index.ok()) {
    // Not leader (an election is under way), a leadership transfer, or too much proposed
    // and not yet applied: retryable.
    const char* why =
        is_leader_ ? "the leader cannot take this request now (" : "this node is not the leader (";
    Status st = index.status().code() == ErrorCode::kUnavailable
                    ? Status(ErrorCode::kUnavailable, why + index.status().message() + "); retry")
                    : index.status();
    for (size_t i = 0; i < count; ++i) {
      if (pending_[i].chosen) state_->ReleaseReservation(pending_[i].chosen->chosen);
      Finish(pending_[i], ErrorResult(st));
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(count));
  } else {
    cache_.Add(*index, payload);
    InLog& slot = in_log_[*index];
    slot.term = raft_->hard_state().term;
    slot.proposals.reserve(count);
    for (size_t i = 0; i < count; ++i) slot.proposals.push_back(std::move(pending_[i]));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(count));
    // Receives whose messages were chosen are answered now that their choice is in the
    // log: if it never commits, the messages are delivered again (at least once).
    for (Proposal& p : slot.proposals) AnswerAtProposal(p);
  }
}

void Node::Drive() {
  if (stopped_ || !failed_.ok()) return;
  if (raft_->hard_state().term != reservation_term_) {
    // First, before anything is applied: reservations of an older term are given back.
    ResetReservationsIfTermChanged();  // may Drive again, through the receives it restarts
    return Drive();
  }
  if (disk_busy_) {
    // A leader learns of commits while it fsyncs: what a quorum holds is applied now,
    // also entries its own disk is still writing (a send's answer, and the receive it
    // wakes, wait for the commit, not for this node's fsync). Not beside a snapshot being
    // installed.
    if (is_leader_ && !persisting_snapshot_) {
      std::vector<raft::Entry> committed = raft_->TakeCommittedEntries();
      if (!committed.empty()) {
        ++stats_.applied_while_persisting;
        ApplyCommitted(committed);
      }
    }
    return;
  }
  ProposePending();
  if (!raft_->HasReady()) return;
  raft::Ready ready = raft_->GetReady();
  if (ready.soft_state) OnSoftState(*ready.soft_state);
  if (!ready.snapshot && ready.entries.empty() && !ready.hard_state) {
    // Nothing to persist (only soft state, messages or committed entries): no disk trip.
    SendMessages(ready.messages);
    ApplyCommitted(ready.committed_entries);
    raft_->Advance(ready);
    NotifyMembershipIfChanged();
    return Drive();
  }
  // A leader's appends and heartbeats promise nothing about its own disk, so they go out
  // now and the followers' fsyncs overlap the leader's (the core counts the leader toward
  // a commit only once Advance reports its entries stable). Not when this Ready changes
  // the term: a message must never name a term the sender has not made durable.
  if (is_leader_) {
    std::vector<raft::Message> early;
    std::vector<raft::Message> later;
    for (raft::Message& m : ready.messages) {
      const bool replication =
          m.type == raft::MessageType::kApp || m.type == raft::MessageType::kHeartbeat;
      (replication && m.term == durable_term_ ? early : later).push_back(std::move(m));
    }
    ready.messages = std::move(later);
    SendMessages(early);
  }
  // Committed entries are already durable (they never include this Ready's own entries),
  // so they are applied while the disk persists the new ones. The Ready keeps them: Advance
  // reports them applied to the core (which frees their uncommitted-bytes budget). After a
  // snapshot they wait until it is installed and the state restored from it.
  if (!is_leader_) {
    // A follower keeps what it appends in the cache too (the same shared payloads): if it
    // becomes the leader, receives of recent messages need no disk read.
    for (const raft::Entry& e : ready.entries) {
      if (e.type == raft::EntryType::kNormal && e.data) cache_.Add(e.index, e.data);
    }
  }
  const bool apply_now = !ready.snapshot;
  disk_busy_ = true;
  persisting_snapshot_ = ready.snapshot.has_value();
  persist_started_ = std::chrono::steady_clock::now();
  if (!is_leader_ && options_.follower_persists_on_strand) {
    // A follower has no proposals to gather while its disk works, so it writes and fsyncs
    // right here: two thread hand-offs fewer per entry (each costs tens of µs of CPU on a
    // virtual machine), and Step calls simply wait the fsync out. (Not a leader: proposals
    // arriving meanwhile would wait in the strand's queue and each then get an fsync of
    // its own, since Enqueue drives at once; measured: 2,000 msgs/s instead of 60,000.)
    if (apply_now) ApplyCommitted(ready.committed_entries);
    Status st;
    {
      std::lock_guard lock(storage_write_mu_);
      st = PersistReady(ready);
    }
    return OnPersisted(std::move(ready), st);
  }
  std::vector<raft::Entry> committed;
  if (apply_now) committed = ready.committed_entries;
  boost::asio::post(disk_ctx_, [this, ready = std::move(ready)]() mutable {
    Status st;
    {
      std::lock_guard lock(storage_write_mu_);
      st = PersistReady(ready);
    }
    boost::asio::post(strand_ctx_, [this, ready = std::move(ready), st]() mutable {
      OnPersisted(std::move(ready), st);
    });
  });
  if (apply_now) ApplyCommitted(committed);
}

void Node::FollowLeaderAfterFailure() {
  // A node whose log failed takes no Ready any more (it cannot persist one), so
  // OnSoftState no longer runs. It still steps the messages it receives, so its core
  // learns who leads now: publishing that lets the requests that reach this node be
  // forwarded there (api/forwarding.h) instead of failing here until a restart. It never
  // names itself: it cannot write.
  const raft::SoftState ss = raft_->soft_state();
  is_leader_ = false;
  leader_term_.store(raft_->hard_state().term, std::memory_order_release);
  leader_id_.store(ss.lead == options_.node_id ? 0 : ss.lead, std::memory_order_release);
}

void Node::OnSoftState(const raft::SoftState& ss) {
  const bool was_leader = is_leader_;
  is_leader_ = ss.role == raft::Role::kLeader;
  leader_term_.store(raft_->hard_state().term, std::memory_order_release);
  leader_id_.store(ss.lead, std::memory_order_release);
  if (was_leader && !is_leader_) {
    // Requests that are not in the log yet, and parked receives, cannot be served here any
    // more: their clients retry (through the new leader). Proposals already in the log
    // are answered when their index is applied (they may still commit).
    spdlog::info("group {}: node {} is no longer the leader (leader now {})", options_.group_id,
                 options_.node_id, ss.lead);
    Status st(ErrorCode::kUnavailable, "leadership moved to another node; retry");
    for (Proposal& p : pending_) Finish(p, ErrorResult(st));
    pending_.clear();
    for (Proposal& p : waiters_.TakeAll()) Finish(p, ErrorResult(st));
    // Messages reserved for receives in the log: the receives may never commit, and a
    // new leader chooses from what is committed (a leader that steps down keeps its term).
    state_->ReleaseReservations();
    pushes_in_flight_.clear();
    stream_.reset();
    // Cached payloads of entries this leader proposed but that never committed may be
    // replaced in the log by the new leader's: forget them all.
    cache_.Clear();
  } else if (is_leader_ && !was_leader) {
    spdlog::info("group {}: node {} is the leader (term {})", options_.group_id, options_.node_id,
                 raft_->hard_state().term);
  }
}

void Node::SendMessages(std::vector<raft::Message>& messages) {
  for (raft::Message& m : messages) {
    if (m.type == raft::MessageType::kSnap) {
      SendSnapshot(std::move(m));
      continue;
    }
    const uint64_t to = m.to;
    if (!raft_send_ || !raft_send_(to, raft::EncodeMessage(m))) raft_->ReportUnreachable(to);
  }
  messages.clear();
}

void Node::OnPersisted(raft::Ready ready, Status status) {
  disk_busy_ = false;
  if (status.ok() && ready.hard_state) durable_term_ = ready.hard_state->term;
  if (!status.ok()) {
    // A failed write or fsync is fatal to the write path (the disk's state is unknown):
    // refuse every later write, answer everything in flight with the error.
    spdlog::error("log write failed, refusing writes from now on: {}", status.ToString());
    failed_ = Status(ErrorCode::kLogFailed, status.ToString());
    FollowLeaderAfterFailure();  // first: the answers below let clients look again
    FailAll(failed_);
    return;
  }
  if (!ready.entries.empty()) {
    ++stats_.syncs;
    stats_.entries_written += ready.entries.size();
  }
  SendMessages(ready.messages);
  if (ready.snapshot) {
    RestoreFromSnapshot(*ready.snapshot);
    ApplyCommitted(ready.committed_entries);
  }
  raft_->Advance(ready);
  NotifyMembershipIfChanged();
  if (stopped_) {
    // Apply what became committed, so that the answers to durable writes go out.
    while (raft_->HasReady()) {
      raft::Ready rd = raft_->GetReady();
      if (!rd.entries.empty() || rd.snapshot) break;  // nothing new may be written now
      ApplyCommitted(rd.committed_entries);
      raft_->Advance(rd);
    }
    return;
  }
  Drive();
}

void Node::ApplyCommitted(const std::vector<raft::Entry>& committed) {
  std::map<std::string, size_t> woken;  // queue key -> messages made visible
  for (const raft::Entry& e : committed) ApplyEntry(e, woken);
  for (Proposal& p : std::exchange(advanced_receives_, {})) StartReceive(std::move(p), true);
  for (const auto& [key, n] : woken) WakeWaiters(key, n);
  if (started_) PumpPushes();
  MaybeSnapshot();
}

void Node::ApplyEntry(const raft::Entry& e, std::map<std::string, size_t>& woken) {
  CMQ_ASSERT(e.index == applied_index_ + 1, "committed entries must be applied in order");
  applied_index_ = e.index;
  applied_term_ = e.term;
  // Conf changes are applied by the Raft core itself; a new leader's empty entry carries
  // nothing.
  if (e.type != raft::EntryType::kNormal || e.data_size() == 0) {
    FailInLog(e.index, LeadershipChanged());
    if (e.type == raft::EntryType::kConfChange) OnConfChangeApplied(e);
    return;
  }
  auto decoded = mq::DecodeEntry(e.data_view());
  if (!decoded.ok()) {
    // Applying past it would make this replica differ from the others: stop.
    spdlog::critical(
        "group {}: committed entry {} does not decode ({}); written by a newer version? "
        "(docs/cluster.md \"Upgrades\")",
        options_.group_id, e.index, decoded.status().ToString());
  }
  CMQ_ASSERT(decoded.ok(), "a committed entry does not decode");
  auto proposals_it = in_log_.find(e.index);
  std::vector<Proposal>* proposals = nullptr;
  if (proposals_it != in_log_.end()) {
    if (proposals_it->second.term == e.term) {
      proposals = &proposals_it->second.proposals;
    } else {
      // Another leader's entry took this index: ours never committed.
      Status st = LeadershipChanged();
      for (Proposal& p : proposals_it->second.proposals) Finish(p, ErrorResult(st));
    }
  }
  CMQ_ASSERT(proposals == nullptr || proposals->size() == decoded->commands.size(),
             "entry commands and waiting proposals differ in number");
  mq::ApplyContext ctx{decoded->now_ms, e.index, e.data_view()};
  for (size_t i = 0; i < decoded->commands.size(); ++i) {
    const mq::Command& cmd = decoded->commands[i];
    mq::ApplyResult result = state_->Apply(cmd, ctx);
    ++stats_.commands_applied;
    if (cmd.type == mq::CommandType::kMoveBodies) stats_.bodies_moved += result.msg_ids.size();
    for (const std::string& fed : result.queues_fed) woken[fed] += cmd.bodies.size();
    if (result.status.ok() &&
        (cmd.type == mq::CommandType::kSendMessages || cmd.type == mq::CommandType::kRewindQueue ||
         cmd.type == mq::CommandType::kDeleteQueue ||
         cmd.type == mq::CommandType::kConfirmTransaction)) {
      // Sends and commits wake one receiver per message made visible.
      size_t n = cmd.type == mq::CommandType::kSendMessages ||
                         cmd.type == mq::CommandType::kConfirmTransaction
                     ? result.msg_ids.size()
                     : waiters_.size();
      woken[QueueKey(cmd.queue_name)] += n;
    }
    if (!result.transaction_checks.empty() && started_ && check_listener_ &&
        clock_->NowMs() - decoded->now_ms <= kStaleCheckMs) {
      for (const mq::TransactionCheck& check : result.transaction_checks) check_listener_(check);
    }
    if (proposals == nullptr) continue;
    Proposal& p = (*proposals)[i];
    if (p.is_receive && p.done && cmd.type == mq::CommandType::kReceiveChosen &&
        cmd.chosen_keys.empty() && !stopped_) {
      advanced_receives_.push_back(std::move(p));  // its queue is up to time: choose now
    } else {
      Finish(p, std::move(result));
    }
  }
  if (proposals_it != in_log_.end()) in_log_.erase(proposals_it);
  applied_bytes_since_snapshot_ += e.data_size();
}

void Node::Finish(Proposal& p, mq::ApplyResult result) {
  if (p.is_send) {
    p.is_send = false;  // counted out once, whichever way it ends
    auto it = sends_in_flight_.find(p.queue_key);
    CMQ_ASSERT(it != sends_in_flight_.end() && it->second > 0, "a send finished twice");
    if (--it->second == 0) sends_in_flight_.erase(it);
  }
  if (!p.done) return;  // a receive answered when proposed
  CommandResult out;
  // A receive gets here only with an error: its messages, when it has some, are answered
  // at proposal (Node::AnswerAtProposal) with their bodies.
  CMQ_ASSERT(!p.is_receive || !result.status.ok(), "a receive answered at its apply");
  out.apply = std::move(result);
  auto done = std::move(p.done);
  p.done = nullptr;
  done(std::move(out));
}

// Conf changes take effect in the core (RawNode::Advance); here the node keeps the address
// an added node came with, answers whoever proposed it, and tells the listener afterwards.
void Node::OnConfChangeApplied(const raft::Entry& e) {
  auto cc = raft::DecodeConfChange(e.data_view());
  CMQ_ASSERT(cc.ok(), "a committed conf change does not decode");
  if (cc->type == raft::ConfChangeType::kRemoveNode) {
    addresses_.erase(cc->node);
  } else if (!cc->context.empty()) {
    addresses_[cc->node] = cc->context;
  }
  conf_changed_ = true;
  spdlog::info("group {}: membership change applied at {}: {}", options_.group_id, e.index,
               raft::DescribeConfChange(*cc));
  // Whoever proposed it hears back only after Advance, when the core has taken the change
  // in (until then it refuses the next change as still pending).
  for (auto it = conf_waiters_.begin(); it != conf_waiters_.end() && it->first <= e.index;) {
    Status st = it->first == e.index && it->second.term == e.term
                    ? Status::Ok()
                    : Status(ErrorCode::kUnavailable,
                             "leadership changed before the membership change committed; retry");
    conf_answers_.emplace_back(std::move(it->second.done), st);
    it = conf_waiters_.erase(it);
  }
}

void Node::NotifyMembershipIfChanged() {
  if (!conf_changed_) return;
  conf_changed_ = false;
  if (membership_) membership_(raft_->conf_state(), addresses_);
  auto answers = std::move(conf_answers_);
  conf_answers_.clear();
  for (auto& [done, st] : answers) done(st);
}

// Fails the proposals in the log at or below up_to_index (their entries were replaced, or a
// snapshot covers them and they cannot be matched to results any more).
void Node::FailInLog(uint64_t up_to_index, const Status& status) {
  for (auto it = in_log_.begin(); it != in_log_.end();) {
    if (it->first > up_to_index) {
      ++it;
      continue;
    }
    for (Proposal& p : it->second.proposals) Finish(p, ErrorResult(status));
    it = in_log_.erase(it);
  }
}

void Node::FailAll(const Status& status) {
  for (auto& [index, slot] : in_log_) {
    for (Proposal& p : slot.proposals) Finish(p, ErrorResult(status));
  }
  for (auto& [index, waiter] : conf_waiters_) waiter.done(status);
  conf_waiters_.clear();
  auto answers = std::move(conf_answers_);  // applied: their own answers stand
  conf_answers_.clear();
  for (auto& [done, st] : answers) done(st);
  in_log_.clear();
  for (Proposal& p : pending_) Finish(p, ErrorResult(status));
  pending_.clear();
  for (Proposal& p : waiters_.TakeAll()) Finish(p, ErrorResult(status));
}

// Bodies come from the in-memory cache of recent entries, or from the log by range.
Result<std::string> Node::ReadBody(const mq::BodyLocation& where) {
  if (const std::string* payload = cache_.Find(where.log_index)) {
    CMQ_ASSERT(uint64_t{where.offset} + where.length <= payload->size(),
               "body location outside its entry");
    return std::string(payload->data() + where.offset, where.length);
  }
  return storage_->ReadDataRange(where.log_index, where.offset, where.length);
}

// An empty vector means a read failed (logged).
std::vector<std::string> Node::ReadBodies(const std::vector<mq::ReceivedMessage>& messages) {
  std::vector<std::string> bodies;
  bodies.reserve(messages.size());
  for (const mq::ReceivedMessage& m : messages) {
    auto body = ReadBody(m.body);
    if (!body.ok()) {
      spdlog::error("reading body of message {} failed: {}", m.msg_id, body.status().ToString());
      return {};
    }
    bodies.push_back(std::move(body).value());
  }
  return bodies;
}

}  // namespace cmq::cluster
