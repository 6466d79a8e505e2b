#pragma once
// Membership changes, one server at a time (Raft thesis §4.1). A ConfChange travels as the
// data of an EntryType::kConfChange entry and takes effect on every node when that entry is
// applied (RawNode::Advance after the entry was handed out as committed). The leader
// refuses a second change while one is proposed and not yet applied, so at most one change
// is ever in flight and any two consecutive configurations share a majority.

#include <string>
#include <string_view>

#include "common/result.h"
#include "raft/types.h"

namespace cmq::raft {

enum class ConfChangeType : uint8_t {
  kAddVoter = 0,
  kRemoveNode = 1,  // a voter or a learner
  kAddLearner = 2,
  kPromoteLearner = 3,  // learner -> voter
};

struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddVoter;
  NodeId node = kNoNode;
  // Opaque to the core; cmqd puts the added node's address here, so that every replica
  // learns it from the log (docs/cluster.md "Membership").
  std::string context = {};
  friend bool operator==(const ConfChange&, const ConfChange&) = default;
};

// Version 1 carries no context; version 2 (written when the context is not empty) does.
std::string EncodeConfChange(const ConfChange& cc);
Result<ConfChange> DecodeConfChange(std::string_view in);
std::string DescribeConfChange(const ConfChange& cc);

// Checks that `cc` makes sense against `cs` (adding an existing voter, removing a stranger,
// promoting a non-learner or removing the last voter are refused).
Status ValidateConfChange(const ConfState& cs, const ConfChange& cc);
// The configuration after `cc`. REQUIRES: ValidateConfChange(cs, cc).ok().
ConfState ApplyConfChange(const ConfState& cs, const ConfChange& cc);

}  // namespace cmq::raft
