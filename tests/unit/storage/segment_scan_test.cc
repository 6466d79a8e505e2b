// ScanSegment's reads: recovery of a segment whose last record is torn searches the rest
// of the file for a valid record (to tell a torn tail from lost data). That search must
// read each byte about once: it read a 1 MiB window per byte probed, so a process killed
// while writing a large entry took minutes to open its log again (a 9 MB tail: 86 s).

#include <gtest/gtest.h>

#include <random>

#include "storage/record.h"
#include "storage/segment_file.h"
#include "storage/term_runs.h"

namespace cmq::storage {
namespace {

// EncodeRecord replaces its output; a segment is records one after another.
void AppendRecord(uint64_t term, uint64_t index, std::string_view payload, std::string* file) {
  std::string record;
  EncodeRecord(term, index, payload, &record);
  file->append(record);
}

// A file in memory that counts what is read from it.
class CountingFile final : public RandomAccessFile {
 public:
  explicit CountingFile(std::string data) : data_(std::move(data)) {}
  Status Read(uint64_t offset, size_t n, std::string* out) const override {
    ++reads;
    out->assign(data_.substr(std::min<uint64_t>(offset, data_.size()), n));
    bytes_read += out->size();
    return Status::Ok();
  }
  Result<uint64_t> Size() const override { return static_cast<uint64_t>(data_.size()); }

  mutable uint64_t reads = 0;
  mutable uint64_t bytes_read = 0;

 private:
  std::string data_;
};

// Records 1..3, then the first 8 MiB of a 16 MiB record (the process died while writing
// it: message bodies, here random letters), then 4 MiB of reserved zeros.
std::string SegmentWithATornLargeRecord() {
  std::string file;
  for (uint64_t i = 1; i <= 3; ++i) AppendRecord(1, i, "entry " + std::to_string(i), &file);
  std::string big(16u << 20, 'x');
  std::mt19937_64 rng(7);
  for (char& c : big) c = static_cast<char>('a' + rng() % 26);
  std::string torn;
  EncodeRecord(1, 4, big, &torn);
  file += torn.substr(0, 8u << 20);
  file.append(4u << 20, '\0');
  return file;
}

TEST(SegmentScanTest, ATornLargeRecordIsFoundWithoutReadingTheTailOverAndOver) {
  const std::string data = SegmentWithATornLargeRecord();
  CountingFile file(data);
  TermRuns terms;
  auto scan = ScanSegment(file, 1, &terms);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->offsets.size(), 3u);
  EXPECT_TRUE(scan->damaged);
  EXPECT_FALSE(scan->valid_record_after_damage);  // a torn tail: the log cuts it
  // About the file once (12 MiB in 1 MiB windows); the old search read 1 MiB per byte.
  EXPECT_LE(file.bytes_read, 3 * data.size()) << file.reads << " reads";
  EXPECT_LE(file.reads, 64u);
}

TEST(SegmentScanTest, AValidRecordAfterDamageIsStillFound) {
  // The same search must still see a record that follows damage (lost data, not a tail).
  std::string file;
  for (uint64_t i = 1; i <= 3; ++i) AppendRecord(1, i, "entry " + std::to_string(i), &file);
  std::string damaged;
  EncodeRecord(1, 4, std::string(3u << 20, 'q'), &damaged);
  damaged[kRecordHeaderBytes + 100] ^= 1;  // a flipped bit in its payload
  file += damaged;
  AppendRecord(1, 5, "after the damage", &file);
  CountingFile counting(file);
  TermRuns terms;
  auto scan = ScanSegment(counting, 1, &terms);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->offsets.size(), 3u);
  EXPECT_TRUE(scan->damaged);
  EXPECT_TRUE(scan->valid_record_after_damage);
  EXPECT_LE(counting.bytes_read, 3 * file.size()) << counting.reads << " reads";
}

}  // namespace
}  // namespace cmq::storage
