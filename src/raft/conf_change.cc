#include "raft/conf_change.h"

#include "common/encoding.h"
#include "raft/constants.h"

namespace cmq::raft {
namespace {
constexpr uint8_t kConfChangeVersion = 1;
}

std::string EncodeConfChange(const ConfChange& cc) {
  std::string out;
  out.push_back(static_cast<char>(kConfChangeVersion));
  out.push_back(static_cast<char>(cc.type));
  PutVarint64(out, cc.node);
  return out;
}

Result<ConfChange> DecodeConfChange(std::string_view in) {
  Reader r(in);
  std::string_view head;
  ConfChange cc;
  if (!r.Bytes(2, head) || static_cast<uint8_t>(head[0]) != kConfChangeVersion ||
      static_cast<uint8_t>(head[1]) > static_cast<uint8_t>(ConfChangeType::kPromoteLearner) ||
      !r.Varint64(cc.node) || cc.node == kNoNode || !r.empty()) {
    return Status(ErrorCode::kCorruption, "raft: malformed conf change");
  }
  cc.type = static_cast<ConfChangeType>(head[1]);
  return cc;
}

std::string DescribeConfChange(const ConfChange& cc) {
  switch (cc.type) {
    case ConfChangeType::kAddVoter:
      return "add-voter " + std::to_string(cc.node);
    case ConfChangeType::kRemoveNode:
      return "remove " + std::to_string(cc.node);
    case ConfChangeType::kAddLearner:
      return "add-learner " + std::to_string(cc.node);
    case ConfChangeType::kPromoteLearner:
      return "promote " + std::to_string(cc.node);
  }
  return "?";
}

Status ValidateConfChange(const ConfState& cs, const ConfChange& cc) {
  const bool voter = cs.voters.count(cc.node) > 0;
  const bool learner = cs.learners.count(cc.node) > 0;
  auto refuse = [](const char* why) { return Status(ErrorCode::kInvalidArgument, why); };
  if (cc.node == kNoNode) return refuse("conf change names no node");
  switch (cc.type) {
    case ConfChangeType::kAddVoter:
      if (voter || learner) return refuse("node is already a member (promote a learner instead)");
      if (cs.voters.size() + cs.learners.size() >= kMaxGroupMembers) return refuse("group full");
      break;
    case ConfChangeType::kAddLearner:
      if (voter || learner) return refuse("node is already a member");
      if (cs.voters.size() + cs.learners.size() >= kMaxGroupMembers) return refuse("group full");
      break;
    case ConfChangeType::kRemoveNode:
      if (!voter && !learner) return refuse("node is not a member");
      if (voter && cs.voters.size() == 1) return refuse("cannot remove the last voter");
      break;
    case ConfChangeType::kPromoteLearner:
      if (!learner) return refuse("node is not a learner");
      break;
  }
  return Status::Ok();
}

ConfState ApplyConfChange(const ConfState& cs, const ConfChange& cc) {
  CMQ_ASSERT(ValidateConfChange(cs, cc).ok(), "applying an invalid conf change");
  ConfState next = cs;
  switch (cc.type) {
    case ConfChangeType::kAddVoter:
      next.voters.insert(cc.node);
      break;
    case ConfChangeType::kAddLearner:
      next.learners.insert(cc.node);
      break;
    case ConfChangeType::kRemoveNode:
      next.voters.erase(cc.node);
      next.learners.erase(cc.node);
      break;
    case ConfChangeType::kPromoteLearner:
      next.learners.erase(cc.node);
      next.voters.insert(cc.node);
      break;
  }
  return next;
}

}  // namespace cmq::raft
