#pragma once
// InteractionEnv: a cluster of RawNodes over MemoryStorage and a hand-driven network, for
// scenario scripts (testdata/*.txt). Nothing happens unless a command says so: messages
// wait in the network until `deliver-msgs`/`stabilize`, Ready batches wait for
// `process-ready`. Commands (ids are node ids):
//
//   add-nodes N voters=(1,2,3) [learners=(4)] [index=I] [prevote=true] [checkquorum=true]
//             [max-inflight=N] [max-msg-bytes=N] [max-uncommitted=N] [election=10]
//             [heartbeat=1] [seed=S]
//       creates N nodes (ids continue from the highest), their storage bootstrapped with
//       the given configuration at index I (a snapshot at I, term 1 if I > 0).
//   campaign ID | propose ID DATA | propose-conf-change ID add=X|remove=X|add-learner=X|promote=X
//   transfer-leadership from=ID to=ID | report-unreachable ID TARGET | report-snapshot ID TARGET ok
//   tick ID [N] | tick-heartbeat ID | tick-election ID
//   process-ready ID... | deliver-msgs [ID...] [drop=(IDS)] [from=ID] [type=MsgApp]
//   stabilize [ID...] | partition IDS / IDS [/ IDS] | heal
//   status ID | raft-log ID | raft-state | compact ID INDEX | can-serve-read ID | app-state ID

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "raft/memory_storage.h"
#include "raft/raw_node.h"
#include "unit/raft/datadriven.h"

namespace cmq::raft::testing {

class InteractionEnv {
 public:
  std::string Handle(const TestCase& tc);

 private:
  struct Node {
    std::unique_ptr<MemoryStorage> storage;
    std::unique_ptr<RawNode> raw;
    std::vector<std::string> applied;  // the "state machine": data of applied entries
  };

  std::string AddNodes(const TestCase& tc);
  std::string ProcessReady(NodeId id);
  std::string DeliverMsgs(const TestCase& tc);
  std::string Stabilize(const std::set<NodeId>& ids);
  std::string Partition(const TestCase& tc);
  std::string StatusOf(NodeId id);
  std::string RaftLog(NodeId id);
  std::string RaftState();
  std::string Compact(NodeId id, Index index);
  std::string ProposeConfChange(NodeId id, const TestCase& tc);
  std::string TickElection(NodeId id);
  std::string Tick(NodeId id, int n);

  // Delivers (or drops) the queued messages selected by `want`; returns the log.
  std::string Deliver(const std::function<bool(const Message&)>& want,
                      const std::set<NodeId>& drop_to, bool* delivered_any);
  bool Cut(NodeId a, NodeId b) const;
  Node& Get(NodeId id);

  std::map<NodeId, Node> nodes_;
  std::vector<Message> network_;           // sent, not yet delivered, in send order
  std::map<NodeId, int> partition_group_;  // empty: no partition
};

}  // namespace cmq::raft::testing
