#include "storage/segment_file.h"

#include <algorithm>
#include <cstdio>

#include "storage/record.h"

namespace cmq::storage {
namespace {

constexpr size_t kScanChunkBytes = 1 << 20;
constexpr size_t kSegmentNameDigits = 20;
constexpr std::string_view kSegmentSuffix = ".log";

// A sliding window over a file for scans: one read per chunk, as long as each request
// starts at or after the previous one's start (a window is read from where a request
// starts, so the ones that follow fall inside it).
class ScanReader {
 public:
  ScanReader(const RandomAccessFile& file, uint64_t file_size)
      : file_(file), file_size_(file_size) {}

  // Bytes [offset, offset + n). REQUIRES: offset + n <= file_size.
  Result<std::string_view> Get(uint64_t offset, size_t n) {
    if (offset < window_offset_ || offset + n > window_offset_ + window_.size()) {
      CMQ_RETURN_IF_ERROR(Fill(offset, n));
    }
    return std::string_view(window_).substr(offset - window_offset_, n);
  }
  // Bytes from offset to the end of the window (reading one there if offset is outside
  // it), at most max_n: what a byte-by-byte search needs without reading anything twice.
  // REQUIRES: offset < file_size.
  Result<std::string_view> GetUpTo(uint64_t offset, size_t max_n) {
    if (offset < window_offset_ || offset >= window_offset_ + window_.size()) {
      CMQ_RETURN_IF_ERROR(Fill(offset, 1));
    }
    const size_t available = window_.size() - static_cast<size_t>(offset - window_offset_);
    return std::string_view(window_).substr(offset - window_offset_, std::min(available, max_n));
  }

 private:
  Status Fill(uint64_t offset, size_t n) {
    size_t want =
        static_cast<size_t>(std::min<uint64_t>(std::max(n, kScanChunkBytes), file_size_ - offset));
    CMQ_RETURN_IF_ERROR(file_.Read(offset, want, &window_));
    window_offset_ = offset;
    if (window_.size() < n) return Status(ErrorCode::kIoError, "segment shrank while scanned");
    return Status::Ok();
  }

  const RandomAccessFile& file_;
  uint64_t file_size_;
  std::string window_;
  uint64_t window_offset_ = 0;
};

struct Probe {
  bool valid = false;
  RecordHeader header;
  const char* problem = "";
};

// Checks the framing and checksum of the record at offset.
Result<Probe> ProbeRecord(ScanReader& reader, uint64_t offset, uint64_t file_size) {
  Probe probe;
  if (file_size - offset < kRecordHeaderBytes) {
    probe.problem = "truncated record header";
    return probe;
  }
  auto header = reader.Get(offset, kRecordHeaderBytes);
  if (!header.ok()) return header.status();
  probe.header = DecodeRecordHeader(header->data());
  uint64_t length = probe.header.length;
  if (length > kMaxPayloadBytes || length > file_size - offset - kRecordHeaderBytes) {
    probe.problem = "bad record length";
    return probe;
  }
  // From the record's start, so that a window read for a long record still holds the
  // next offsets a search for a valid record probes.
  auto record = reader.Get(offset, kRecordHeaderBytes + length);
  if (!record.ok()) return record.status();
  if (!RecordChecksumMatches(probe.header, record->substr(kRecordHeaderBytes))) {
    probe.problem = "record checksum mismatch";
    return probe;
  }
  probe.valid = true;
  return probe;
}

// The offset of the first byte in [from, file_size) that is not zero; file_size if none.
Result<uint64_t> NextNonZeroByte(ScanReader& reader, uint64_t from, uint64_t file_size) {
  while (from < file_size) {
    auto bytes = reader.GetUpTo(from, kScanChunkBytes);
    if (!bytes.ok()) return bytes.status();
    size_t at = bytes->find_first_not_of('\0');
    if (at != std::string_view::npos) return from + at;
    from += bytes->size();
  }
  return file_size;
}

// Whether a valid record of index >= min_index starts anywhere in [from, file_size).
Result<bool> FindValidRecord(ScanReader& reader, uint64_t from, uint64_t file_size,
                             uint64_t min_index) {
  for (uint64_t offset = from; offset + kRecordHeaderBytes <= file_size; ++offset) {
    // A record's header holds its index (>= 1), so it ends after a nonzero byte: a run of
    // zeros (a preallocated tail) is skipped instead of probed byte by byte.
    auto nonzero = NextNonZeroByte(reader, offset, file_size);
    if (!nonzero.ok()) return nonzero.status();
    if (*nonzero >= offset + kRecordHeaderBytes) offset = *nonzero - (kRecordHeaderBytes - 1);
    if (offset + kRecordHeaderBytes > file_size) break;
    auto probe = ProbeRecord(reader, offset, file_size);
    if (!probe.ok()) return probe.status();
    if (probe->valid && probe->header.index >= min_index) return true;
  }
  return false;
}

Status Inconsistent(uint64_t offset, const std::string& what) {
  return Status(ErrorCode::kCorruption,
                "record at offset " + std::to_string(offset) + " has a valid checksum but " + what);
}

}  // namespace

std::string SegmentFileName(uint64_t base_index) {
  char name[kSegmentNameDigits + 1];
  std::snprintf(name, sizeof(name), "%020llu", static_cast<unsigned long long>(base_index));
  return std::string(name, kSegmentNameDigits) + std::string(kSegmentSuffix);
}

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  if (name.size() != kSegmentNameDigits + kSegmentSuffix.size() ||
      !name.ends_with(kSegmentSuffix)) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (char c : name.substr(0, kSegmentNameDigits)) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (value == 0) return std::nullopt;
  return value;
}

Result<SegmentScan> ScanSegment(const RandomAccessFile& file, uint64_t base_index,
                                TermRuns* terms) {
  auto size = file.Size();
  if (!size.ok()) return size.status();
  SegmentScan scan;
  scan.file_size = *size;
  ScanReader reader(file, *size);
  uint64_t offset = 0;
  while (offset < *size) {
    auto probe = ProbeRecord(reader, offset, *size);
    if (!probe.ok()) return probe.status();
    uint64_t expected_index = base_index + scan.offsets.size();
    if (!probe->valid) {
      auto nonzero = NextNonZeroByte(reader, offset, *size);
      if (!nonzero.ok()) return nonzero.status();
      if (*nonzero == *size) break;  // reserved zeros: the clean end
      scan.damaged = true;
      scan.damage = std::string(probe->problem) + " at offset " + std::to_string(offset);
      auto later = FindValidRecord(reader, offset + 1, *size, expected_index);
      if (!later.ok()) return later.status();
      scan.valid_record_after_damage = *later;
      break;
    }
    const RecordHeader& h = probe->header;
    if (h.index != expected_index) {
      return Inconsistent(offset, "index " + std::to_string(h.index) + " where " +
                                      std::to_string(expected_index) + " belongs");
    }
    if (h.term < terms->last_term()) return Inconsistent(offset, "a decreasing term");
    if (offset > UINT32_MAX) return Inconsistent(offset, "starts past 4 GiB");
    scan.offsets.push_back(static_cast<uint32_t>(offset));
    terms->Append(h.index, h.term);
    offset += kRecordHeaderBytes + h.length;
  }
  scan.valid_end = offset;
  return scan;
}

}  // namespace cmq::storage
