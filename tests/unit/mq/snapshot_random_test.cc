// Snapshots under random commands: a machine restored at random points applies the rest
// exactly as one that never stopped; every truncated or corrupted snapshot is refused, and
// malformed content behind a good checksum is refused or harmless, never a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <random>

#include "common/checksum.h"
#include "common/encoding.h"
#include "unit/mq/harness.h"
#include "unit/mq/observe.h"

namespace cmq::mq {
namespace {

using testing::Cmd;
using testing::DescribeResult;
using testing::Harness;
using testing::ObserveMachine;

// Random commands over four queues, with receipt handles taken from earlier receives
// (current, stale or deleted by now), and the clock moving mostly forward.
class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  int64_t Step() {
    uint64_t kind = rng_() % 40;
    if (kind == 0) return 30'000 + static_cast<int64_t>(rng_() % 300'000);  // expiries
    if (kind <= 2) return -static_cast<int64_t>(rng_() % 2'000);            // clock behind
    return static_cast<int64_t>(rng_() % 3'000);
  }

  Command Next(int64_t now_ms) {
    static const char* kNames[] = {"a", "B", "c-1", "d"};
    Command cmd = Cmd(CommandType::kHousekeeping, kNames[rng_() % 4]);
    switch (rng_() % 13) {
      case 0:
        cmd.type = CommandType::kCreateQueue;
        cmd.attributes.msg_retention_seconds = 60 + static_cast<int64_t>(rng_() % 900);
        if (rng_() % 3 != 0) cmd.attributes.rewind_seconds = 10 + static_cast<int64_t>(rng_() % 50);
        break;
      case 1:
        cmd.type = CommandType::kSetQueueAttributes;
        cmd.attributes.rewind_seconds = rng_() % 3 == 0 ? 0 : 20;
        if (rng_() % 2) cmd.attributes.visibility_timeout = 1 + static_cast<int64_t>(rng_() % 5);
        break;
      case 2:
        cmd.type = rng_() % 25 == 0 ? CommandType::kDeleteQueue : CommandType::kHousekeeping;
        break;
      case 3:
        cmd.type = CommandType::kRewindQueue;
        cmd.rewind_start_s = now_ms / 1000 - static_cast<int64_t>(rng_() % 100);
        break;
      case 4:
      case 5:
      case 6:
        cmd.type = CommandType::kSendMessages;
        bodies_.clear();  // the views below live until the next command
        for (uint64_t i = 0, n = 1 + rng_() % 16; i < n; ++i) {
          bodies_.push_back(std::string(1 + rng_() % 300, 'x'));
        }
        cmd.bodies.assign(bodies_.begin(), bodies_.end());
        cmd.delay_seconds = rng_() % 4 == 0 ? static_cast<int64_t>(1 + rng_() % 10) : 0;
        break;
      case 7:
      case 8:
        cmd.type = CommandType::kReceiveMessages;
        cmd.num_messages = static_cast<uint32_t>(1 + rng_() % 16);
        if (rng_() % 2) cmd.visibility_timeout_s = 1 + static_cast<int64_t>(rng_() % 20);
        break;
      case 9:
        cmd.type = CommandType::kSendHalfMessages;
        bodies_.clear();
        for (uint64_t i = 0, n = 1 + rng_() % 4; i < n; ++i) {
          bodies_.push_back(std::string(1 + rng_() % 100, 'h'));
        }
        cmd.bodies.assign(bodies_.begin(), bodies_.end());
        cmd.transaction_check_ms = 1'000 + static_cast<int64_t>(rng_() % 9'000);
        cmd.producer = rng_() % 2 ? "producer-1" : "p2";
        break;
      case 10:
        cmd.type = CommandType::kConfirmTransaction;
        for (uint64_t i = 0, n = 1 + rng_() % 4; i < n; ++i) {
          cmd.confirms.push_back(TransactionConfirm{
              ids_.empty() || rng_() % 10 == 0 ? rng_() % 100'000 : ids_[rng_() % ids_.size()],
              rng_() % 3 != 0});
        }
        break;
      default:
        cmd.type = CommandType::kDeleteMessages;
        for (uint64_t i = 0, n = 1 + rng_() % 8; i < n; ++i) {
          cmd.receipt_handles.push_back(handles_.empty() || rng_() % 10 == 0
                                            ? rng_() % 100'000
                                            : handles_[rng_() % handles_.size()]);
        }
        break;
    }
    return cmd;
  }

  void Saw(const ApplyResult& r) {
    for (const ReceivedMessage& m : r.messages) handles_.push_back(m.receipt_handle);
    if (handles_.size() > 64) handles_.erase(handles_.begin(), handles_.end() - 64);
    ids_.insert(ids_.end(), r.msg_ids.begin(), r.msg_ids.end());
    if (ids_.size() > 64) ids_.erase(ids_.begin(), ids_.end() - 64);
  }

  uint64_t Below(uint64_t n) { return rng_() % n; }

 private:
  std::mt19937_64 rng_;
  std::vector<uint64_t> handles_;
  std::vector<uint64_t> ids_;  // message ids from sends (for confirms)
  std::vector<std::string> bodies_;
};

// A kMoveBodies of one of the queues holding bodies below the current entry, as a leader
// proposes it (the bodies' bytes do not matter to the state, only their lengths); nullopt
// if no queue qualifies. *bodies keeps the body bytes.
std::optional<Command> SomeMove(const Harness& h, Generator& gen,
                                std::vector<std::string>* bodies) {
  auto queues = h.sm.BodiesPinningLogBelow(h.index + 1, 64, 1 << 20);
  if (queues.empty()) return std::nullopt;
  const auto& pick = queues[gen.Below(queues.size())];
  Command cmd = Cmd(CommandType::kMoveBodies, pick.queue_name);
  cmd.moves = pick.moves;
  bodies->clear();
  for (const BodyLocation& where : pick.bodies) bodies->push_back(std::string(where.length, 'm'));
  cmd.bodies.assign(bodies->begin(), bodies->end());
  return cmd;
}

// Applies count random commands to h (and its followers, compared with h). One in 20 is a
// body move, proposed from the state as it is, and applied either at once or after one
// more command (which may make it a no-op). *moves_applied counts the moves that moved.
void RunCommands(Harness& h, Generator& gen, int count, int* moves_applied = nullptr) {
  std::vector<std::string> move_bodies;
  for (int i = 0; i < count; ++i) {
    h.now_ms += gen.Step();
    std::optional<Command> move;
    if (gen.Below(20) == 0) move = SomeMove(h, gen, &move_bodies);
    if (move && gen.Below(2) == 0) {
      ApplyResult r = h.Apply(*move);
      for (const ApplyResult& f : h.follower_results) {
        ASSERT_EQ(DescribeResult(f), DescribeResult(r)) << "move before command " << i;
      }
      if (moves_applied != nullptr && !r.msg_ids.empty()) ++*moves_applied;
      move.reset();
    }
    ApplyResult r = h.Apply(gen.Next(h.now_ms));
    for (const ApplyResult& f : h.follower_results) {
      ASSERT_EQ(DescribeResult(f), DescribeResult(r)) << "command " << i;
    }
    gen.Saw(r);
    if (move) {
      ApplyResult moved = h.Apply(*move);
      for (const ApplyResult& f : h.follower_results) {
        ASSERT_EQ(DescribeResult(f), DescribeResult(moved)) << "move after command " << i;
      }
      if (moves_applied != nullptr && !moved.msg_ids.empty()) ++*moves_applied;
    }
  }
}

// Fills in the length and checksum fields of a snapshot (docs/snapshot-format.md).
void Reseal(std::string& snapshot) {
  EncodeFixed64(&snapshot[5], snapshot.size() - 17);
  std::string_view s = snapshot;
  EncodeFixed32(&snapshot[13], Checksum32(s.substr(0, 13), s.substr(17)));
}

std::string SomeSnapshot() {
  Harness h;
  h.keep_payloads = false;
  Generator gen(42);
  RunCommands(h, gen, 300);
  return h.sm.Snapshot();
}

class SnapshotRandomTest : public ::testing::TestWithParam<int> {};

TEST_P(SnapshotRandomTest, RestoredMidwayAppliesTheRestExactlyAsStraightThrough) {
  Generator gen(GetParam());
  Harness straight(9);
  straight.keep_payloads = false;
  auto other = std::make_unique<StateMachine>(9);
  straight.followers = {other.get()};
  constexpr int kCommands = 3'000;
  std::vector<int> restore_points = {static_cast<int>(gen.Below(kCommands)),
                                     static_cast<int>(gen.Below(kCommands))};
  std::sort(restore_points.begin(), restore_points.end());
  int done = 0;
  int moves = 0;
  for (int point : restore_points) {
    ASSERT_NO_FATAL_FAILURE(RunCommands(straight, gen, point - done, &moves));
    done = point;
    std::string snapshot = other->Snapshot();
    ASSERT_EQ(snapshot, straight.sm.Snapshot());
    Result<std::unique_ptr<StateMachine>> restored = StateMachine::Restore(snapshot);
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    other = std::move(*restored);
    straight.followers = {other.get()};
    for (int64_t later_ms : {0, 5'000, 60'000, 1'000'000}) {
      ASSERT_EQ(ObserveMachine(*other, straight.now_ms + later_ms),
                ObserveMachine(straight.sm, straight.now_ms + later_ms));
    }
  }
  ASSERT_NO_FATAL_FAILURE(RunCommands(straight, gen, kCommands - done, &moves));
  EXPECT_GT(moves, 10) << "bodies were moved along the way";
  EXPECT_EQ(ObserveMachine(*other, straight.now_ms), ObserveMachine(straight.sm, straight.now_ms));
  EXPECT_EQ(other->Snapshot(), straight.sm.Snapshot());
  EXPECT_GT(straight.sm.message_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, SnapshotRandomTest, ::testing::Range(1, 7));

TEST(SnapshotCorruptionTest, EveryTruncationIsRefused) {
  std::string snapshot = SomeSnapshot();
  ASSERT_GT(snapshot.size(), 200u);
  for (size_t n = 0; n < snapshot.size(); ++n) {
    EXPECT_EQ(StateMachine::Restore(snapshot.substr(0, n)).status().code(), ErrorCode::kCorruption)
        << n;
  }
  EXPECT_EQ(StateMachine::Restore(snapshot + '\0').status().code(), ErrorCode::kCorruption);
}

TEST(SnapshotCorruptionTest, EverySingleByteCorruptionIsRefused) {
  const std::string snapshot = SomeSnapshot();
  for (size_t i = 0; i < snapshot.size(); ++i) {
    for (uint8_t mask : {0x01, 0x10, 0x80, 0xff}) {
      std::string bad = snapshot;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      EXPECT_EQ(StateMachine::Restore(bad).status().code(), ErrorCode::kCorruption) << i;
    }
  }
}

TEST(SnapshotCorruptionTest, AnotherVersionIsRefusedEvenWithAGoodChecksum) {
  std::string snapshot = SomeSnapshot();
  snapshot[4] = 4;
  Reseal(snapshot);
  Result<std::unique_ptr<StateMachine>> restored = StateMachine::Restore(snapshot);
  EXPECT_EQ(restored.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(restored.status().message().find("version"), std::string::npos);
}

// Mutated bodies behind a recomputed checksum: either refused, or a machine that takes
// commands and reads without breaking an invariant and snapshots to a restorable state.
TEST(SnapshotCorruptionTest, MalformedContentBehindAGoodChecksumIsRefusedOrHarmless) {
  const std::string snapshot = SomeSnapshot();
  std::mt19937_64 rng(7);
  int accepted = 0;
  for (int i = 0; i < 2'000; ++i) {
    std::string bad = snapshot;
    for (uint64_t k = 0, n = 1 + rng() % 3; k < n; ++k) {
      size_t at = 17 + rng() % (bad.size() - 17);
      switch (rng() % 4) {
        case 0:
          bad.erase(at, 1 + rng() % 8);
          break;
        case 1:
          bad.insert(at, 1, static_cast<char>(rng()));
          break;
        default:
          bad[at] = static_cast<char>(rng() % 3 == 0 ? 0x80 | rng() : rng());
      }
      if (bad.size() <= 17) bad = snapshot;
    }
    Reseal(bad);
    Result<std::unique_ptr<StateMachine>> restored = StateMachine::Restore(bad);
    if (!restored.ok()) {
      ASSERT_EQ(restored.status().code(), ErrorCode::kCorruption);
      continue;
    }
    ++accepted;
    StateMachine& sm = **restored;
    Harness h;
    h.keep_payloads = false;
    h.followers = {&sm};
    h.index = sm.last_applied_index();
    h.now_ms = sm.last_applied_time_ms();
    Generator gen(i);
    for (int k = 0; k < 40; ++k) {
      h.now_ms += gen.Step();
      h.Apply(gen.Next(h.now_ms));
      ObserveMachine(sm, h.now_ms + 10'000);
    }
    ASSERT_TRUE(StateMachine::Restore(sm.Snapshot()).ok()) << i;
  }
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace cmq::mq
