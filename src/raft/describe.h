#pragma once
// Human-readable one-line renderings of entries, messages and states, for scenario tests,
// the simulator's traces and logs. Stable format: test expectations depend on it.

#include <string>

#include "raft/message.h"
#include "raft/ready.h"
#include "raft/types.h"

namespace cmq::raft {

std::string DescribeIds(const std::set<NodeId>& ids);        // "(1,2,3)"
std::string DescribeConfState(const ConfState& cs);          // "voters=(1,2) learners=(3)"
std::string DescribeEntry(const Entry& e);                   // "1/5 EntryNormal \"data\""
std::string DescribeSnapshotMeta(const SnapshotMeta& meta);  // "Index:5 Term:1 voters=..."
std::string DescribeMessage(const Message& m);               // "1->2 MsgApp Term:1 ..."
std::string DescribeHardState(const HardState& hs);
std::string DescribeSoftState(const SoftState& ss);

}  // namespace cmq::raft
