#include "storage/record.h"

#include "common/assert.h"
#include "common/checksum.h"
#include "common/encoding.h"

namespace cmq::storage {

uint32_t RecordChecksum(uint32_t length, uint64_t term, uint64_t index, std::string_view payload) {
  char covered[20];
  EncodeFixed32(covered, length);
  EncodeFixed64(covered + 4, term);
  EncodeFixed64(covered + 12, index);
  return Checksum32(std::string_view(covered, sizeof(covered)), payload);
}

void EncodeRecord(uint64_t term, uint64_t index, std::string_view payload, std::string* out) {
  CMQ_ASSERT(payload.size() <= kMaxPayloadBytes, "payload too large for a record");
  uint32_t length = static_cast<uint32_t>(payload.size());
  char header[kRecordHeaderBytes];
  EncodeFixed32(header, length);
  EncodeFixed32(header + 4, RecordChecksum(length, term, index, payload));
  EncodeFixed64(header + 8, term);
  EncodeFixed64(header + 16, index);
  out->clear();  // keeps the capacity: no allocation once the buffer has grown
  out->append(header, sizeof(header));
  out->append(payload);
}

RecordHeader DecodeRecordHeader(const char* p) {
  RecordHeader h;
  h.length = DecodeFixed32(p);
  h.checksum = DecodeFixed32(p + 4);
  h.term = DecodeFixed64(p + 8);
  h.index = DecodeFixed64(p + 16);
  return h;
}

}  // namespace cmq::storage
