#include "raft/describe.h"

#include "raft/conf_change.h"

namespace cmq::raft {
namespace {

std::string Quote(std::string_view data) {
  std::string out = "\"";
  for (char c : data) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(c);
    } else {
      static const char* kHex = "0123456789abcdef";
      auto b = static_cast<unsigned char>(c);
      out += "\\x";
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
  return out + "\"";
}

std::string N(uint64_t v) {
  return std::to_string(v);
}

}  // namespace

std::string DescribeIds(const std::set<NodeId>& ids) {
  std::string out = "(";
  for (NodeId id : ids) {
    if (out.size() > 1) out += ",";
    out += N(id);
  }
  return out + ")";
}

std::string DescribeConfState(const ConfState& cs) {
  return "voters=" + DescribeIds(cs.voters) + " learners=" + DescribeIds(cs.learners);
}

std::string DescribeEntry(const Entry& e) {
  std::string out = N(e.term) + "/" + N(e.index);
  if (e.type == EntryType::kConfChange) {
    auto cc = DecodeConfChange(e.data_view());
    return out + " EntryConfChange " + (cc.ok() ? DescribeConfChange(*cc) : "<malformed>");
  }
  return out + " EntryNormal " + Quote(e.data_view());
}

std::string DescribeSnapshotMeta(const SnapshotMeta& meta) {
  return "Index:" + N(meta.index) + " Term:" + N(meta.term) + " " +
         DescribeConfState(meta.conf_state);
}

std::string DescribeMessage(const Message& m) {
  std::string out = N(m.from) + "->" + N(m.to) + " " + std::string(MessageTypeName(m.type)) +
                    " Term:" + N(m.term);
  switch (m.type) {
    case MessageType::kApp:
      out += " Log:" + N(m.log_term) + "/" + N(m.index) + " Commit:" + N(m.commit);
      break;
    case MessageType::kVote:
    case MessageType::kPreVote:
      out += " Log:" + N(m.log_term) + "/" + N(m.index);
      if (!m.context.empty()) out += " Context:" + m.context;
      break;
    case MessageType::kAppResp:
      out += " Index:" + N(m.index);
      if (m.reject) out += " Rejected (Hint: " + N(m.reject_hint) + " Term: " + N(m.log_term) + ")";
      break;
    case MessageType::kVoteResp:
    case MessageType::kPreVoteResp:
      if (m.reject) out += " Rejected";
      break;
    case MessageType::kHeartbeat:
      out += " Commit:" + N(m.commit);
      break;
    case MessageType::kSnap:
      if (m.snapshot) out += " Snapshot: " + DescribeSnapshotMeta(m.snapshot->meta);
      break;
    case MessageType::kHeartbeatResp:
    case MessageType::kTimeoutNow:
      break;
  }
  if (!m.entries.empty()) {
    out += " Entries:[";
    for (size_t i = 0; i < m.entries.size(); ++i) {
      if (i > 0) out += ", ";
      out += DescribeEntry(m.entries[i]);
    }
    out += "]";
  }
  return out;
}

std::string DescribeHardState(const HardState& hs) {
  return "HardState Term:" + N(hs.term) + " Vote:" + N(hs.vote) + " Commit:" + N(hs.commit);
}

std::string DescribeSoftState(const SoftState& ss) {
  return "State:" + std::string(RoleName(ss.role)) + " Lead:" + N(ss.lead);
}

}  // namespace cmq::raft
