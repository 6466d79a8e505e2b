// Randomized crash testing (seeded, so a failure replays): append, sync, truncate and
// crash many times; after every restart, every synced entry must be there intact and the
// log must be a prefix of what was appended (nothing unacknowledged is invented, nothing
// truncated comes back).

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "log_test_util.h"

namespace cmq::storage {
namespace {

struct ModelEntry {
  uint64_t term;
  std::string payload;
};

class LogRandomTest : public LogTestBase, public ::testing::WithParamInterface<uint64_t> {
 protected:
  // Checks the reopened log against the model and then trims the model to it.
  void CheckAgainstModel() {
    ASSERT_GE(log_->LastIndex(), synced_last_) << "a synced entry was lost";
    ASSERT_LE(log_->FirstIndex(), first_kept_) << "more than TruncatePrefix allowed was dropped";
    ASSERT_LE(log_->LastIndex(), model_.empty() ? 0 : model_.rbegin()->first)
        << "the log holds entries that were never appended";
    for (uint64_t i = log_->FirstIndex(); i <= log_->LastIndex(); ++i) {
      auto entry = log_->Read(i);
      ASSERT_TRUE(entry.ok()) << "index " << i << ": " << entry.status().ToString();
      ASSERT_TRUE(model_.contains(i)) << "index " << i;
      ASSERT_EQ(entry->term, model_[i].term) << "index " << i;
      ASSERT_EQ(entry->payload, model_[i].payload) << "index " << i;
      ASSERT_EQ(log_->TermAt(i), model_[i].term);
    }
    std::erase_if(model_, [&](const auto& kv) { return kv.first > log_->LastIndex(); });
    synced_last_ = log_->LastIndex();  // what survived a crash is on the medium
  }

  std::map<uint64_t, ModelEntry> model_;  // index -> what was appended there last
  uint64_t synced_last_ = 0;              // every entry <= this was acknowledged
  uint64_t first_kept_ = 1;               // TruncatePrefix promised to keep entries >= this
};

TEST_P(LogRandomTest, SyncedEntriesSurviveAndTheLogIsAPrefixOfTheAppends) {
  std::mt19937_64 rng(GetParam());
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };
  options_.segment_bytes = 2048;
  Open();
  uint64_t term = 1;
  for (int step = 0; step < 400; ++step) {
    uint64_t next = log_->LastIndex() + 1;
    if (log_->LastIndex() < log_->FirstIndex()) next = log_->FirstIndex();
    int batch = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < batch; ++k, ++next) {
      std::string payload = TestPayload(next, rng() % 700, rng());
      ASSERT_TRUE(log_->Append(term, next, payload).ok());
      model_[next] = ModelEntry{term, payload};
    }
    if (chance(50)) {
      ASSERT_TRUE(log_->Sync().ok());
      synced_last_ = log_->LastIndex();
    }
    if (chance(10) && log_->LastIndex() > log_->FirstIndex()) {
      // A Raft conflict: a new term overwrites a suffix.
      uint64_t span = log_->LastIndex() - log_->FirstIndex();
      uint64_t from = log_->FirstIndex() + 1 + rng() % span;
      ASSERT_TRUE(log_->TruncateSuffix(from).ok());
      std::erase_if(model_, [&](const auto& kv) { return kv.first >= from; });
      synced_last_ = std::min(synced_last_, from - 1);
      ++term;
    }
    if (chance(5) && synced_last_ > log_->FirstIndex() + 10) {
      first_kept_ = synced_last_ - 10;
      ASSERT_TRUE(log_->TruncatePrefix(first_kept_).ok());
      ASSERT_LE(log_->FirstIndex(), first_kept_);
    }
    if (chance(15)) {
      switch (rng() % 3) {
        case 0:
          fs_.SimulateCrash();
          break;
        case 1:
          fs_.SimulateCrashTearingLastWrite(rng() % 200);
          break;
        default:
          fs_.SimulateCrashKeepingRandomPrefix(rng());
          break;
      }
      Open();
      CheckAgainstModel();
      if (HasFatalFailure()) return;
    }
  }
  ASSERT_TRUE(log_->Sync().ok());
  Open();
  synced_last_ = log_->LastIndex();
  CheckAgainstModel();
}

INSTANTIATE_TEST_SUITE_P(Seeds, LogRandomTest, ::testing::Range<uint64_t>(1, 21));

}  // namespace
}  // namespace cmq::storage
