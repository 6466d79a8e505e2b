#pragma once
// Small helpers shared by the files of cluster::Node (node.cc, node_drive.cc, ...).

#include <cctype>
#include <string>
#include <string_view>

#include "cluster/proposal.h"
#include "common/status.h"
#include "mq/state_machine.h"

namespace cmq::cluster::internal {

// Queue names are case-insensitive: parked receives are keyed by the lower-case name.
inline std::string QueueKey(std::string_view name) {
  std::string key(name);
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

inline Status Unavailable(std::string why) {
  return Status(ErrorCode::kUnavailable, std::move(why));
}

// A proposal whose log entry was replaced by another leader's: it never committed.
inline Status LeadershipChanged() {
  return Unavailable("leadership changed before the request committed; retry");
}

inline bool IsAbandoned(const Proposal& p) {
  return p.abandoned && p.abandoned->load(std::memory_order_acquire);
}

inline mq::ApplyResult ErrorResult(Status status) {
  mq::ApplyResult r;
  r.status = std::move(status);
  return r;
}

}  // namespace cmq::cluster::internal
