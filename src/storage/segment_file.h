#pragma once
// Segment files: naming and the recovery scan (docs/storage-format.md "Segments",
// "Recovery").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/file_system.h"
#include "storage/term_runs.h"

namespace cmq::storage {

// "00000000000000000001.log": the index of the segment's first entry, 20 digits.
std::string SegmentFileName(uint64_t base_index);
// The base index of a segment file name; nullopt for any other name (or index 0).
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);

struct SegmentScan {
  std::vector<uint32_t> offsets;  // start of each valid record, in index order
  uint64_t valid_end = 0;         // end of the last valid record
  uint64_t file_size = 0;
  // A record at valid_end failed its framing or checksum (a torn or corrupt record).
  bool damaged = false;
  std::string damage;  // what was wrong, for messages
  // A record with a valid checksum and an index >= the damaged one's lies after it, so
  // the damage is not a torn tail but lost data.
  bool valid_record_after_damage = false;
};

// Reads the segment file from the start, verifying every record: checksum, index equal to
// base_index + position, terms not decreasing (appending each entry's term to *terms).
// A tail of zeros ends the scan cleanly, with damaged false: the unused part of a reserved
// segment, or unsynced appends that never reached it. Other damage (bad length, checksum
// mismatch, short record) ends the scan and is reported in the result; a record whose checksum is
// valid but whose index or term is wrong is returned as kCorruption, since no torn write produces
// one.
Result<SegmentScan> ScanSegment(const RandomAccessFile& file, uint64_t base_index, TermRuns* terms);

}  // namespace cmq::storage
