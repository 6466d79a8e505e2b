#pragma once
// Shared fixture for the log tests: a log on the fault-injection file system in "/log".

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "storage/fault_injection_file_system.h"
#include "storage/log.h"
#include "storage/segment_file.h"

namespace cmq::storage {

// A payload that names its index and a salt, so stale or misplaced data never matches.
inline std::string TestPayload(uint64_t index, size_t size, uint64_t salt = 0) {
  std::string out;
  std::string seed = std::to_string(index) + ":" + std::to_string(salt) + ";";
  while (out.size() < size) out += seed;
  out.resize(size);
  return out;
}

class LogTestBase : public ::testing::Test {
 protected:
  LogTestBase() {
    options_.dir = "/log";
    options_.segment_bytes = 1024;
  }

  Status TryOpen() {
    log_.reset();
    auto log = Log::Open(&fs_, options_);
    if (!log.ok()) return log.status();
    log_ = std::move(*log);
    return Status::Ok();
  }
  // Fails the test and ends it (gtest catches the exception: the test body cannot go on
  // without a log, and the next test still runs).
  void Open() {
    Status st = TryOpen();
    if (!st.ok()) {
      ADD_FAILURE() << "Log::Open: " << st.ToString();
      throw std::runtime_error("Log::Open failed");
    }
  }
  // A power cut with the log open, then a restart.
  void CrashAndReopen() {
    fs_.SimulateCrash();
    Open();
  }
  // Appends [first, last] with payloads of payload_size bytes.
  void AppendRange(uint64_t first, uint64_t last, uint64_t term = 1, size_t payload_size = 100) {
    for (uint64_t i = first; i <= last; ++i) {
      Status st = log_->Append(term, i, TestPayload(i, payload_size));
      ASSERT_TRUE(st.ok()) << "index " << i << ": " << st.ToString();
    }
  }
  void ExpectEntry(uint64_t index, uint64_t term, size_t payload_size = 100) {
    auto entry = log_->Read(index);
    ASSERT_TRUE(entry.ok()) << "index " << index << ": " << entry.status().ToString();
    EXPECT_EQ(entry->index, index);
    EXPECT_EQ(entry->term, term);
    EXPECT_EQ(entry->payload, TestPayload(index, payload_size)) << "index " << index;
  }
  std::string SegmentPath(uint64_t base) const { return "/log/" + SegmentFileName(base); }
  std::string LastSegmentPath() { return SegmentPath(LastSegmentBase()); }
  uint64_t LastSegmentBase() {
    uint64_t best = 0;
    for (const auto& name : fs_.ListDir("/log").value()) {
      if (auto base = ParseSegmentFileName(name)) best = std::max(best, *base);
    }
    return best;
  }
  // Appends raw bytes to a file, durably, as a disk might hold them.
  void AppendRaw(const std::string& path, std::string_view bytes) {
    auto file = fs_.OpenAppendable(path);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append(bytes).ok());
    ASSERT_TRUE((*file)->Sync().ok());
  }

  FaultInjectionFileSystem fs_;
  LogOptions options_;
  std::unique_ptr<Log> log_;
};

}  // namespace cmq::storage
