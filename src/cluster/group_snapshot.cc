#include "cluster/group_snapshot.h"

#include "common/encoding.h"

namespace cmq::cluster {
namespace {

Status Corrupt(const char* what) {
  return Status(ErrorCode::kCorruption, std::string("group snapshot: ") + what);
}

void PutAddresses(std::string& out, const std::map<uint64_t, std::string>& addresses) {
  PutVarint64(out, addresses.size());
  for (const auto& [id, address] : addresses) {
    PutVarint64(out, id);
    PutLengthPrefixed(out, address);
  }
}

bool ReadAddresses(Reader& r, std::map<uint64_t, std::string>& addresses) {
  uint64_t count = 0;
  if (!r.Varint64(count) || count > r.remaining()) return false;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t id = 0;
    std::string_view address;
    if (!r.Varint64(id) || id == 0 || !r.LengthPrefixed(address)) return false;
    if (!addresses.emplace(id, std::string(address)).second) return false;
  }
  return true;
}

// What the wire and staged forms start with; `extra` bytes are reserved for the rest.
std::string WireHeader(uint8_t tag, uint64_t oldest_referenced,
                       const std::map<uint64_t, std::string>& addresses, std::string_view mq_state,
                       size_t extra) {
  std::string out;
  out.reserve(mq_state.size() + 32 + addresses.size() * 24 + extra);
  out.push_back(static_cast<char>(tag));
  PutVarint64(out, oldest_referenced);
  PutAddresses(out, addresses);
  PutLengthPrefixed(out, mq_state);
  return out;
}

}  // namespace

std::string EncodeLocalSnapshot(uint64_t oldest_referenced,
                                const std::map<uint64_t, std::string>& addresses,
                                std::string_view mq_state) {
  std::string out;
  out.reserve(mq_state.size() + 16 + addresses.size() * 24);
  out.push_back(static_cast<char>(kLocalSnapshotTag));
  PutVarint64(out, oldest_referenced);
  PutAddresses(out, addresses);
  out.append(mq_state);
  return out;
}

std::string EncodeWireSnapshot(uint64_t oldest_referenced,
                               const std::map<uint64_t, std::string>& addresses,
                               std::string_view mq_state,
                               const std::vector<raft::Entry>& retained) {
  size_t extra = 0;
  for (const raft::Entry& e : retained) extra += e.data_size() + 16;
  std::string out =
      WireHeader(kWireSnapshotTag, oldest_referenced, addresses, mq_state, extra + 16);
  PutEntryRun(out, retained);
  return out;
}

std::string EncodeStagedSnapshot(uint64_t oldest_referenced,
                                 const std::map<uint64_t, std::string>& addresses,
                                 std::string_view mq_state, uint64_t staged_first) {
  std::string out = WireHeader(kStagedSnapshotTag, oldest_referenced, addresses, mq_state, 10);
  PutVarint64(out, staged_first);
  return out;
}

void PutEntryRun(std::string& out, const std::vector<raft::Entry>& entries) {
  PutVarint64(out, entries.size());
  PutVarint64(out, entries.empty() ? 0 : entries.front().index);
  for (const raft::Entry& e : entries) {
    PutVarint64(out, e.term);
    out.push_back(static_cast<char>(e.type));
    PutLengthPrefixed(out, e.data_view());
  }
}

Status ReadEntryRun(Reader& r, std::vector<raft::Entry>& out) {
  uint64_t count = 0, first = 0;
  if (!r.Varint64(count) || !r.Varint64(first)) return Corrupt("truncated entry run");
  if (count > r.remaining()) return Corrupt("entry count exceeds the data");
  if (count > 0 && first == 0) return Corrupt("entry run starts at index 0");
  out.reserve(out.size() + count);
  raft::Term last_term = 0;
  for (uint64_t i = 0; i < count; ++i) {
    raft::Entry e;
    e.index = first + i;
    std::string_view type, bytes;
    if (!r.Varint64(e.term) || !r.Bytes(1, type) || !r.LengthPrefixed(bytes)) {
      return Corrupt("truncated entry");
    }
    if (static_cast<uint8_t>(type[0]) > static_cast<uint8_t>(raft::EntryType::kConfChange)) {
      return Corrupt("unknown entry type");
    }
    if (e.term < last_term || e.term == 0) return Corrupt("entry terms go backwards");
    last_term = e.term;
    e.type = static_cast<raft::EntryType>(type[0]);
    if (!bytes.empty()) e.data = raft::MakePayload(bytes);
    out.push_back(std::move(e));
  }
  return Status::Ok();
}

Result<GroupSnapshot> DecodeGroupSnapshot(std::string_view data) {
  GroupSnapshot s;
  if (data.empty()) return Corrupt("empty");
  const auto tag = static_cast<uint8_t>(data[0]);
  const bool local = tag == kLocalSnapshotTag || tag == kLocalSnapshotTagV1;
  const bool wire = tag == kWireSnapshotTag || tag == kWireSnapshotTagV1;
  const bool staged = tag == kStagedSnapshotTag;
  if (!local && !wire && !staged) {
    s.mq_state.assign(data);  // the bare form of snapshots written before the envelope
    return s;
  }
  Reader r(data.substr(1));
  if (!r.Varint64(s.oldest_referenced)) return Corrupt("bad oldest referenced index");
  if (tag != kLocalSnapshotTagV1 && tag != kWireSnapshotTagV1 && !ReadAddresses(r, s.addresses)) {
    return Corrupt("bad address list");
  }
  if (local) {
    s.mq_state.assign(r.rest());
    return s;
  }
  std::string_view state;
  if (!r.LengthPrefixed(state)) return Corrupt("truncated header");
  s.mq_state.assign(state);
  if (staged) {
    if (!r.Varint64(s.staged_first) || s.staged_first == 0) return Corrupt("bad staged index");
  } else {
    CMQ_RETURN_IF_ERROR(ReadEntryRun(r, s.retained));
  }
  if (!r.empty()) return Corrupt("trailing bytes");
  return s;
}

Result<uint64_t> PeekOldestReferenced(std::string_view data) {
  if (data.empty()) return Corrupt("empty");
  const auto tag = static_cast<uint8_t>(data[0]);
  if (tag < kLocalSnapshotTagV1 || tag > kStagedSnapshotTag) return uint64_t{0};  // bare form
  Reader r(data.substr(1));
  uint64_t oldest = 0;
  if (!r.Varint64(oldest)) return Corrupt("bad oldest referenced index");
  return oldest;
}

}  // namespace cmq::cluster
