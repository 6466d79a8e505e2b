// Publishing: validation, ids, fan-out to queue subscriptions (one body in the log, one
// queue message per copy), drops when an endpoint queue cannot take a copy.
#include <gtest/gtest.h>

#include <set>

#include "mq/limits.h"
#include "unit/mq/harness.h"

namespace cmq::mq {
namespace {

using testing::Harness;
using testing::NumberedName;
using testing::Strings;
using testing::TopicCmd;

TEST(PublishTest, FanOutGivesEveryQueueTheMessageWithTheSameBodyLocation) {
  Harness h;
  h.CreateTopic("t");
  constexpr int kQueues = 5;
  for (int i = 0; i < kQueues; ++i) {
    h.Create(NumberedName(i));
    ASSERT_TRUE(h.Subscribe("t", NumberedName(i), "queue", NumberedName(i)).status.ok());
  }
  ApplyResult published = h.Publish("t", Strings({"first", "second"}));
  ASSERT_TRUE(published.status.ok()) << published.status.ToString();
  ASSERT_EQ(published.msg_ids.size(), 2u);
  EXPECT_EQ(published.queues_fed.size(), static_cast<size_t>(kQueues));
  std::set<uint64_t> ids(published.msg_ids.begin(), published.msg_ids.end());
  std::vector<BodyLocation> first_bodies;
  for (int i = 0; i < kQueues; ++i) {
    ApplyResult r = h.Receive(NumberedName(i), 16);
    ASSERT_EQ(r.messages.size(), 2u);
    EXPECT_EQ(h.Bodies(r), Strings({"first", "second"}));
    first_bodies.push_back(r.messages[0].body);
    for (const ReceivedMessage& m : r.messages) EXPECT_TRUE(ids.insert(m.msg_id).second);
  }
  // The body is stored once, in the publish entry.
  for (const BodyLocation& b : first_bodies) EXPECT_EQ(b, first_bodies[0]);
  EXPECT_EQ(first_bodies[0].log_index, h.index - kQueues);
  EXPECT_EQ(h.sm.GetTopic("t", h.now_ms)->msg_count, 0u);  // queue copies are not held
}

TEST(PublishTest, IdsComeFromTheSequenceOfQueueMessagesAndNeverRepeat) {
  Harness h;
  h.Create("q");
  h.CreateTopic("t");
  h.Subscribe("t", "s", "http", "http://x/");
  uint64_t sent = h.Send("q", Strings({"a"})).msg_ids.at(0);
  ApplyResult published = h.Publish("t", Strings({"b", "c"}));
  EXPECT_EQ(published.msg_ids, (std::vector<uint64_t>{sent + 1, sent + 2}));
  EXPECT_EQ(published.msg_ids[0] >> 48, 7u);  // the group id
  EXPECT_EQ(h.Send("q", Strings({"d"})).msg_ids.at(0), sent + 3);
}

TEST(PublishTest, BadPublishesAreRefusedWholeAndMintNothing) {
  Harness h;
  h.CreateTopic("t", std::nullopt, 1024);
  h.Subscribe("t", "s", "http", "http://x/");
  EXPECT_EQ(h.Publish("nope", Strings({"a"})).status.code(), ErrorCode::kTopicNotExist);
  EXPECT_EQ(h.Publish("t", {}).status.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.Publish("t", std::vector<std::string>(17, "a")).status.code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.Publish("t", Strings({"a", ""})).status.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.Publish("t", {std::string(1025, 'x')}).status.code(), ErrorCode::kMessageTooLarge);
  EXPECT_NE(h.Publish("t", Strings({"a"}), std::vector<std::string>(6, "t"))
                .status.message()
                .find("msgTag"),
            std::string::npos);
  EXPECT_EQ(h.Publish("t", Strings({"a"}), {std::string(17, 't')}).status.code(),
            ErrorCode::kInvalidArgument);
  EXPECT_NE(
      h.Publish("t", Strings({"a"}), {}, std::string(65, 'k')).status.message().find("routingKey"),
      std::string::npos);
  EXPECT_EQ(h.Publish("t", Strings({"a"}), {}, "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q").status.code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.sm.GetSubscription("t", "s", h.now_ms)->msg_count, 0u);
  EXPECT_EQ(h.Publish("t", Strings({"a"})).msg_ids.at(0), (uint64_t{7} << 48) | 1);
}

TEST(PublishTest, BatchOverOneMebibyteIsRefused) {
  Harness h;
  h.CreateTopic("t", std::nullopt, 1'048'576);
  h.Subscribe("t", "s", "http", "http://x/");
  std::vector<std::string> bodies(2, std::string(524'289, 'x'));
  EXPECT_EQ(h.Publish("t", bodies).status.code(), ErrorCode::kBatchTooLarge);
}

TEST(PublishTest, CopiesToAGoneOrTooSmallOrFullQueueAreDroppedAndCounted) {
  Harness h;
  h.CreateTopic("t", std::nullopt, 1'048'576);
  for (const char* q : {"gone", "small", "ok"}) {
    h.Create(q);
    h.Subscribe("t", q, "queue", q);
  }
  QueueAttributeUpdate small;
  small.max_msg_size = 1024;
  h.SetAttributes("small", small);
  h.DeleteQueue("gone");
  ApplyResult r = h.Publish("t", {std::string(2000, 'x'), "tiny"});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.queues_fed, Strings({"ok", "small"}));
  EXPECT_EQ(h.SubInfo("t", "gone").dropped_msg_count, 2u);
  EXPECT_EQ(h.SubInfo("t", "small").dropped_msg_count, 1u);
  EXPECT_EQ(h.SubInfo("t", "ok").dropped_msg_count, 0u);
  EXPECT_EQ(h.Info("small").active_msg_num, 1u);
  EXPECT_EQ(h.Info("ok").active_msg_num, 2u);
  // A queue re-created under the same name is fed again.
  h.Create("GONE");
  EXPECT_EQ(h.Publish("t", Strings({"b"})).queues_fed, Strings({"gone", "ok", "small"}));
}

TEST(PublishTest, AFullQueueDropsItsCopyWhileOthersGetTheirs) {
  Harness h;
  h.keep_payloads = false;
  h.CreateTopic("t");
  QueueAttributeUpdate full;
  full.max_msg_heap_num = kMaxMsgHeapNumMin;
  h.Create("full", full);
  h.Create("other");
  h.Subscribe("t", "a", "queue", "full");
  h.Subscribe("t", "b", "queue", "other");
  // Fill "full" to its limit: sends applied straight to the machine, all bodies viewing one
  // payload (the harness's encode/decode per command would take long under sanitizers).
  const std::string payload = "x";
  Command send = testing::Cmd(CommandType::kSendMessages, "full");
  send.bodies.assign(16, std::string_view(payload));
  for (int64_t i = 0; i < kMaxMsgHeapNumMin / 16; ++i) {
    ASSERT_TRUE(h.sm.Apply(send, ApplyContext{h.now_ms, h.index, payload}).status.ok());
  }
  ApplyResult r = h.Publish("t", Strings({"y"}));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.queues_fed, Strings({"other"}));
  EXPECT_EQ(h.SubInfo("t", "a").dropped_msg_count, 1u);
}

TEST(PublishTest, TwoSubscriptionsOfOneQueueGiveItTwoCopies) {
  Harness h;
  h.CreateTopic("t");
  h.Create("q");
  h.Subscribe("t", "s1", "queue", "q");
  h.Subscribe("t", "s2", "queue", "Q");
  ApplyResult r = h.Publish("t", Strings({"m"}));
  EXPECT_EQ(r.queues_fed, Strings({"q"}));
  EXPECT_EQ(h.Info("q").active_msg_num, 2u);
}

}  // namespace
}  // namespace cmq::mq
