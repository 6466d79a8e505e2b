#include "raft/raw_node.h"

#include <gtest/gtest.h>

#include "raft/memory_storage.h"

namespace cmq::raft {
namespace {

Config MakeConfig(NodeId id, uint64_t seed = 1) {
  Config c;
  c.id = id;
  c.seed = seed;
  return c;
}

void Bootstrap(MemoryStorage& s, ConfState cs) {
  ASSERT_TRUE(s.ApplySnapshot(Snapshot{SnapshotMeta{1, 1, std::move(cs)}, nullptr}).ok());
  s.SetHardState(HardState{1, kNoNode, 1});
}

// Handles one Ready the way ready.h prescribes; returns it for inspection.
Ready Handle(RawNode& node, MemoryStorage& storage) {
  Ready rd = node.GetReady();
  if (rd.snapshot) {
    EXPECT_TRUE(storage.ApplySnapshot(*rd.snapshot).ok());
  }
  storage.Append(rd.entries);
  if (rd.hard_state) storage.SetHardState(*rd.hard_state);
  node.Advance(rd);
  return rd;
}

TEST(RawNode, SingleVoterCommitsAfterPersisting) {
  MemoryStorage storage;
  Bootstrap(storage, ConfState{{1}, {}});
  RawNode node(MakeConfig(1), &storage);
  EXPECT_FALSE(node.HasReady());
  node.Campaign();
  ASSERT_EQ(node.soft_state().role, Role::kLeader);
  Ready rd = Handle(node, storage);
  ASSERT_EQ(rd.entries.size(), 1u);           // the leader's empty entry
  EXPECT_TRUE(rd.committed_entries.empty());  // not before it is persisted
  EXPECT_TRUE(rd.must_sync);
  rd = Handle(node, storage);
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  auto index = node.Propose(MakePayload("x"));
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(*index, 3u);
  rd = Handle(node, storage);
  EXPECT_EQ(rd.entries.size(), 1u);
  EXPECT_TRUE(rd.committed_entries.empty());
  rd = Handle(node, storage);
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  EXPECT_EQ(rd.committed_entries[0].data_view(), "x");
  EXPECT_FALSE(node.HasReady());
  EXPECT_TRUE(node.CanServeReadLocally());
}

TEST(RawNode, InputsBetweenGetReadyAndAdvanceShowUpInTheNextReady) {
  MemoryStorage storage;
  Bootstrap(storage, ConfState{{1}, {}});
  RawNode node(MakeConfig(1), &storage);
  node.Campaign();
  Ready first = node.GetReady();
  EXPECT_FALSE(node.HasReady());  // one Ready outstanding at a time
  ASSERT_TRUE(node.Propose(MakePayload("late")).ok());
  storage.Append(first.entries);
  storage.SetHardState(*first.hard_state);
  node.Advance(first);
  Ready second = Handle(node, storage);
  ASSERT_EQ(second.entries.size(), 1u);
  EXPECT_EQ(second.entries[0].data_view(), "late");
}

TEST(RawNode, FollowerRefusesProposals) {
  MemoryStorage storage;
  Bootstrap(storage, ConfState{{1, 2, 3}, {}});
  RawNode node(MakeConfig(1), &storage);
  auto r = node.Propose(MakePayload("x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(node.ProposeConfChange({ConfChangeType::kAddVoter, 4}).ok());
  EXPECT_FALSE(node.TransferLeadership(2).ok());
  EXPECT_FALSE(node.CanServeReadLocally());
}

// Node 1 of {1, 2, 3} campaigns and hears yes from node 2 at each step (pre-vote, vote).
void ElectNodeOne(RawNode& node, MemoryStorage& storage) {
  node.Campaign();
  for (int round = 0; round < 2 && node.soft_state().role != Role::kLeader; ++round) {
    Ready rd = Handle(node, storage);
    for (const Message& m : rd.messages) {
      if (m.to != 2) continue;
      Message yes;
      yes.type =
          m.type == MessageType::kPreVote ? MessageType::kPreVoteResp : MessageType::kVoteResp;
      yes.from = 2;
      yes.to = 1;
      yes.term = m.term;
      ASSERT_TRUE(node.Step(yes).ok());
    }
  }
  ASSERT_EQ(node.soft_state().role, Role::kLeader);
}

TEST(RawNode, HeartbeatsCanBeTakenWhileAReadyIsBeingPersisted) {
  MemoryStorage storage;
  Bootstrap(storage, ConfState{{1, 2, 3}, {}});
  Config config = MakeConfig(1);
  config.heartbeat_tick = 1;
  RawNode node(config, &storage);
  ElectNodeOne(node, storage);
  Handle(node, storage);  // the leader's empty entry and its appends
  const Term term = node.hard_state().term;
  ASSERT_TRUE(node.Propose(MakePayload("slow to persist")).ok());
  Ready persisting = node.GetReady();  // the disk is now busy with it
  ASSERT_EQ(persisting.entries.size(), 1u);
  node.Tick();
  EXPECT_FALSE(node.HasReady());  // the next Ready waits for Advance...
  std::vector<Message> heartbeats = node.TakeHeartbeats(term);  // ...but heartbeats need not
  ASSERT_EQ(heartbeats.size(), 2u);
  for (const Message& m : heartbeats) {
    EXPECT_EQ(m.type, MessageType::kHeartbeat);
    EXPECT_EQ(m.term, term);
  }
  EXPECT_NE(heartbeats[0].to, heartbeats[1].to);
  EXPECT_TRUE(node.TakeHeartbeats(term).empty());  // taken once
  node.Tick();
  EXPECT_TRUE(node.TakeHeartbeats(term + 1).empty());  // never of a term not yet durable
  storage.Append(persisting.entries);
  node.Advance(persisting);
  Ready next = Handle(node, storage);
  size_t left = 0;  // the second tick's heartbeats, not taken, come with the next Ready
  for (const Message& m : next.messages) left += m.type == MessageType::kHeartbeat ? 1 : 0;
  EXPECT_EQ(left, 2u);
}

// Node 2's acknowledgement of everything up to `index` in `term`.
Message AppAck(Term term, Index index) {
  Message ack;
  ack.type = MessageType::kAppResp;
  ack.from = 2;
  ack.to = 1;
  ack.term = term;
  ack.index = index;
  return ack;
}

TEST(RawNode, EntriesCommittedWhileAReadyIsBeingPersistedCanBeAppliedAtOnce) {
  MemoryStorage storage;
  Bootstrap(storage, ConfState{{1, 2, 3}, {}});
  RawNode node(MakeConfig(1), &storage);
  ElectNodeOne(node, storage);
  Handle(node, storage);  // the leader's empty entry, persisted here
  const Term term = node.hard_state().term;
  auto first = node.Propose(MakePayload("first"));
  ASSERT_TRUE(first.ok());
  Handle(node, storage);  // "first" persisted here, not yet acknowledged
  ASSERT_TRUE(node.Propose(MakePayload("second")).ok());
  ASSERT_TRUE(node.ProposeConfChange({ConfChangeType::kAddLearner, 4}).ok());
  Ready persisting = node.GetReady();  // the disk is busy with "second" and the change
  ASSERT_EQ(persisting.entries.size(), 2u);
  EXPECT_TRUE(node.TakeCommittedEntries().empty()) << "nothing committed yet";

  // Node 2 has everything: "first" commits (stable here), "second" is not stable here yet.
  ASSERT_TRUE(node.Step(AppAck(term, *first + 2)).ok());
  std::vector<Entry> taken = node.TakeCommittedEntries();
  ASSERT_EQ(taken.size(), 2u);  // the leader's empty entry, and "first"
  EXPECT_EQ(taken[0].index, *first - 1);
  EXPECT_EQ(taken[1].index, *first);
  EXPECT_EQ(taken[1].data_view(), "first");
  EXPECT_TRUE(node.TakeCommittedEntries().empty()) << "handed out once";

  storage.Append(persisting.entries);
  node.Advance(persisting);
  EXPECT_EQ(node.GetStatus().applied, *first) << "reported applied by that Advance";
  // The next Ready hands out what follows, never "first" again; the conf change comes
  // through a Ready (its Advance applies it to the configuration).
  Ready next = Handle(node, storage);
  ASSERT_EQ(next.committed_entries.size(), 2u);
  EXPECT_EQ(next.committed_entries[0].data_view(), "second");
  EXPECT_EQ(next.committed_entries[1].type, EntryType::kConfChange);
  EXPECT_EQ(node.conf_state().learners.count(4), 1u);
}

TEST(RawNode, TakenEntriesStopBeforeAConfChange) {
  MemoryStorage storage;
  Bootstrap(storage, ConfState{{1, 2, 3}, {}});
  RawNode node(MakeConfig(1), &storage);
  ElectNodeOne(node, storage);
  Handle(node, storage);
  const Term term = node.hard_state().term;
  ASSERT_TRUE(node.Propose(MakePayload("a")).ok());
  auto change = node.ProposeConfChange({ConfChangeType::kAddLearner, 4});
  ASSERT_TRUE(change.ok());
  Handle(node, storage);  // both stable here
  ASSERT_TRUE(node.Propose(MakePayload("b")).ok());
  Ready persisting = node.GetReady();
  ASSERT_TRUE(node.Step(AppAck(term, *change)).ok());
  std::vector<Entry> taken = node.TakeCommittedEntries();
  ASSERT_EQ(taken.size(), 2u);  // the leader's empty entry, and "a"
  EXPECT_EQ(taken[1].data_view(), "a");
  storage.Append(persisting.entries);
  node.Advance(persisting);
  Ready next = Handle(node, storage);
  ASSERT_FALSE(next.committed_entries.empty());
  EXPECT_EQ(next.committed_entries[0].index, *change);
}

TEST(RawNode, RestartRecoversTermVoteCommitAndConfiguration) {
  MemoryStorage storage;
  Bootstrap(storage, ConfState{{1}, {}});
  {
    RawNode node(MakeConfig(1), &storage);
    node.Campaign();
    Handle(node, storage);
    Handle(node, storage);
    ASSERT_TRUE(node.ProposeConfChange({ConfChangeType::kAddLearner, 2}).ok());
    Handle(node, storage);
    Handle(node, storage);
    ASSERT_EQ(node.conf_state(), (ConfState{{1}, {2}}));
  }
  Config c = MakeConfig(1);
  c.applied = storage.LastIndex();
  RawNode restarted(c, &storage);
  EXPECT_EQ(restarted.hard_state().term, 2u);
  EXPECT_EQ(restarted.hard_state().vote, 1u);
  EXPECT_EQ(restarted.hard_state().commit, 3u);
  EXPECT_EQ(restarted.conf_state(), (ConfState{{1}, {2}}));  // replayed from the log
  EXPECT_EQ(restarted.soft_state().role, Role::kFollower);
}

TEST(RawNode, ElectionTimeoutIsRandomizedFromTheSeedOnly) {
  std::set<int> seen;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    MemoryStorage a, b;
    Bootstrap(a, ConfState{{1, 2, 3}, {}});
    Bootstrap(b, ConfState{{1, 2, 3}, {}});
    RawNode na(MakeConfig(1, seed), &a), nb(MakeConfig(1, seed), &b);
    int ta = na.raft().randomized_election_timeout();
    EXPECT_EQ(ta, nb.raft().randomized_election_timeout());
    EXPECT_GE(ta, kDefaultElectionTick);
    EXPECT_LT(ta, 2 * kDefaultElectionTick);
    seen.insert(ta);
    for (int i = 0; i < ta - 1; ++i) na.Tick();
    EXPECT_EQ(na.soft_state().role, Role::kFollower);
    na.Tick();
    EXPECT_EQ(na.soft_state().role, Role::kPreCandidate);
  }
  EXPECT_GT(seen.size(), 3u);
}

TEST(RawNode, StepRejectsMisaddressedMessagesAndStrangersResponses) {
  MemoryStorage storage;
  Bootstrap(storage, ConfState{{1, 2, 3}, {}});
  RawNode node(MakeConfig(1), &storage);
  Message m;
  m.type = MessageType::kHeartbeat;
  m.from = 2;
  m.to = 9;
  EXPECT_FALSE(node.Step(m).ok());
  m.to = 1;
  m.type = MessageType::kAppResp;
  m.from = 7;
  EXPECT_FALSE(node.Step(m).ok());
}

TEST(RawNode, MalformedAppendIsDropped) {
  MemoryStorage storage;
  Bootstrap(storage, ConfState{{1, 2, 3}, {}});
  RawNode node(MakeConfig(1), &storage);
  Message m;
  m.type = MessageType::kApp;
  m.from = 2;
  m.to = 1;
  m.term = 2;
  m.index = 1;
  m.log_term = 1;
  m.entries = {Entry{2, 5, EntryType::kNormal, nullptr}};  // gap: 5 does not follow 1
  ASSERT_TRUE(node.Step(m).ok());
  EXPECT_EQ(node.raft().log().LastIndex(), 1u);
}

TEST(Config, ValidateRefusesNonsense) {
  Config c = MakeConfig(1);
  EXPECT_TRUE(c.Validate().ok());
  c.id = kNoNode;
  EXPECT_FALSE(c.Validate().ok());
  c = MakeConfig(1);
  c.heartbeat_tick = c.election_tick;
  EXPECT_FALSE(c.Validate().ok());
  c = MakeConfig(1);
  c.max_inflight_msgs = 0;
  EXPECT_FALSE(c.Validate().ok());
  MemoryStorage storage;
  EXPECT_FALSE(RawNode::Create(c, &storage).ok());
  EXPECT_FALSE(RawNode::Create(MakeConfig(1), nullptr).ok());
}

}  // namespace
}  // namespace cmq::raft
