#include "raft/types.h"

namespace cmq::raft {

Payload MakePayload(std::string_view bytes) {
  if (bytes.empty()) return nullptr;
  return std::make_shared<const std::string>(bytes);
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kFollower:
      return "Follower";
    case Role::kPreCandidate:
      return "PreCandidate";
    case Role::kCandidate:
      return "Candidate";
    case Role::kLeader:
      return "Leader";
  }
  return "?";
}

}  // namespace cmq::raft
