#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "mq/limits.h"
#include "unit/mq/harness.h"

namespace cmq::mq {
namespace {

using testing::Cmd;
using testing::Harness;
using testing::Strings;

TEST(RobustnessTest, ExtremeValuesAreRefusedNotCrashed) {
  Harness h;
  ASSERT_TRUE(h.Create("q").status.ok());
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  for (int64_t v : {kMin, kMax, int64_t{-1}}) {
    QueueAttributeUpdate u;
    u.visibility_timeout = v;
    EXPECT_EQ(h.Create("x", u).status.code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(h.SetAttributes("q", u).status.code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(h.Send("q", Strings({"a"}), v).status.code(), ErrorCode::kDelayOutOfRange);
    EXPECT_EQ(h.Receive("q", 1, v).status.code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(h.Receive("q", std::numeric_limits<uint32_t>::max()).status.code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.Delete("q", {0, UINT64_MAX}).delete_failures.size(), 2u);
}

TEST(RobustnessTest, ExtremeTimesDoNotOverflow) {
  Harness h;
  h.now_ms = 0;
  ASSERT_TRUE(h.Create("q").status.ok());
  h.now_ms = std::numeric_limits<int64_t>::min();  // clamped to 0
  ASSERT_TRUE(h.Send("q", Strings({"a"})).status.ok());
  EXPECT_EQ(h.Info("q").min_msg_time_s, 0);
  EXPECT_EQ(h.ReceiveBody("q"), "a");
}

TEST(RobustnessTest, RandomDecodableCommandsApplyWithoutCrashing) {
  std::mt19937_64 rng(5);
  StateMachine sm(1);
  uint64_t index = 0;
  int applied = 0;
  for (int i = 0; i < 30'000; ++i) {
    std::string payload;
    EncodeEntryHeader(payload, testing::kStartMs + i * 100, 1);
    std::string command(1 + rng() % 24, '\0');
    for (char& c : command) c = static_cast<char>(rng());
    command[0] = static_cast<char>(1 + rng() % 8);
    if (command.size() > 2 && rng() % 2) {  // a short, often valid, queue name
      command[1] = 1;
      command[2] = static_cast<char>('a' + rng() % 3);
    }
    payload += command;
    Result<DecodedEntry> entry = DecodeEntry(payload);
    if (!entry.ok()) continue;
    ++applied;
    for (const Command& cmd : entry->commands) {
      sm.Apply(cmd, ApplyContext{entry->now_ms, ++index, payload});
    }
    for (const char* name : {"a", "b", "c"}) {
      (void)sm.GetQueue(name, testing::kStartMs + i * 100);
      (void)sm.HasVisibleMessage(name, testing::kStartMs + i * 100);
    }
  }
  EXPECT_GT(applied, 100);
}

int64_t Interesting(std::mt19937_64& rng) {
  static const int64_t kValues[] = {std::numeric_limits<int64_t>::min(),
                                    -1,
                                    0,
                                    1,
                                    59,
                                    60,
                                    3600,
                                    3601,
                                    43'200,
                                    43'201,
                                    1'000'000,
                                    1'296'001,
                                    std::numeric_limits<int64_t>::max()};
  return kValues[rng() % std::size(kValues)];
}

Command RandomFieldCommand(std::mt19937_64& rng, const std::vector<uint64_t>& handles) {
  Command cmd = Cmd(static_cast<CommandType>(1 + rng() % 8), rng() % 2 ? "q" : "Q");
  QueueAttributeUpdate& u = cmd.attributes;
  for (auto* field : {&u.max_msg_heap_num, &u.polling_wait_seconds, &u.visibility_timeout,
                      &u.max_msg_size, &u.msg_retention_seconds, &u.rewind_seconds}) {
    if (rng() % 3 == 0) *field = Interesting(rng);
  }
  cmd.rewind_start_s = Interesting(rng);
  cmd.delay_seconds = rng() % 2 ? 0 : Interesting(rng);
  static const uint32_t kCounts[] = {0, 1, 16, 17, std::numeric_limits<uint32_t>::max()};
  cmd.num_messages = kCounts[rng() % std::size(kCounts)];
  if (rng() % 2) cmd.visibility_timeout_s = Interesting(rng);
  static const std::string kBodies[] = {"", "x", std::string(70'000, 'y')};
  for (uint32_t n = rng() % 18; n > 0; --n) cmd.bodies.push_back(kBodies[rng() % 3]);
  for (uint32_t n = rng() % 18; n > 0; --n) {
    cmd.receipt_handles.push_back(
        handles.empty() || rng() % 4 == 0 ? rng() : handles[rng() % handles.size()]);
  }
  return cmd;
}

TEST(RobustnessTest, RandomFieldValuesKeepTheStateConsistent) {
  std::mt19937_64 rng(11);
  Harness h;
  h.keep_payloads = false;
  std::vector<uint64_t> handles;
  for (int i = 0; i < 20'000; ++i) {
    h.now_ms += static_cast<int64_t>(rng() % 20'000) - 2'000;
    ApplyResult r = h.Apply(RandomFieldCommand(rng, handles));
    for (const ReceivedMessage& m : r.messages) handles.push_back(m.receipt_handle);
    if (h.sm.QueueExists("q")) {
      QueueInfo info = h.Info("q");
      EXPECT_LE(
          info.active_msg_num + info.inactive_msg_num + info.delay_msg_num + info.rewind_msg_num,
          h.sm.message_count());
    }
  }
}

TEST(CompactionTest, TombstonesAndStaleIndexEntriesAreCompactedAway) {
  Harness h;
  h.keep_payloads = false;
  ASSERT_TRUE(h.Create("q").status.ok());
  constexpr int kMessages = 8'000;
  for (int i = 0; i < kMessages; i += kMaxBatch) {
    ASSERT_TRUE(h.Send("q", std::vector<std::string>(kMaxBatch, "x")).status.ok());
  }
  std::vector<ReceivedMessage> got;
  for (int i = 0; i < kMessages; i += kMaxBatch) {
    ApplyResult r = h.Receive("q", kMaxBatch);
    got.insert(got.end(), r.messages.begin(), r.messages.end());
  }
  ASSERT_EQ(got.size(), static_cast<size_t>(kMessages));
  std::vector<uint64_t> kept;  // every fourth survives, the rest are deleted
  for (size_t i = 0; i < got.size(); i += kMaxBatch) {
    std::vector<uint64_t> batch;
    for (size_t j = i; j < i + kMaxBatch; ++j) {
      if (j % 4 == 1) {
        kept.push_back(got[j].msg_id);
      } else {
        batch.push_back(got[j].receipt_handle);
      }
    }
    ASSERT_TRUE(h.Delete("q", batch).status.ok());
  }
  EXPECT_EQ(h.sm.message_count(), kept.size());
  EXPECT_EQ(h.Info("q").inactive_msg_num, kept.size());
  h.now_ms += 30'000;  // the survivors come back, in id order
  std::vector<uint64_t> again;
  for (size_t i = 0; i < kept.size(); i += kMaxBatch) {
    for (const ReceivedMessage& m : h.Receive("q", kMaxBatch).messages) {
      again.push_back(m.msg_id);
      EXPECT_EQ(m.dequeue_count, 2u);
    }
  }
  EXPECT_EQ(again, kept);
  EXPECT_EQ(h.Receive("q").status.code(), ErrorCode::kNoMessage);
}

}  // namespace
}  // namespace cmq::mq
