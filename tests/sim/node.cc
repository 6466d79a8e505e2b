#include "sim/node.h"

#include "mq/entry.h"
#include "raft/describe.h"
#include "sim/app_snapshot.h"

namespace cmq::sim {
namespace {

constexpr uint32_t kGroupId = 1;
constexpr const char* kDir = "/node";

Status Unavailable(std::string why) {
  return Status(ErrorCode::kUnavailable, std::move(why));
}

}  // namespace

SimNode::SimNode(raft::NodeId id, const NodeParams& params, SimRandom* random, Trace* trace,
                 Checker* checker)
    : id_(id),
      params_(params),
      random_(random),
      trace_(trace),
      checker_(checker),
      disk_(id, random, trace) {}

SimNode::~SimNode() = default;

bool SimNode::is_leader() const {
  return raw_ != nullptr && raw_->soft_state().role == raft::Role::kLeader;
}

Status SimNode::Bootstrap(const raft::ConfState& conf_state) {
  cluster::RaftStorageOptions options{kDir, params_.segment_bytes, 2};
  auto storage = cluster::RaftStorage::Open(disk_.fs(), options);
  if (!storage.ok()) return storage.status();
  mq::StateMachine empty(kGroupId);
  AppSnapshot app{1, 0, empty.Snapshot(), {}};
  raft::Snapshot snapshot;
  snapshot.meta = raft::SnapshotMeta{1, 1, conf_state};
  snapshot.data = raft::MakePayload(EncodeAppSnapshot(app));
  CMQ_RETURN_IF_ERROR((*storage)->ApplySnapshot(snapshot));
  return (*storage)->SetHardState(raft::HardState{1, raft::kNoNode, 1});
}

Status SimNode::Start(uint64_t raft_seed) {
  CMQ_ASSERT(!up(), "Start of a running node");
  cluster::RaftStorageOptions options{kDir, params_.segment_bytes, 2};
  auto storage = cluster::RaftStorage::Open(disk_.fs(), options);
  if (!storage.ok()) return storage.status();
  storage_ = std::move(*storage);
  state_ = std::make_unique<mq::StateMachine>(kGroupId);
  applied_index_ = 0;
  applied_hash_ = 0;
  snapshot_bodies_.clear();
  auto snapshot = storage_->GetSnapshot();
  if (!snapshot.ok()) return snapshot.status();
  if (!snapshot->empty()) CMQ_RETURN_IF_ERROR(RestoreSnapshot(*snapshot));
  snapshot_index_ = snapshot->meta.index;
  previous_snapshot_index_ = 0;
  raft::Config config;
  config.id = id_;
  config.seed = raft_seed;
  config.election_tick = params_.election_tick;
  config.heartbeat_tick = params_.heartbeat_tick;
  config.announce_commit_at_once = params_.announce_commit_at_once;
  config.max_msg_bytes = params_.max_msg_bytes;
  config.max_inflight_msgs = params_.max_inflight_msgs;
  auto raw = raft::RawNode::Create(config, storage_.get());
  if (!raw.ok()) return raw.status();
  raw_ = std::move(*raw);
  SIM_TRACE(*trace_, "node {} started: snapshot {} first {} last {} {}", id_, snapshot->meta.index,
            storage_->FirstIndex(), storage_->LastIndex(),
            raft::DescribeHardState(raw_->hard_state()));
  return Status::Ok();
}

void SimNode::Stop() {
  raw_.reset();
  storage_.reset();
  state_.reset();
  batch_.clear();
  pending_.clear();  // their clients time out
  replies_.clear();
}

Status SimNode::Submit(const ClientCall& call, std::string encoded_command) {
  if (!up()) return Unavailable("node down");
  if (!is_leader()) return Unavailable("not leader");
  Queued q{call, std::move(encoded_command), std::nullopt};
  std::string_view in = q.encoded;
  auto cmd = mq::DecodeCommand(in);
  if (cmd.ok() && cmd->type == mq::CommandType::kReceiveMessages) q.receive = std::move(*cmd);
  batch_.push_back(std::move(q));
  return Status::Ok();
}

bool SimNode::ChoosesReceives(bool after_advance) const {
  return is_leader() && applied_term_ == raw_->raft().term() &&
         (after_advance || raw_->CanServeReadLocally());
}

void SimNode::ChooseReceive(Queued& q, int64_t now_ms, std::optional<mq::ApplyResult>& answer,
                            bool& answered_now) {
  answered_now = false;
  if (ChoosesReceives(q.after_advance)) {
    auto reservation = state_->ReserveReceive(*q.receive, now_ms);
    if (reservation.ok()) {
      q.encoded.clear();
      mq::EncodeCommand(reservation->command, q.encoded);
      answer = mq::ApplyResult{};
      answer->messages = std::move(reservation->messages);
      return;
    }
    if (reservation.status().code() != ErrorCode::kNoMessage || q.after_advance ||
        !state_->HasVisibleMessage(q.receive->queue_name, now_ms)) {
      answer = mq::ApplyResult{};
      answer->status = reservation.status();
      answered_now = true;
      return;
    }
  }
  // Not caught up with the log yet, or messages due that the applied state has not made
  // visible: a chosen receive without messages; its client hears "no message" at the apply.
  mq::Command advance;
  advance.type = mq::CommandType::kReceiveChosen;
  advance.queue_name = q.receive->queue_name;
  advance.received_at_ms = now_ms;
  q.encoded.clear();
  mq::EncodeCommand(advance, q.encoded);
}

void SimNode::Flush(int64_t now_ms) {
  if (batch_.empty() || !up()) return;
  if (raw_->raft().term() != reservation_term_) {
    reservation_term_ = raw_->raft().term();
    state_->ReleaseReservations();
  }
  std::vector<ClientCall> calls;
  std::vector<std::optional<mq::ApplyResult>> answered;
  std::vector<std::optional<mq::Command>> advanced;
  std::vector<std::string> encoded;
  for (Queued& q : batch_) {
    std::optional<mq::ApplyResult> answer;
    bool answered_now = false;
    if (q.receive) ChooseReceive(q, now_ms, answer, answered_now);
    if (answered_now) {
      replies_.push_back(Reply{q.call, true, 0, std::move(*answer), {}});
      continue;
    }
    calls.push_back(q.call);
    advanced.push_back(q.receive && !answer ? std::move(q.receive) : std::nullopt);
    answered.push_back(std::move(answer));
    encoded.push_back(std::move(q.encoded));
  }
  batch_.clear();
  if (calls.empty()) return;
  auto payload = std::make_shared<std::string>();
  mq::EncodeEntryHeader(*payload, now_ms, static_cast<uint32_t>(calls.size()));
  for (const std::string& e : encoded) payload->append(e);
  auto index = raw_->Propose(payload);
  if (!index.ok()) {
    for (size_t i = 0; i < calls.size(); ++i) {
      if (answered[i]) {
        std::string_view in = encoded[i];
        auto chosen = mq::DecodeCommand(in);
        CMQ_ASSERT(chosen.ok(), "a chosen receive does not decode");
        state_->ReleaseReservation(*chosen);
      }
      replies_.push_back(Reply{calls[i], false, 0, {}, {}});
    }
    return;
  }
  SIM_TRACE(*trace_, "node {} proposes {} commands at {}/{}", id_, calls.size(),
            raw_->raft().term(), *index);
  // Receives with chosen messages are answered now, before the entry commits.
  for (size_t i = 0; i < calls.size(); ++i) {
    if (!answered[i]) continue;
    Reply reply{calls[i], true, *index, *answered[i], {}};
    reply.bodies = ReadBodies(reply.result, *index);
    replies_.push_back(std::move(reply));
  }
  pending_[*index] =
      Pending{raw_->raft().term(), std::move(calls), std::move(answered), std::move(advanced)};
}

Status SimNode::Process(Network* network, uint64_t now) {
  while (up() && raw_->HasReady()) {
    raft::Ready rd = raw_->GetReady();
    if (rd.soft_state) OnSoftState(*rd.soft_state);
    CMQ_RETURN_IF_ERROR(Persist(rd));
    for (const raft::Message& m : rd.messages) {
      bool sent = network->Send(m, now);
      if (!sent && m.type == raft::MessageType::kSnap) raw_->ReportSnapshot(m.to, false);
    }
    if (rd.snapshot) {
      CMQ_RETURN_IF_ERROR(RestoreSnapshot(*rd.snapshot));
      ++snapshots_installed_;
    }
    for (const raft::Entry& e : rd.committed_entries) Apply(e);
    raw_->Advance(rd);
    CMQ_RETURN_IF_ERROR(MaybeSnapshot());
  }
  return Status::Ok();
}

Status SimNode::Persist(const raft::Ready& rd) {
  if (rd.snapshot) {
    SIM_TRACE(*trace_, "node {} installs snapshot {}", id_,
              raft::DescribeSnapshotMeta(rd.snapshot->meta));
    CMQ_RETURN_IF_ERROR(storage_->ApplySnapshot(*rd.snapshot));
    snapshot_index_ = rd.snapshot->meta.index;
    previous_snapshot_index_ = 0;
  }
  if (!rd.entries.empty()) {
    CMQ_RETURN_IF_ERROR(storage_->Append(rd.entries));
    for (size_t i = 0; i < rd.entries.size(); ++i) {
      const raft::Entry& e = rd.entries[i];
      if (e.index < storage_->FirstIndex()) continue;
      raft::Term prev = 0;
      if (i > 0) {
        prev = rd.entries[i - 1].term;
      } else {
        auto t = storage_->TermAt(e.index - 1);
        prev = t.ok() ? *t : 0;
      }
      checker_->OnPersist(id_, e, prev);
    }
  }
  if (rd.must_sync || !rd.entries.empty()) CMQ_RETURN_IF_ERROR(storage_->Sync());
  // After the sync: the persisted commit index never passes the durable log.
  if (rd.hard_state) CMQ_RETURN_IF_ERROR(storage_->SetHardState(*rd.hard_state));
  return Status::Ok();
}

void SimNode::OnSoftState(const raft::SoftState& ss) {
  SIM_TRACE(*trace_, "node {} {} term {}", id_, raft::DescribeSoftState(ss), raw_->raft().term());
  if (ss.role != raft::Role::kLeader) {
    state_->ReleaseReservations();  // the receives they were for may never commit
    return;
  }
  const raft::Term term = raw_->raft().term();
  checker_->OnLeader(id_, term);
  // Leader completeness: every entry known committed is in our log.
  const raft::RaftLog& log = raw_->raft().log();
  const auto& committed = checker_->committed();
  for (auto it = committed.lower_bound(log.FirstIndex()); it != committed.end(); ++it) {
    auto t = log.TermAt(it->first);
    if (!t.ok() || *t != it->second.first) {
      checker_->Fail(fmt::format(
          "leader completeness: node {} leads term {} without committed entry {}/{} (has {})", id_,
          term, it->second.first, it->first, t.ok() ? std::to_string(*t) : "none"));
      return;
    }
  }
}

Status SimNode::RestoreSnapshot(const raft::Snapshot& snapshot) {
  auto app = DecodeAppSnapshot(snapshot.data ? std::string_view(*snapshot.data) : "");
  if (!app.ok()) return app.status();
  if (app->applied_index != snapshot.meta.index) {
    checker_->Fail(fmt::format("snapshot at {} holds a state applied up to {}", snapshot.meta.index,
                               app->applied_index));
  }
  auto state = mq::StateMachine::Restore(app->mq_state);
  if (!state.ok()) {
    checker_->Fail("mq snapshot does not restore: " + state.status().ToString());
    return state.status();
  }
  state_ = std::move(*state);
  applied_index_ = snapshot.meta.index;
  applied_term_ = snapshot.meta.term;
  applied_hash_ = app->applied_hash;
  snapshot_bodies_ = std::move(app->body_entries);
  checker_->OnRestore(id_, applied_index_, applied_hash_);
  FailPending(applied_index_);
  return Status::Ok();
}

void SimNode::FailPending(raft::Index up_to) {
  while (!pending_.empty() && pending_.begin()->first <= up_to) {
    const Pending& p = pending_.begin()->second;
    for (size_t i = 0; i < p.calls.size(); ++i) {
      if (p.answered[i]) continue;  // answered when proposed: delivered again later
      replies_.push_back(Reply{p.calls[i], false, pending_.begin()->first, {}, {}});
    }
    pending_.erase(pending_.begin());
  }
}

void SimNode::Apply(const raft::Entry& e) {
  if (e.index != applied_index_ + 1) {
    checker_->Fail(fmt::format("node {} applies {} after {}", id_, e.index, applied_index_));
  }
  applied_hash_ = Checker::ChainHash(applied_hash_, e);
  checker_->OnApply(id_, e, applied_hash_);
  std::vector<mq::ApplyResult> results;
  if (e.type == raft::EntryType::kNormal && e.data_size() > 0) ApplyCommands(e, &results);
  applied_index_ = e.index;
  applied_term_ = e.term;
  FailPending(e.index - 1);  // proposals below this index were never applied: lost
  auto p = pending_.find(e.index);
  if (p == pending_.end()) return;
  const bool ours = p->second.term == e.term && results.size() == p->second.calls.size();
  for (size_t i = 0; i < p->second.calls.size(); ++i) {
    if (const auto& early = p->second.answered[i]) {
      // The leader chose from its applied state, and every entry before this one is its
      // own: the apply must make exactly what it answered.
      if (ours) CheckChosenAnswer(e.index, *early, results[i]);
      continue;
    }
    if (ours && p->second.advanced[i] && is_leader()) {
      // Its queue is up to this entry's time: choose now, as cluster::Node does.
      batch_.push_back(Queued{p->second.calls[i], {}, std::move(p->second.advanced[i]), true});
      continue;
    }
    Reply reply{p->second.calls[i], ours, e.index, {}, {}};
    if (ours) {
      reply.bodies = ReadBodies(results[i], e.index);
      reply.result = std::move(results[i]);
    }
    replies_.push_back(std::move(reply));
  }
  pending_.erase(p);
}

void SimNode::CheckChosenAnswer(raft::Index index, const mq::ApplyResult& answered,
                                const mq::ApplyResult& applied) {
  bool same = answered.messages.size() == applied.messages.size();
  for (size_t i = 0; same && i < applied.messages.size(); ++i) {
    const mq::ReceivedMessage& a = answered.messages[i];
    const mq::ReceivedMessage& b = applied.messages[i];
    // Not the body's place: a kMoveBodies applied in between may have moved it (the client
    // got it from where it was; the checker compares what it got with what was sent).
    same = a.msg_id == b.msg_id && a.receipt_handle == b.receipt_handle &&
           a.body.length == b.body.length && a.next_visible_time_ms == b.next_visible_time_ms &&
           a.dequeue_count == b.dequeue_count && a.first_dequeue_time_ms == b.first_dequeue_time_ms;
  }
  if (!same) {
    auto describe = [](const mq::ApplyResult& r) {
      std::string out;
      for (const mq::ReceivedMessage& m : r.messages) {
        out += fmt::format(" [id {} handle {} body {}/{}/{} next {} first {} count {}]", m.msg_id,
                           m.receipt_handle, m.body.log_index, m.body.offset, m.body.length,
                           m.next_visible_time_ms, m.first_dequeue_time_ms, m.dequeue_count);
      }
      return out;
    };
    checker_->Fail(
        fmt::format("queue: node {} answered a receive at {} with{}, its apply made{} ({})", id_,
                    index, describe(answered), describe(applied), applied.status.ToString()));
  }
}

void SimNode::ApplyCommands(const raft::Entry& e, std::vector<mq::ApplyResult>* results) {
  auto decoded = mq::DecodeEntry(e.data_view());
  if (!decoded.ok()) {
    checker_->Fail(
        fmt::format("entry {} does not decode: {}", e.index, decoded.status().ToString()));
    return;
  }
  mq::ApplyContext ctx{decoded->now_ms, e.index, e.data_view()};
  for (const mq::Command& cmd : decoded->commands) {
    mq::ApplyResult r = state_->Apply(cmd, ctx);
    switch (cmd.type) {
      case mq::CommandType::kSendMessages:
        checker_->OnSendApplied(e.index, cmd.bodies, r);
        break;
      case mq::CommandType::kReceiveMessages:
      case mq::CommandType::kReceiveChosen:
        checker_->OnReceiveApplied(id_, e.index, results->size(), r);
        break;
      case mq::CommandType::kDeleteMessages:
        checker_->OnDeleteApplied(e.index, cmd.receipt_handles, r);
        break;
      default:
        break;
    }
    results->push_back(std::move(r));
  }
}

Result<std::string> SimNode::ReadEntryData(raft::Index index) const {
  auto data = storage_->ReadData(index);
  if (data.ok()) return data;
  auto it = snapshot_bodies_.find(index);
  if (it != snapshot_bodies_.end()) return it->second;
  return data.status();
}

std::vector<std::string> SimNode::ReadBodies(const mq::ApplyResult& result, raft::Index index) {
  std::vector<std::string> bodies;
  for (const mq::ReceivedMessage& m : result.messages) {
    auto data = ReadEntryData(m.body.log_index);
    if (!data.ok() || uint64_t{m.body.offset} + m.body.length > data->size()) {
      checker_->Fail(fmt::format("node {}: body of message {} (entry {}) unreadable at {}: {}", id_,
                                 m.msg_id, m.body.log_index, index,
                                 data.ok() ? "out of range" : data.status().ToString()));
      bodies.emplace_back();
      continue;
    }
    bodies.push_back(data->substr(m.body.offset, m.body.length));
  }
  return bodies;
}

void SimNode::ProposeBodyMoves(uint64_t below) {
  for (const auto& queue : state_->BodiesPinningLogBelow(below, 64, 1 << 20)) {
    std::vector<std::string> bodies;
    for (const mq::BodyLocation& where : queue.bodies) {
      auto data = ReadEntryData(where.log_index);
      if (!data.ok() || where.offset + where.length > data->size()) return;  // not here
      bodies.push_back(data->substr(where.offset, where.length));
    }
    mq::Command cmd;
    cmd.type = mq::CommandType::kMoveBodies;
    cmd.queue_name = queue.queue_name;
    cmd.moves = queue.moves;
    cmd.bodies.assign(bodies.begin(), bodies.end());
    std::string encoded;
    mq::EncodeCommand(cmd, encoded);
    SIM_TRACE(*trace_, "node {} moves {} bodies of queue {}", id_, cmd.moves.size(),
              cmd.queue_name);
    batch_.push_back(Queued{ClientCall{}, std::move(encoded), std::nullopt});  // nobody waits
  }
}

// A snapshot every snapshot_interval_entries applied entries; the log then keeps what the
// older of the two kept snapshots needs (the snapshot carries the message bodies).
Status SimNode::MaybeSnapshot() {
  if (applied_index_ < snapshot_index_ + params_.snapshot_interval_entries) return Status::Ok();
  // As cluster::Node does: the leader moves the bodies that hold the log below the
  // snapshot about to become the older one into a new entry (kMoveBodies), so that the
  // checker sees receives served from moved bodies, across crashes and snapshots.
  if (is_leader() && snapshot_index_ > 0) ProposeBodyMoves(snapshot_index_ + 1);
  AppSnapshot app;
  app.applied_index = applied_index_;
  app.applied_hash = applied_hash_;
  app.mq_state = state_->Snapshot();
  uint64_t oldest = std::max<uint64_t>(1, state_->OldestReferencedLogIndex());
  for (raft::Index i = oldest; i <= applied_index_; ++i) {
    auto data = ReadEntryData(i);
    if (!data.ok()) continue;  // a conf change, the no-op or no body: nothing to keep
    auto decoded = mq::DecodeEntry(*data);
    if (!decoded.ok()) continue;
    for (const mq::Command& cmd : decoded->commands) {
      if (cmd.type == mq::CommandType::kSendMessages || cmd.type == mq::CommandType::kMoveBodies) {
        app.body_entries.emplace(i, *data);
        break;
      }
    }
  }
  CMQ_RETURN_IF_ERROR(storage_->CreateSnapshot(applied_index_, raw_->conf_state(),
                                               raft::MakePayload(EncodeAppSnapshot(app))));
  ++snapshots_taken_;
  SIM_TRACE(*trace_, "node {} snapshot at {} ({} body entries)", id_, applied_index_,
            app.body_entries.size());
  snapshot_bodies_ = std::move(app.body_entries);
  if (previous_snapshot_index_ > 0) {
    CMQ_RETURN_IF_ERROR(storage_->Compact(previous_snapshot_index_ + 1));
  }
  previous_snapshot_index_ = snapshot_index_;
  snapshot_index_ = applied_index_;
  return Status::Ok();
}

}  // namespace cmq::sim
