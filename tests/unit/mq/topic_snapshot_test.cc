// Snapshots with topics: round trip, version 1 still read, corruption refused, and a
// machine restored midway through random topic and queue commands goes on identically.
#include <gtest/gtest.h>

#include <random>

#include "common/checksum.h"
#include "common/encoding.h"
#include "mq/placement.h"
#include "unit/mq/harness.h"
#include "unit/mq/observe.h"

namespace cmq::mq {
namespace {

using testing::Cmd;
using testing::DescribeResult;
using testing::Harness;
using testing::ObserveMachine;
using testing::Strings;
using testing::TopicCmd;

void Reseal(std::string& snapshot) {
  EncodeFixed64(&snapshot[5], snapshot.size() - 17);
  std::string_view s = snapshot;
  EncodeFixed32(&snapshot[13], Checksum32(s.substr(0, 13), s.substr(17)));
}

// Random commands over two topics (one per filter type), three queues and HTTP and queue
// subscriptions, with push results naming recent messages.
class TopicGenerator {
 public:
  explicit TopicGenerator(uint64_t seed) : rng_(seed) {}

  int64_t Step() {
    uint64_t kind = rng_() % 50;
    if (kind == 0) return 40'000'000 + static_cast<int64_t>(rng_() % 60'000'000);  // retention
    return static_cast<int64_t>(rng_() % 3'000);
  }

  Command Next(int64_t now_ms) {
    static const char* kTopics[] = {"tags", "Routes"};
    static const char* kQueues[] = {"qa", "qb", "qc"};
    static const char* kSubs[] = {"s1", "s2", "S3", "s4"};
    static const char* kWords[] = {"a", "b", "*", "#"};
    std::string topic = kTopics[rng_() % 2];
    std::string sub = kSubs[rng_() % 4];
    Command cmd = TopicCmd(CommandType::kPushResults, topic, sub);
    switch (rng_() % 14) {
      case 0:
        cmd.type = CommandType::kCreateTopic;
        cmd.topic_filter_type = topic == "tags" ? 1 : 2;
        break;
      case 1:
        cmd = Cmd(rng_() % 4 == 0 ? CommandType::kDeleteQueue : CommandType::kCreateQueue,
                  kQueues[rng_() % 3]);
        break;
      case 2:
      case 3:
        cmd.type = CommandType::kSubscribe;
        cmd.subscription.protocol = rng_() % 2 ? "http" : "queue";
        cmd.subscription.endpoint =
            *cmd.subscription.protocol == "http" ? "http://h/" + sub : kQueues[rng_() % 3];
        if (rng_() % 2) cmd.subscription.filter_tags = Strings({kWords[rng_() % 2]});
        if (rng_() % 2) {
          cmd.subscription.binding_keys =
              std::vector<std::string>{std::string(kWords[rng_() % 4]) + "." + kWords[rng_() % 4]};
        }
        break;
      case 4:
        cmd.type = rng_() % 3 ? CommandType::kUnsubscribe : CommandType::kDeleteTopic;
        break;
      case 5:
        cmd.type = rng_() % 2 ? CommandType::kClearSubscriptionFilterTags
                              : CommandType::kSetSubscriptionAttributes;
        cmd.subscription.notify_strategy = "BACKOFF_RETRY";
        break;
      case 6:
      case 7:
      case 8:
      case 9:
        cmd.type = CommandType::kPublishMessages;
        bodies_.clear();
        for (uint64_t i = 0, n = 1 + rng_() % 4; i < n; ++i) {
          bodies_.push_back(std::string(1 + rng_() % 50, 'p'));
        }
        cmd.bodies.assign(bodies_.begin(), bodies_.end());
        if (rng_() % 2) cmd.msg_tags = Strings({kWords[rng_() % 2]});
        cmd.routing_key = rng_() % 3 ? std::string(kWords[rng_() % 2]) + ".a" : "";
        break;
      case 10:
        cmd = Cmd(rng_() % 2 ? CommandType::kHousekeeping : CommandType::kReceiveMessages,
                  kQueues[rng_() % 3]);
        cmd.num_messages = 16;
        break;
      default:
        for (uint64_t i = 0, n = 1 + rng_() % 4; i < n && !ids_.empty(); ++i) {
          uint64_t kind = rng_() % 3;
          cmd.push_results.push_back(
              {ids_[rng_() % ids_.size()], kind == 0,
               kind == 1 ? now_ms + static_cast<int64_t>(rng_() % 5'000) : 0});
        }
    }
    return cmd;
  }

  void Saw(const ApplyResult& r) {
    ids_.insert(ids_.end(), r.msg_ids.begin(), r.msg_ids.end());
    if (ids_.size() > 64) ids_.erase(ids_.begin(), ids_.end() - 64);
  }

 private:
  std::mt19937_64 rng_;
  std::vector<uint64_t> ids_;
  std::vector<std::string> bodies_;
};

void RunTopicCommands(Harness& h, TopicGenerator& gen, int count) {
  for (int i = 0; i < count; ++i) {
    h.now_ms += gen.Step();
    ApplyResult r = h.Apply(gen.Next(h.now_ms));
    for (const ApplyResult& f : h.follower_results) {
      ASSERT_EQ(DescribeResult(f), DescribeResult(r)) << "command " << i;
    }
    gen.Saw(r);
  }
}

std::string SomeTopicSnapshot() {
  Harness h;
  h.keep_payloads = false;
  TopicGenerator gen(3);
  RunTopicCommands(h, gen, 400);
  return h.sm.Snapshot();
}

class TopicSnapshotRandomTest : public ::testing::TestWithParam<int> {};

TEST_P(TopicSnapshotRandomTest, RestoredMidwayAppliesTheRestExactlyAsStraightThrough) {
  TopicGenerator gen(GetParam());
  Harness straight(9);
  straight.keep_payloads = false;
  auto other = std::make_unique<StateMachine>(9);
  straight.followers = {other.get()};
  for (int round = 0; round < 4; ++round) {
    ASSERT_NO_FATAL_FAILURE(RunTopicCommands(straight, gen, 500));
    std::string snapshot = other->Snapshot();
    ASSERT_EQ(snapshot, straight.sm.Snapshot());
    Result<std::unique_ptr<StateMachine>> restored = StateMachine::Restore(snapshot);
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    other = std::move(*restored);
    straight.followers = {other.get()};
    ASSERT_EQ(other->Snapshot(), snapshot);
    for (int64_t later_ms : {0, 5'000, 100'000'000}) {
      ASSERT_EQ(ObserveMachine(*other, straight.now_ms + later_ms),
                ObserveMachine(straight.sm, straight.now_ms + later_ms));
    }
  }
  EXPECT_EQ(other->Snapshot(), straight.sm.Snapshot());
  EXPECT_GT(straight.sm.ListTopics("", 0, 10).total_count, 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, TopicSnapshotRandomTest, ::testing::Range(1, 5));

// Group 2 of 3: "tags", "Routes" and "qb" are placed here, "qa" and "qc" elsewhere, so
// queue subscriptions to qa/qc become pending pushes (and creates of qa/qc are refused).
TEST_P(TopicSnapshotRandomTest, SeveralGroupsRestoredMidwayApplyTheRestIdentically) {
  ASSERT_EQ(GroupOfName("tags", 3), 2u);
  ASSERT_EQ(GroupOfName("qa", 3), 1u);
  TopicGenerator gen(GetParam());
  Harness straight(2, 3);
  straight.keep_payloads = false;
  auto other = std::make_unique<StateMachine>(2, 3);
  straight.followers = {other.get()};
  bool saw_queue_push = false;
  for (int round = 0; round < 4; ++round) {
    ASSERT_NO_FATAL_FAILURE(RunTopicCommands(straight, gen, 500));
    for (const PendingPush& p : straight.sm.DuePushes(straight.now_ms, SIZE_MAX, SIZE_MAX)) {
      saw_queue_push |= p.protocol == "queue";
    }
    std::string snapshot = other->Snapshot();
    ASSERT_EQ(snapshot, straight.sm.Snapshot());
    Result<std::unique_ptr<StateMachine>> restored = StateMachine::Restore(snapshot, 3);
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    other = std::move(*restored);
    straight.followers = {other.get()};
    ASSERT_EQ(other->Snapshot(), snapshot);
    for (int64_t later_ms : {0, 5'000, 100'000'000}) {
      ASSERT_EQ(ObserveMachine(*other, straight.now_ms + later_ms),
                ObserveMachine(straight.sm, straight.now_ms + later_ms));
    }
  }
  EXPECT_EQ(other->Snapshot(), straight.sm.Snapshot());
  EXPECT_TRUE(saw_queue_push);
}

TEST(TopicSnapshotTest, PendingPushesAndCountersRoundTrip) {
  Harness h;
  h.CreateTopic("t", 2, 2048);
  h.Create("q");
  h.Subscribe("t", "web", "http", "http://x/", {"tag"}, {"a.#"});
  h.Subscribe("t", "gone", "queue", "q");
  h.DeleteQueue("q");
  ApplyResult r = h.Publish("t", Strings({"a", "b", "c"}), {"x", "y"}, "a.b");
  h.PushResults("t", "web", {{r.msg_ids[0], false, h.now_ms + 7'000}, {r.msg_ids[1], true, 0}});
  Result<std::unique_ptr<StateMachine>> restored = StateMachine::Restore(h.sm.Snapshot());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(ObserveMachine(**restored, h.now_ms + 7'000), ObserveMachine(h.sm, h.now_ms + 7'000));
  EXPECT_EQ((*restored)->GetSubscription("t", "gone", 0)->dropped_msg_count, 3u);
  EXPECT_EQ((*restored)->DuePushes(h.now_ms + 7'000, 10, 10).at(1).attempts, 1u);
  EXPECT_EQ((*restored)->OldestReferencedLogIndex(), h.index - 1);
  // Ids keep counting.
  Harness next;
  next.followers = {restored->get()};
  next.index = h.index;
  next.now_ms = h.now_ms;
  next.Apply(TopicCmd(CommandType::kCreateTopic, "u"));
  next.Apply(TopicCmd(CommandType::kCreateTopic, "v"));
  EXPECT_NE(next.follower_results.at(0).topic_id, h.sm.GetTopic("t", 0)->topic_id);
}

TEST(TopicSnapshotTest, VersionOneWithoutTopicsIsStillRead) {
  Harness h;
  h.Create("q");
  h.Send("q", Strings({"a"}));
  std::string v2 = h.sm.Snapshot();
  // A version 1 body is a version 2 body without the topic section (three zero varints
  // when there are no topics).
  ASSERT_EQ(v2.substr(v2.size() - 3), std::string(3, '\0'));
  std::string v1 = v2.substr(0, v2.size() - 3);
  v1[4] = 1;
  Reseal(v1);
  Result<std::unique_ptr<StateMachine>> restored = StateMachine::Restore(v1);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->Snapshot(), v2);
  v2[4] = 1;  // a version 1 header with the topic section is trailing bytes
  Reseal(v2);
  EXPECT_EQ(StateMachine::Restore(v2).status().code(), ErrorCode::kCorruption);
}

TEST(TopicSnapshotTest, EveryTruncationAndByteFlipIsRefused) {
  std::string snapshot = SomeTopicSnapshot();
  ASSERT_GT(snapshot.size(), 100u);
  for (size_t n = 0; n < snapshot.size(); ++n) {
    ASSERT_EQ(StateMachine::Restore(snapshot.substr(0, n)).status().code(), ErrorCode::kCorruption);
  }
  for (size_t i = 0; i < snapshot.size(); ++i) {
    std::string bad = snapshot;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    ASSERT_EQ(StateMachine::Restore(bad).status().code(), ErrorCode::kCorruption) << i;
  }
}

TEST(TopicSnapshotTest, MalformedContentBehindAGoodChecksumIsRefusedOrHarmless) {
  const std::string snapshot = SomeTopicSnapshot();
  std::mt19937_64 rng(5);
  for (int i = 0; i < 1'500; ++i) {
    std::string bad = snapshot;
    size_t at = 17 + rng() % (bad.size() - 17);
    if (rng() % 3 == 0) {
      bad.erase(at, 1);
    } else {
      bad[at] = static_cast<char>(rng());
    }
    Reseal(bad);
    Result<std::unique_ptr<StateMachine>> restored = StateMachine::Restore(bad);
    if (!restored.ok()) {
      ASSERT_EQ(restored.status().code(), ErrorCode::kCorruption);
      continue;
    }
    StateMachine& sm = **restored;
    Harness h;
    h.keep_payloads = false;
    h.followers = {&sm};
    h.index = sm.last_applied_index();
    h.now_ms = sm.last_applied_time_ms();
    TopicGenerator gen(i);
    for (int k = 0; k < 30; ++k) {
      h.now_ms += gen.Step();
      h.Apply(gen.Next(h.now_ms));
    }
    ObserveMachine(sm, h.now_ms);
    ASSERT_TRUE(StateMachine::Restore(sm.Snapshot()).ok()) << i;
  }
}

}  // namespace
}  // namespace cmq::mq
