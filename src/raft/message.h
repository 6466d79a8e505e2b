#pragma once
// Messages between Raft peers. Every field is a plain value so that a Message can be
// encoded (codec.h), queued and compared in tests.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raft/types.h"

namespace cmq::raft {

// Only messages that cross the network. Local inputs (ticks, proposals, campaign,
// transfer, unreachable and snapshot reports) are RawNode methods, not messages.
enum class MessageType : uint8_t {
  kApp = 1,            // leader -> follower: entries after (index, log_term), and commit
  kAppResp = 2,        // follower -> leader: accepted up to index, or reject (+ hint)
  kVote = 3,           // candidate -> voter: vote for me in term (my last log: index, log_term)
  kVoteResp = 4,       //
  kPreVote = 5,        // would you vote for me in term (not yet entered)?
  kPreVoteResp = 6,    //
  kSnap = 7,           // leader -> follower: install this snapshot
  kHeartbeat = 8,      // leader -> follower: I lead; commit (capped at your match); context
  kHeartbeatResp = 9,  // follower -> leader: echoes context
  kTimeoutNow = 10,    // leader -> transferee: campaign now, skipping pre-vote and leases
};
inline constexpr uint8_t kMaxMessageType = 10;

std::string_view MessageTypeName(MessageType type);
bool IsResponse(MessageType type);

struct Message {
  MessageType type = MessageType::kApp;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;
  Term log_term = 0;  // kApp: term of `index`; votes: candidate's last term; reject: hint term
  Index index = 0;    // kApp: the entry before `entries`; votes: candidate's last index
  std::vector<Entry> entries;
  Index commit = 0;
  bool reject = false;
  Index reject_hint = 0;             // kAppResp reject: follower's guess of where logs may agree
  std::optional<Snapshot> snapshot;  // kSnap only
  std::string context;               // votes: "transfer" when forced; heartbeats: the lease stamp
};

// Context marking a campaign started by TimeoutNow: voters skip their lease check.
inline constexpr std::string_view kCampaignTransferContext = "transfer";

}  // namespace cmq::raft
