#include "cluster/retained_stream.h"

#include "cluster/group_snapshot.h"
#include "common/encoding.h"

namespace cmq::cluster {
namespace {

Status Corrupt(const char* what) {
  return Status(ErrorCode::kCorruption, std::string("retained stream: ") + what);
}

}  // namespace

std::string EncodeRetainedChunk(const RetainedChunk& chunk) {
  size_t bytes = 48;
  for (const raft::Entry& e : chunk.entries) bytes += e.data_size() + 16;
  std::string out;
  out.reserve(bytes);
  out.push_back(static_cast<char>(kRetainedStreamVersion));
  PutFixed64(out, chunk.term);
  PutFixed64(out, chunk.epoch);
  PutFixed64(out, chunk.run_first);
  PutEntryRun(out, chunk.entries);
  return out;
}

Result<RetainedChunk> DecodeRetainedChunk(std::string_view in) {
  if (in.empty() || static_cast<uint8_t>(in[0]) != kRetainedStreamVersion) {
    return Corrupt("unknown chunk version");
  }
  Reader r(in.substr(1));
  RetainedChunk chunk;
  if (!r.Fixed64(chunk.term) || !r.Fixed64(chunk.epoch) || !r.Fixed64(chunk.run_first)) {
    return Corrupt("truncated chunk header");
  }
  if (chunk.run_first == 0) return Corrupt("run starts at index 0");
  CMQ_RETURN_IF_ERROR(ReadEntryRun(r, chunk.entries));
  if (!r.empty()) return Corrupt("trailing bytes in a chunk");
  if (!chunk.entries.empty() && chunk.entries.front().index < chunk.run_first) {
    return Corrupt("chunk starts before its run");
  }
  return chunk;
}

std::string EncodeRetainedAck(const RetainedAck& ack) {
  std::string out;
  out.push_back(static_cast<char>(kRetainedStreamVersion));
  PutFixed64(out, ack.epoch);
  PutFixed64(out, ack.staged_first);
  PutFixed64(out, ack.staged_next);
  return out;
}

Result<RetainedAck> DecodeRetainedAck(std::string_view in) {
  if (in.empty() || static_cast<uint8_t>(in[0]) != kRetainedStreamVersion) {
    return Corrupt("unknown ack version");
  }
  Reader r(in.substr(1));
  RetainedAck ack;
  if (!r.Fixed64(ack.epoch) || !r.Fixed64(ack.staged_first) || !r.Fixed64(ack.staged_next) ||
      !r.empty()) {
    return Corrupt("bad ack");
  }
  if (ack.staged_next < ack.staged_first) return Corrupt("staged run ends before it starts");
  return ack;
}

}  // namespace cmq::cluster
