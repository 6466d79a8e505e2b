#include "raft/raw_node.h"

#include <algorithm>
#include <iterator>

namespace cmq::raft {

RawNode::RawNode(const Config& config, const Storage* storage)
    : raft_(config, storage), prev_soft_(raft_.soft_state()), prev_hard_(raft_.hard_state()) {}

Result<std::unique_ptr<RawNode>> RawNode::Create(const Config& config, const Storage* storage) {
  Status st = config.Validate();
  if (!st.ok()) return st;
  if (storage == nullptr) return Status(ErrorCode::kInvalidArgument, "raft: no storage");
  return std::make_unique<RawNode>(config, storage);
}

void RawNode::Tick() {
  raft_.Tick();
}

Status RawNode::Step(const Message& m) {
  if (m.to != raft_.id()) return Status(ErrorCode::kInvalidArgument, "raft: message not for us");
  if (IsResponse(m.type) && !raft_.tracker().IsMember(m.from)) {
    return Status(ErrorCode::kNotFound, "raft: response from a non-member");
  }
  raft_.Step(m);
  return Status::Ok();
}

Result<Index> RawNode::Propose(Payload data) {
  return raft_.Propose(EntryType::kNormal, std::move(data));
}

Result<Index> RawNode::ProposeConfChange(const ConfChange& cc) {
  return raft_.ProposeConfChange(cc);
}

void RawNode::Campaign() {
  raft_.Campaign();
}

Status RawNode::TransferLeadership(NodeId to) {
  return raft_.TransferLeadership(to);
}

void RawNode::ReportUnreachable(NodeId id) {
  raft_.ReportUnreachable(id);
}

void RawNode::ReportSnapshot(NodeId id, bool ok) {
  raft_.ReportSnapshot(id, ok);
}

bool RawNode::HasReady() {
  if (outstanding_) return false;
  raft_.FlushSends();
  const RaftLog& log = raft_.log();
  HardState hs = raft_.hard_state();
  return raft_.soft_state() != prev_soft_ || (!hs.empty() && hs != prev_hard_) ||
         log.HasNextUnstableEntries() || log.NextUnstableSnapshot() != nullptr ||
         !raft_.messages().empty() || log.HasNextCommittedEntries();
}

Ready RawNode::GetReady() {
  CMQ_ASSERT(!outstanding_, "GetReady before Advance of the previous Ready");
  raft_.FlushSends();
  Ready rd;
  RaftLog& log = raft_.mutable_log();
  SoftState ss = raft_.soft_state();
  if (ss != prev_soft_) rd.soft_state = ss;
  HardState hs = raft_.hard_state();
  if (hs != prev_hard_) rd.hard_state = hs;
  rd.entries = log.NextUnstableEntries();
  if (const Snapshot* s = log.NextUnstableSnapshot()) rd.snapshot = *s;
  log.AcceptUnstable();
  rd.committed_entries = log.NextCommittedEntries();
  if (!rd.committed_entries.empty()) log.AcceptApplying(rd.committed_entries.back().index);
  // Move the messages out but keep the outbox's capacity: it refills every Ready, and
  // growing it again relocates Messages, which are large.
  std::vector<Message>& msgs = raft_.messages();
  rd.messages.reserve(msgs.size());
  std::move(msgs.begin(), msgs.end(), std::back_inserter(rd.messages));
  msgs.clear();
  rd.must_sync = !rd.entries.empty() || rd.snapshot.has_value() || hs.term != prev_hard_.term ||
                 hs.vote != prev_hard_.vote;
  prev_soft_ = ss;
  prev_hard_ = hs;
  outstanding_ = true;
  return rd;
}

std::vector<Message> RawNode::TakeHeartbeats(Term term) {
  std::vector<Message>& msgs = raft_.messages();
  std::vector<Message> heartbeats;
  size_t kept = 0;  // the other messages stay, in their order
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (msgs[i].type == MessageType::kHeartbeat && msgs[i].term == term) {
      heartbeats.push_back(std::move(msgs[i]));
    } else {
      if (kept != i) msgs[kept] = std::move(msgs[i]);
      ++kept;
    }
  }
  msgs.erase(msgs.begin() + static_cast<ptrdiff_t>(kept), msgs.end());
  return heartbeats;
}

std::vector<Entry> RawNode::TakeCommittedEntries() {
  CMQ_ASSERT(outstanding_, "TakeCommittedEntries without an outstanding Ready");
  RaftLog& log = raft_.mutable_log();
  std::vector<Entry> entries = log.NextCommittedEntriesUnstableToo();
  auto conf = std::find_if(entries.begin(), entries.end(),
                           [](const Entry& e) { return e.type != EntryType::kNormal; });
  entries.erase(conf, entries.end());
  if (entries.empty()) return entries;
  log.AcceptApplying(entries.back().index);
  taken_.insert(taken_.end(), entries.begin(), entries.end());
  return entries;
}

void RawNode::Advance(const Ready& ready) {
  CMQ_ASSERT(outstanding_, "Advance without an outstanding Ready");
  outstanding_ = false;
  if (ready.snapshot) raft_.OnSnapshotStable(ready.snapshot->meta.index);
  if (!ready.entries.empty()) {
    raft_.OnEntriesStable(ready.entries.back().index, ready.entries.back().term);
  }
  raft_.OnApplied(ready.committed_entries);
  if (!taken_.empty()) {
    CMQ_ASSERT(!ready.snapshot, "entries taken beside a snapshot");
    raft_.OnApplied(taken_);
    taken_.clear();
  }
}

NodeStatus RawNode::GetStatus() const {
  NodeStatus st;
  st.id = raft_.id();
  st.hard_state = raft_.hard_state();
  st.soft_state = raft_.soft_state();
  st.applied = raft_.log().applied();
  st.last_index = raft_.log().LastIndex();
  st.conf_state = raft_.tracker().config();
  st.lead_transferee = raft_.lead_transferee();
  if (raft_.role() == Role::kLeader) {
    for (const auto& [id, pr] : raft_.tracker().progress()) {
      st.progress[id] = {pr.state(), pr.match(), pr.next(), pr.is_learner(),
                         pr.inflights().Count()};
    }
  }
  return st;
}

}  // namespace cmq::raft
