// Random operations applied both to the StateMachine and to a brute-force reference model
// that decides every state from scratch at each time (no heaps, no laziness): results,
// counters at present and future times, HasVisibleMessage and NextDueMs must agree.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "mq/limits.h"
#include "unit/mq/harness.h"

namespace cmq::mq {
namespace {

using testing::Harness;

struct RefMessage {
  uint64_t id = 0;
  int64_t enqueue_ms = 0;
  int64_t next_visible_ms = 0;
  int64_t first_dequeue_ms = 0;
  uint32_t dequeue_count = 0;
  bool deleted = false;  // retained for rewind
  bool gone = false;
};

class RefQueue {
 public:
  int64_t retention_ms = 60'000;
  int64_t rewind_ms = 10'000;
  std::vector<RefMessage> messages;  // id order

  void Settle(int64_t now) {
    for (RefMessage& m : messages) {
      if (m.enqueue_ms + retention_ms <= now) m.gone = true;
      if (m.deleted && m.enqueue_ms < now - rewind_ms) m.gone = true;
    }
  }
  static bool Visible(const RefMessage& m, int64_t now) {
    return !m.gone && !m.deleted && now >= m.next_visible_ms;
  }
  QueueInfo Info(int64_t now) const {
    RefQueue copy = *this;
    copy.Settle(now);
    QueueInfo info;
    for (const RefMessage& m : copy.messages) {
      if (m.gone) continue;
      if (m.deleted) {
        ++info.rewind_msg_num;
        continue;
      }
      if (info.min_msg_time_s == 0) info.min_msg_time_s = m.enqueue_ms / 1000;
      if (Visible(m, now)) {
        ++info.active_msg_num;
      } else {
        ++(m.dequeue_count == 0 ? info.delay_msg_num : info.inactive_msg_num);
      }
    }
    return info;
  }
  std::optional<int64_t> NextDue(int64_t now) const {
    std::optional<int64_t> due;
    for (const RefMessage& m : messages) {
      if (m.gone || m.deleted || m.next_visible_ms <= now) continue;
      due = std::min(due.value_or(INT64_MAX), m.next_visible_ms);
    }
    return due;
  }
};

class ModelTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    rng.seed(GetParam());
    QueueAttributeUpdate u;
    u.msg_retention_seconds = 60;
    u.rewind_seconds = 10;
    ASSERT_TRUE(h.Create("q", u).status.ok());
  }

  void Send() {
    uint32_t n = 1 + rng() % 3;
    int64_t delay = rng() % 3 == 0 ? 1 + rng() % 5 : 0;
    ApplyResult r = h.Send("q", std::vector<std::string>(n, "m"), delay);
    ASSERT_TRUE(r.status.ok());
    for (uint64_t id : r.msg_ids) {
      RefMessage m;
      m.id = id;
      m.enqueue_ms = now;
      m.next_visible_ms = now + delay * 1000;
      ref.messages.push_back(m);
    }
  }

  void Receive() {
    uint32_t n = 1 + rng() % 4;
    int64_t vt = 1 + rng() % 5;
    ApplyResult r = h.Receive("q", n, vt);
    std::vector<ReceivedMessage> expected;
    for (RefMessage& m : ref.messages) {
      if (expected.size() == n || !RefQueue::Visible(m, now)) continue;
      if (++m.dequeue_count == 1) m.first_dequeue_ms = now;
      m.next_visible_ms = now + vt * 1000;
      uint64_t handle = ((m.id & ((uint64_t{1} << kMessageSeqBits) - 1)) << kReceiptCountBits) |
                        (m.dequeue_count & ((uint64_t{1} << kReceiptCountBits) - 1));
      ReceivedMessage e;
      e.msg_id = m.id;
      e.receipt_handle = handle;
      e.enqueue_time_ms = m.enqueue_ms;
      e.next_visible_time_ms = m.next_visible_ms;
      e.first_dequeue_time_ms = m.first_dequeue_ms;
      e.dequeue_count = m.dequeue_count;
      expected.push_back(e);
      handles.push_back(handle);
    }
    EXPECT_EQ(r.status.code(), expected.empty() ? ErrorCode::kNoMessage : ErrorCode::kOk);
    ASSERT_EQ(r.messages.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(r.messages[i].msg_id, expected[i].msg_id);
      EXPECT_EQ(r.messages[i].receipt_handle, expected[i].receipt_handle);
      EXPECT_EQ(r.messages[i].enqueue_time_ms, expected[i].enqueue_time_ms);
      EXPECT_EQ(r.messages[i].next_visible_time_ms, expected[i].next_visible_time_ms);
      EXPECT_EQ(r.messages[i].first_dequeue_time_ms, expected[i].first_dequeue_time_ms);
      EXPECT_EQ(r.messages[i].dequeue_count, expected[i].dequeue_count);
    }
  }

  bool RefDelete(uint64_t handle) {
    for (RefMessage& m : ref.messages) {
      if ((m.id & ((uint64_t{1} << kMessageSeqBits) - 1)) != handle >> kReceiptCountBits) continue;
      if (m.gone || m.deleted || m.dequeue_count == 0 ||
          (m.dequeue_count & ((uint64_t{1} << kReceiptCountBits) - 1)) !=
              (handle & ((uint64_t{1} << kReceiptCountBits) - 1)) ||
          now >= m.next_visible_ms) {
        return false;
      }
      if (ref.rewind_ms > 0 && m.enqueue_ms >= now - ref.rewind_ms) {
        m.deleted = true;
      } else {
        m.gone = true;
      }
      return true;
    }
    return false;
  }

  void Delete() {
    std::vector<uint64_t> batch = {7};  // never a valid handle
    for (uint32_t i = rng() % 3; i > 0 && !handles.empty(); --i)
      batch.push_back(handles[rng() % handles.size()]);
    ApplyResult r = h.Delete("q", batch);
    std::vector<uint64_t> failed;
    for (uint64_t handle : batch) {
      if (!RefDelete(handle)) failed.push_back(handle);
    }
    std::vector<uint64_t> got;
    for (const DeleteFailure& f : r.delete_failures) got.push_back(f.receipt_handle);
    EXPECT_EQ(got, failed);
  }

  void Rewind() {
    int64_t start_s = (now - static_cast<int64_t>(rng() % 20'000)) / 1000;
    ApplyResult r = h.Rewind("q", start_s);
    if (ref.rewind_ms == 0) {
      EXPECT_EQ(r.status.code(), ErrorCode::kRewindDisabled);
      return;
    }
    EXPECT_TRUE(r.status.ok());
    int64_t start_ms = std::max(start_s * 1000, now - ref.rewind_ms);
    for (RefMessage& m : ref.messages) {
      if (m.gone || !m.deleted || m.enqueue_ms < start_ms) continue;
      m.deleted = false;
      m.next_visible_ms = std::min(m.next_visible_ms, now);
    }
  }

  void SetRewind() {
    QueueAttributeUpdate u;
    u.rewind_seconds = rng() % 2 == 0 ? 0 : 10;
    ASSERT_TRUE(h.SetAttributes("q", u).status.ok());
    ref.rewind_ms = *u.rewind_seconds * 1000;
    if (ref.rewind_ms == 0) {
      for (RefMessage& m : ref.messages) m.gone = m.gone || m.deleted;
    }
  }

  void Check() {
    for (int64_t ahead : {0, 1, 999, 1'000, 4'000, 9'999, 10'000, 60'000}) {
      QueueInfo want = ref.Info(now + ahead);
      QueueInfo got = *h.sm.GetQueue("q", now + ahead);
      EXPECT_EQ(got.active_msg_num, want.active_msg_num) << ahead;
      EXPECT_EQ(got.inactive_msg_num, want.inactive_msg_num) << ahead;
      EXPECT_EQ(got.delay_msg_num, want.delay_msg_num) << ahead;
      EXPECT_EQ(got.rewind_msg_num, want.rewind_msg_num) << ahead;
      EXPECT_EQ(got.min_msg_time_s, want.min_msg_time_s) << ahead;
      EXPECT_EQ(h.sm.HasVisibleMessage("q", now + ahead), want.active_msg_num > 0) << ahead;
    }
    // After an apply at now, due messages are visible and expired ones dropped.
    RefQueue settled = ref;
    settled.Settle(now);
    EXPECT_EQ(h.sm.NextDueMs("q"), settled.NextDue(now));
  }

  void Step() {
    int64_t step = rng() % 10 == 0 ? -static_cast<int64_t>(rng() % 5'000) : rng() % 3'000;
    h.now_ms += step;
    now = std::max(now, h.now_ms);  // what the state machine clamps to
    ref.Settle(now);
    // Every step applies exactly one command, so the state machine's clamp (the largest
    // time applied) and this one agree.
    switch (rng() % 12) {
      case 0:
      case 1:
      case 2:
        Send();
        break;
      case 3:
      case 4:
      case 5:
        Receive();
        break;
      case 6:
      case 7:
      case 8:
        Delete();
        break;
      case 9:
        Rewind();
        break;
      case 10:
        SetRewind();
        break;
      default:
        h.Housekeeping();
        break;
    }
    ref.Settle(now);
    Check();
  }

  std::mt19937_64 rng;
  Harness h;
  RefQueue ref;
  int64_t now = testing::kStartMs;
  std::vector<uint64_t> handles;
};

TEST_P(ModelTest, AgreesWithTheReferenceModel) {
  for (int i = 0; i < 1'500 && !HasFailure(); ++i) Step();
}

INSTANTIATE_TEST_SUITE_P(Seeds, ModelTest, ::testing::Range(1, 9));

}  // namespace
}  // namespace cmq::mq
