#pragma once
// The record framing of segment files (docs/storage-format.md "Records"):
//
//   [length u32][checksum u32][term u64][index u64][payload: length bytes]
//
// little-endian; checksum = Checksum32(length ‖ term ‖ index ‖ payload), i.e. every byte of
// the record but the checksum itself.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/log.h"

namespace cmq::storage {

inline constexpr size_t kRecordHeaderBytes = 24;
inline constexpr uint32_t kMaxPayloadBytes = kMaxLogPayloadBytes;
inline constexpr uint64_t kMaxSegmentBytes = kMaxLogSegmentBytes;
// A record starts below segment_bytes, so the offset of each fits in 32 bits.
static_assert(kMaxSegmentBytes + kRecordHeaderBytes + kMaxPayloadBytes < (1ull << 32));

struct RecordHeader {
  uint32_t length = 0;  // of the payload
  uint32_t checksum = 0;
  uint64_t term = 0;
  uint64_t index = 0;
};

uint32_t RecordChecksum(uint32_t length, uint64_t term, uint64_t index, std::string_view payload);

// Replaces *out with the record of one entry. REQUIRES: payload.size() <= kMaxPayloadBytes.
void EncodeRecord(uint64_t term, uint64_t index, std::string_view payload, std::string* out);

// REQUIRES: p points at kRecordHeaderBytes bytes.
RecordHeader DecodeRecordHeader(const char* p);

inline bool RecordChecksumMatches(const RecordHeader& h, std::string_view payload) {
  return payload.size() == h.length &&
         RecordChecksum(h.length, h.term, h.index, payload) == h.checksum;
}

}  // namespace cmq::storage
