#include <gtest/gtest.h>

#include "mq/limits.h"
#include "unit/mq/harness.h"

namespace cmq::mq {
namespace {

using testing::Harness;

TEST(QueueCatalogTest, CreateReturnsAnIdAndDefaults) {
  Harness h;
  ApplyResult r = h.Create("orders");
  ASSERT_TRUE(r.status.ok());
  EXPECT_TRUE(r.queue_id.starts_with("queue-"));
  QueueInfo info = h.Info("orders");
  EXPECT_EQ(info.queue_id, r.queue_id);
  EXPECT_EQ(info.queue_name, "orders");
  EXPECT_EQ(info.attributes.max_msg_heap_num, kMaxMsgHeapNumDefault);
  EXPECT_EQ(info.attributes.polling_wait_seconds, kPollingWaitSecondsDefault);
  EXPECT_EQ(info.attributes.visibility_timeout, kVisibilityTimeoutDefault);
  EXPECT_EQ(info.attributes.max_msg_size, kMaxMsgSizeDefault);
  EXPECT_EQ(info.attributes.msg_retention_seconds, kMsgRetentionSecondsDefault);
  EXPECT_EQ(info.attributes.rewind_seconds, kRewindSecondsDefault);
  EXPECT_EQ(info.create_time_s, testing::kStartMs / 1000);
  EXPECT_EQ(info.last_modify_time_s, testing::kStartMs / 1000);
  EXPECT_EQ(info.active_msg_num + info.inactive_msg_num + info.delay_msg_num, 0u);
  EXPECT_EQ(info.min_msg_time_s, 0);
}

TEST(QueueCatalogTest, GetAttributesMatchesGetQueueAndMissesUnknownQueues) {
  Harness h;
  ASSERT_TRUE(h.Create("Orders").status.ok());
  auto attrs = h.sm.GetAttributes("ORDERS");
  ASSERT_TRUE(attrs.has_value());
  EXPECT_EQ(attrs->visibility_timeout, h.Info("orders").attributes.visibility_timeout);
  EXPECT_EQ(attrs->polling_wait_seconds, kPollingWaitSecondsDefault);
  EXPECT_FALSE(h.sm.GetAttributes("nope").has_value());
}

TEST(QueueCatalogTest, DuplicateNameIsRefusedCaseInsensitively) {
  Harness h;
  ASSERT_TRUE(h.Create("Orders").status.ok());
  EXPECT_EQ(h.Create("Orders").status.code(), ErrorCode::kQueueExists);
  EXPECT_EQ(h.Create("oRDERS").status.code(), ErrorCode::kQueueExists);
  EXPECT_TRUE(h.sm.QueueExists("ORDERS"));
  EXPECT_EQ(h.Info("orders").queue_name, "Orders");  // as created
}

TEST(QueueCatalogTest, InvalidNamesAreRefused) {
  Harness h;
  for (std::string name : {std::string(""), std::string("1abc"), std::string("-a"),
                           std::string("_a"), std::string("a b"), std::string("a.b"),
                           std::string("ä"), std::string(65, 'a'), std::string("a\0b", 3)}) {
    ApplyResult r = h.Create(name);
    EXPECT_EQ(r.status.code(), ErrorCode::kInvalidArgument) << name;
    EXPECT_NE(r.status.message().find("queueName"), std::string::npos);
  }
  EXPECT_EQ(h.sm.ListQueues("", 0, 100).total_count, 0u);
}

TEST(QueueCatalogTest, ValidNameEdgesAreAccepted) {
  Harness h;
  EXPECT_TRUE(h.Create("a").status.ok());
  EXPECT_TRUE(h.Create(std::string(64, 'z')).status.ok());
  EXPECT_TRUE(h.Create("Q-1_x").status.ok());
}

TEST(QueueCatalogTest, QueueIdsAreNeverReused) {
  Harness h;
  std::string first = h.Create("a").queue_id;
  ASSERT_TRUE(h.DeleteQueue("a").status.ok());
  std::string second = h.Create("a").queue_id;
  EXPECT_NE(first, second);
  EXPECT_NE(h.Create("b").queue_id, second);
}

TEST(QueueCatalogTest, QueueIdsDifferAcrossGroups) {
  Harness g1(1);
  Harness g2(2);
  EXPECT_NE(g1.Create("a").queue_id, g2.Create("a").queue_id);
}

struct RangeCase {
  const char* name;
  std::optional<int64_t> QueueAttributeUpdate::*field;
  int64_t min;
  int64_t max;
};

const RangeCase kRanges[] = {
    {"maxMsgHeapNum", &QueueAttributeUpdate::max_msg_heap_num, kMaxMsgHeapNumMin,
     kMaxMsgHeapNumMax},
    {"pollingWaitSeconds", &QueueAttributeUpdate::polling_wait_seconds, kPollingWaitSecondsMin,
     kPollingWaitSecondsMax},
    {"visibilityTimeout", &QueueAttributeUpdate::visibility_timeout, kVisibilityTimeoutMin,
     kVisibilityTimeoutMax},
    {"maxMsgSize", &QueueAttributeUpdate::max_msg_size, kMaxMsgSizeMin, kMaxMsgSizeMax},
    {"msgRetentionSeconds", &QueueAttributeUpdate::msg_retention_seconds, kMsgRetentionSecondsMin,
     kMsgRetentionSecondsMax},
    {"rewindSeconds", &QueueAttributeUpdate::rewind_seconds, kRewindSecondsMin, kRewindSecondsMax},
};

TEST(QueueCatalogTest, AttributeRangesAreEnforcedOnCreateAndNamed) {
  Harness h;
  int n = 0;
  for (const RangeCase& c : kRanges) {
    for (int64_t bad : {c.min - 1, c.max + 1}) {
      QueueAttributeUpdate u;
      u.*c.field = bad;
      ApplyResult r = h.Create(testing::NumberedName(n++), u);
      EXPECT_EQ(r.status.code(), ErrorCode::kInvalidArgument) << c.name << " " << bad;
      EXPECT_NE(r.status.message().find(c.name), std::string::npos) << r.status.message();
    }
    for (int64_t good : {c.min, c.max}) {
      QueueAttributeUpdate u;
      u.*c.field = good;
      if (c.field == &QueueAttributeUpdate::rewind_seconds) u.msg_retention_seconds = c.max;
      EXPECT_TRUE(h.Create(testing::NumberedName(n++), u).status.ok()) << c.name << " " << good;
    }
  }
}

TEST(QueueCatalogTest, RewindMayNotExceedRetention) {
  Harness h;
  QueueAttributeUpdate u;
  u.msg_retention_seconds = 100;
  u.rewind_seconds = 101;
  EXPECT_EQ(h.Create("q", u).status.code(), ErrorCode::kInvalidArgument);
  u.rewind_seconds = 100;
  ASSERT_TRUE(h.Create("q", u).status.ok());
  QueueAttributeUpdate lower;
  lower.msg_retention_seconds = 99;
  ApplyResult r = h.SetAttributes("q", lower);
  EXPECT_EQ(r.status.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("rewindSeconds"), std::string::npos);
  EXPECT_EQ(h.Info("q").attributes.msg_retention_seconds, 100);
}

TEST(QueueCatalogTest, SetUpdatesOnlyPresentFieldsAndModifyTime) {
  Harness h;
  ASSERT_TRUE(h.Create("q").status.ok());
  h.now_ms += 5'000;
  QueueAttributeUpdate u;
  u.visibility_timeout = 99;
  ASSERT_TRUE(h.SetAttributes("q", u).status.ok());
  QueueInfo info = h.Info("q");
  EXPECT_EQ(info.attributes.visibility_timeout, 99);
  EXPECT_EQ(info.attributes.max_msg_size, kMaxMsgSizeDefault);
  EXPECT_EQ(info.create_time_s, testing::kStartMs / 1000);
  EXPECT_EQ(info.last_modify_time_s, testing::kStartMs / 1000 + 5);
}

TEST(QueueCatalogTest, FailedSetChangesNothing) {
  Harness h;
  ASSERT_TRUE(h.Create("q").status.ok());
  h.now_ms += 5'000;
  QueueAttributeUpdate u;
  u.visibility_timeout = 99;
  u.max_msg_size = 1;
  EXPECT_EQ(h.SetAttributes("q", u).status.code(), ErrorCode::kInvalidArgument);
  QueueInfo info = h.Info("q");
  EXPECT_EQ(info.attributes.visibility_timeout, kVisibilityTimeoutDefault);
  EXPECT_EQ(info.last_modify_time_s, testing::kStartMs / 1000);
}

TEST(QueueCatalogTest, CommandsOnAMissingQueueAnswerQueueNotExist) {
  Harness h;
  EXPECT_EQ(h.SetAttributes("nope", {}).status.code(), ErrorCode::kQueueNotExist);
  EXPECT_EQ(h.DeleteQueue("nope").status.code(), ErrorCode::kQueueNotExist);
  EXPECT_EQ(h.Send("nope", {"x"}).status.code(), ErrorCode::kQueueNotExist);
  EXPECT_EQ(h.Receive("nope").status.code(), ErrorCode::kQueueNotExist);
  EXPECT_EQ(h.Delete("nope", {1}).status.code(), ErrorCode::kQueueNotExist);
  EXPECT_EQ(h.Rewind("nope", 0).status.code(), ErrorCode::kQueueNotExist);
  EXPECT_EQ(h.sm.GetQueue("nope", h.now_ms).status().code(), ErrorCode::kQueueNotExist);
  EXPECT_FALSE(h.sm.HasVisibleMessage("nope", h.now_ms));
  EXPECT_FALSE(h.sm.NextDueMs("nope").has_value());
}

TEST(QueueCatalogTest, DeleteDropsTheQueueAndItsMessages) {
  Harness h;
  ASSERT_TRUE(h.Create("q").status.ok());
  ASSERT_TRUE(h.Send("q", {"a", "b"}).status.ok());
  EXPECT_EQ(h.sm.message_count(), 2u);
  ASSERT_TRUE(h.DeleteQueue("Q").status.ok());
  EXPECT_FALSE(h.sm.QueueExists("q"));
  EXPECT_EQ(h.sm.message_count(), 0u);
  ASSERT_TRUE(h.Create("q").status.ok());
  EXPECT_EQ(h.Receive("q").status.code(), ErrorCode::kNoMessage);
}

TEST(QueueCatalogTest, QueueCountIsLimited) {
  Harness h;
  for (uint32_t i = 0; i < kMaxQueues; ++i) {
    ASSERT_TRUE(h.Create(testing::NumberedName(i)).status.ok());
  }
  EXPECT_EQ(h.Create("one-more").status.code(), ErrorCode::kQueueLimitReached);
  ASSERT_TRUE(h.DeleteQueue("q0").status.ok());
  EXPECT_TRUE(h.Create("one-more").status.ok());
}

TEST(QueueCatalogTest, ListSearchesCaseInsensitivelySortsAndPages) {
  Harness h;
  for (const char* name : {"beta", "Alpha", "alphabet", "gamma", "ALPHA-2"}) {
    ASSERT_TRUE(h.Create(name).status.ok());
  }
  QueueListing all = h.sm.ListQueues("", 0, 100);
  EXPECT_EQ(all.total_count, 5u);
  std::vector<std::string> names;
  for (const auto& [id, name] : all.queues) names.push_back(name);
  EXPECT_EQ(names, testing::Strings({"Alpha", "ALPHA-2", "alphabet", "beta", "gamma"}));

  QueueListing page = h.sm.ListQueues("lPh", 1, 1);
  EXPECT_EQ(page.total_count, 3u);
  ASSERT_EQ(page.queues.size(), 1u);
  EXPECT_EQ(page.queues[0].second, "ALPHA-2");
  EXPECT_EQ(page.queues[0].first, h.Info("ALPHA-2").queue_id);

  EXPECT_EQ(h.sm.ListQueues("alpha", 3, 10).queues.size(), 0u);
  EXPECT_EQ(h.sm.ListQueues("alpha", 3, 10).total_count, 3u);
  EXPECT_EQ(h.sm.ListQueues("zzz", 0, 10).total_count, 0u);
  EXPECT_EQ(h.sm.ListQueues("", 0, 0).queues.size(), 0u);
}

}  // namespace
}  // namespace cmq::mq
