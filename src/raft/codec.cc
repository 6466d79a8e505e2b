#include "raft/codec.h"

#include "common/encoding.h"
#include "raft/constants.h"

namespace cmq::raft {
namespace {

constexpr uint8_t kFlagReject = 1;
constexpr uint8_t kFlagSnapshot = 2;
constexpr uint8_t kKnownFlags = kFlagReject | kFlagSnapshot;
// The smallest encoded entry: term, index, type and an empty data length.
constexpr uint64_t kMinEncodedEntryBytes = 4;

void EncodeEntry(const Entry& e, std::string& out) {
  PutVarint64(out, e.term);
  PutVarint64(out, e.index);
  out.push_back(static_cast<char>(e.type));
  PutLengthPrefixed(out, e.data_view());
}

bool DecodeByte(Reader& r, uint8_t& b) {
  std::string_view s;
  if (!r.Bytes(1, s)) return false;
  b = static_cast<uint8_t>(s[0]);
  return true;
}

bool DecodeEntry(Reader& r, Entry& e) {
  uint8_t type = 0;
  std::string_view data;
  if (!r.Varint64(e.term) || !r.Varint64(e.index) || !DecodeByte(r, type)) return false;
  if (type > static_cast<uint8_t>(EntryType::kConfChange)) return false;
  if (!r.LengthPrefixed(data)) return false;
  e.type = static_cast<EntryType>(type);
  e.data = MakePayload(data);
  return true;
}

bool DecodeIds(Reader& r, std::set<NodeId>& ids) {
  uint64_t n = 0;
  if (!r.Varint64(n) || n > kMaxGroupMembers) return false;
  for (uint64_t i = 0; i < n; ++i) {
    NodeId id = 0;
    if (!r.Varint64(id) || id == kNoNode || !ids.insert(id).second) return false;
  }
  return true;
}

bool DecodeSnapshot(Reader& r, Snapshot& s) {
  std::string_view data;
  if (!r.Varint64(s.meta.index) || !r.Varint64(s.meta.term)) return false;
  if (!DecodeConfState(r, s.meta.conf_state) || !r.LengthPrefixed(data)) return false;
  s.data = MakePayload(data);
  return true;
}

bool DecodeBody(Reader& r, Message& m) {
  uint8_t type = 0, flags = 0;
  std::string_view context;
  if (!DecodeByte(r, type) || type == 0 || type > kMaxMessageType) return false;
  m.type = static_cast<MessageType>(type);
  if (!r.Varint64(m.from) || !r.Varint64(m.to) || !r.Varint64(m.term) || !r.Varint64(m.log_term) ||
      !r.Varint64(m.index) || !r.Varint64(m.commit)) {
    return false;
  }
  if (!DecodeByte(r, flags) || (flags & ~kKnownFlags) != 0) return false;
  m.reject = (flags & kFlagReject) != 0;
  if (!r.Varint64(m.reject_hint) || !r.LengthPrefixed(context)) return false;
  m.context = std::string(context);
  uint64_t count = 0;
  if (!r.Varint64(count) || count > kMaxEntriesPerMessage) return false;
  if (count > r.remaining() / kMinEncodedEntryBytes) return false;
  m.entries.resize(count);
  for (Entry& e : m.entries) {
    if (!DecodeEntry(r, e)) return false;
  }
  if (flags & kFlagSnapshot) {
    m.snapshot.emplace();
    if (!DecodeSnapshot(r, *m.snapshot)) return false;
  }
  return r.empty();
}

}  // namespace

void EncodeConfState(const ConfState& cs, std::string& out) {
  PutVarint64(out, cs.voters.size());
  for (NodeId id : cs.voters) PutVarint64(out, id);
  PutVarint64(out, cs.learners.size());
  for (NodeId id : cs.learners) PutVarint64(out, id);
}

bool DecodeConfState(Reader& r, ConfState& cs) {
  if (!DecodeIds(r, cs.voters) || !DecodeIds(r, cs.learners)) return false;
  for (NodeId id : cs.learners) {
    if (cs.voters.count(id)) return false;
  }
  return true;
}

void EncodeMessage(const Message& m, std::string& out) {
  out.push_back(static_cast<char>(kCodecVersion));
  out.push_back(static_cast<char>(m.type));
  for (uint64_t v : {m.from, m.to, m.term, m.log_term, m.index, m.commit}) PutVarint64(out, v);
  uint8_t flags = (m.reject ? kFlagReject : 0) | (m.snapshot ? kFlagSnapshot : 0);
  out.push_back(static_cast<char>(flags));
  PutVarint64(out, m.reject_hint);
  PutLengthPrefixed(out, m.context);
  PutVarint64(out, m.entries.size());
  for (const Entry& e : m.entries) EncodeEntry(e, out);
  if (m.snapshot) {
    PutVarint64(out, m.snapshot->meta.index);
    PutVarint64(out, m.snapshot->meta.term);
    EncodeConfState(m.snapshot->meta.conf_state, out);
    PutLengthPrefixed(out, m.snapshot->data ? std::string_view(*m.snapshot->data) : "");
  }
}

std::string EncodeMessage(const Message& m) {
  std::string out;
  EncodeMessage(m, out);
  return out;
}

Result<Message> DecodeMessage(std::string_view in) {
  if (in.size() > kMaxEncodedMessageBytes) {
    return Status(ErrorCode::kInvalidArgument, "raft message too large");
  }
  Reader r(in);
  uint8_t version = 0;
  if (!DecodeByte(r, version) || version != kCodecVersion) {
    return Status(ErrorCode::kCorruption, "raft message: unknown version");
  }
  Message m;
  if (!DecodeBody(r, m)) return Status(ErrorCode::kCorruption, "raft message: malformed");
  return m;
}

}  // namespace cmq::raft
