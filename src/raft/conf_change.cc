#include "raft/conf_change.h"

#include "common/encoding.h"
#include "raft/constants.h"

namespace cmq::raft {
namespace {
constexpr uint8_t kConfChangeVersion = 1;
constexpr uint8_t kConfChangeVersionWithContext = 2;
}  // namespace

std::string EncodeConfChange(const ConfChange& cc) {
  std::string out;
  out.push_back(
      static_cast<char>(cc.context.empty() ? kConfChangeVersion : kConfChangeVersionWithContext));
  out.push_back(static_cast<char>(cc.type));
  PutVarint64(out, cc.node);
  if (!cc.context.empty()) PutLengthPrefixed(out, cc.context);
  return out;
}

Result<ConfChange> DecodeConfChange(std::string_view in) {
  Reader r(in);
  std::string_view head;
  ConfChange cc;
  const auto bad = [] { return Status(ErrorCode::kCorruption, "raft: malformed conf change"); };
  if (!r.Bytes(2, head)) return bad();
  const auto version = static_cast<uint8_t>(head[0]);
  if ((version != kConfChangeVersion && version != kConfChangeVersionWithContext) ||
      static_cast<uint8_t>(head[1]) > static_cast<uint8_t>(ConfChangeType::kPromoteLearner) ||
      !r.Varint64(cc.node) || cc.node == kNoNode) {
    return bad();
  }
  if (version == kConfChangeVersionWithContext) {
    std::string_view context;
    if (!r.LengthPrefixed(context) || context.empty()) return bad();
    cc.context.assign(context);
  }
  if (!r.empty()) return bad();
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
